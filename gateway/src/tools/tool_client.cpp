#include "tools/tool_client.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "foggate/base/clock.h"

namespace foggate::gateway {

std::unique_ptr<protocols::MqttClient> connect_tool_client(const protocols::MqttOptions& server, const std::string& tool,
                                                           long timeout_s,
                                                           std::vector<protocols::MqttSubscription> subs,
                                                           protocols::MqttClient::MessageHandler on_message) {
  protocols::MqttOptions mo = server;
  mo.client_id = "foggate-" + tool + "-" + std::to_string(::getpid());
  mo.clean_session = true;
  auto c = std::make_unique<protocols::MqttClient>(mo, SystemClock::instance());
  c->set_subscriptions(std::move(subs));
  auto ready = std::make_shared<std::atomic<bool>>(false);
  c->on_connected([ready](bool) { *ready = true; });
  if (on_message) c->on_message(std::move(on_message));
  if (!c->start()) return nullptr;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (!*ready && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // poll interval
    c->tick();
  }
  return *ready ? std::move(c) : nullptr;
}

}  // namespace foggate::gateway
