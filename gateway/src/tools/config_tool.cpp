#include "tools/config_tool.h"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <thread>
#include <mutex>

#include "foggate/gateway/config.h"
#include "foggate/protocols/config_envelope.h"
#include "foggate/protocols/json.h"
#include "foggate/protocols/mqtt_client.h"
#include "tools/exit_codes.h"
#include "tools/tool_client.h"
#include "tools/tool_connection.h"

namespace foggate::gateway {
namespace {

int fail(const std::string& what, int code = kExitFailure) {
  std::fprintf(stderr, "foggate config: %s\n", what.c_str());
  return code;
}

std::unique_ptr<protocols::MqttClient> connect(const protocols::MqttOptions& server, long timeout_s,
                                               std::vector<protocols::MqttSubscription> subs,
                                               protocols::MqttClient::MessageHandler on_message) {
  return connect_tool_client(server, "config", timeout_s, std::move(subs), std::move(on_message));
}

int push(const ConfigToolOptions& o) {
  if (o.section.empty() || o.target.empty() || (o.file.empty() && !o.remove))
    return fail("push needs --section, --target (a gateway id or all) and --file (or --remove); see --help", kExitUsage);
  if (!is_remote_section(o.section))
    return fail("'" + o.section + "' is not a section that can be set remotely", kExitUsage);
  protocols::ConfigEnvelope e;
  e.section = o.section;
  e.target = o.target;
  e.enveloped = true;
  e.version = o.version ? o.version
                        : static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                    std::chrono::system_clock::now().time_since_epoch())
                                                    .count());
  if (!o.remove) {
    std::ifstream in(o.file, std::ios::binary);
    if (!in) return fail("cannot read " + o.file);
    e.body.assign(std::istreambuf_iterator<char>(in), {});
    // Check it before it goes out: the gateway would reject it anyway.
    auto doc = protocols::parse_json(e.body);
    if (!doc) return fail(o.file + ": " + doc.error().detail, kExitConfig);
    Config scratch = default_config();
    ConfigIssues issues;
    replace_section(scratch, o.section, *doc, issues);
    if (!issues.empty()) return fail(o.file + " is not a valid " + o.section + " section:\n" + format_issues(issues), kExitConfig);
  }
  if (!o.sign_key.empty()) {
    auto signer = protocols::ConfigSigner::from_file(o.sign_key);
    if (!signer) return fail(signer.error().detail);
    if (auto r = (*signer)->sign(e); !r) return fail(r.error().detail);
  }
  auto client = connect(o.server, o.timeout_s, {}, nullptr);
  if (!client) return fail("cannot connect to " + describe_uris(o.server));
  const std::string topic = "foggate/" + o.target + "/config/" + o.section;
  std::mutex mu;
  std::condition_variable cv;
  int done = 0;  // 1 ok, -1 failed
  auto r = client->publish_tracked(
      topic, protocols::make_config_envelope(e), 1,
      [&](bool ok) {
        std::lock_guard lock(mu);
        done = ok ? 1 : -1;
        cv.notify_all();
      },
      /*retained=*/true);
  if (!r) return fail("publish refused: " + r.error().detail);
  std::unique_lock lock(mu);
  cv.wait_for(lock, std::chrono::seconds(o.timeout_s), [&] { return done != 0; });
  lock.unlock();
  client->stop(2000);
  if (done != 1) return fail("no acknowledgement from the broker");
  std::printf("pushed %s version %llu to %s (%s)\n", o.section.c_str(), static_cast<unsigned long long>(e.version),
              topic.c_str(), std::string(protocols::to_string(e.alg)).c_str());
  return 0;
}

int pull(const ConfigToolOptions& o) {
  if (o.target.empty()) return fail("pull needs --id (the gateway id); see --help", kExitUsage);
  std::mutex mu;
  std::map<std::string, std::string> got;  // topic -> payload; guarded by mu
  const std::string state_topic = "foggate/" + o.target + "/state/config";
  auto client = connect(o.server, o.timeout_s,
                        {{state_topic, 1}, {"foggate/" + o.target + "/config/+", 1}, {"foggate/all/config/+", 1}},
                        [&](const std::string& t, const std::string& p, bool) {
                          std::lock_guard lock(mu);
                          got[t] = p;
                        });
  if (!client) return fail("cannot connect to " + describe_uris(o.server));
  // Retained messages arrive right after the SUBACK; give them a moment.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  client->stop(1000);
  std::lock_guard lock(mu);
  auto st = got.find(state_topic);
  if (st == got.end()) return fail("no state published by gateway " + o.target + " (is it running, and its id right?)");
  auto state = protocols::parse_json(st->second);
  if (!state) return fail("unreadable state document");
  std::string out = "{\"state\":" + st->second + ",\"in_force\":{";
  bool first = true;
  const auto* sections = state->find("sections");
  for (const auto& [name, sec] : sections ? sections->members() : std::vector<protocols::JsonValue::Member>{}) {
    const auto* layer = sec.find("layer");
    if (layer == nullptr || !layer->is_string() || layer->as_string() == "file") continue;
    const std::string topic =
        "foggate/" + (layer->as_string() == "all" ? std::string("all") : o.target) + "/config/" + name;
    auto it = got.find(topic);
    if (it == got.end()) continue;
    auto env = protocols::parse_config_envelope(it->second);
    if (!env) continue;
    if (!first) out += ',';
    first = false;
    protocols::append_json_string(out, name);
    out += ':';
    out += env->body;
  }
  out += "}}\n";
  std::fputs(out.c_str(), stdout);
  return 0;
}

}  // namespace

int run_config_tool(const ConfigToolOptions& o) {
  if (o.action == "push") return push(o);
  if (o.action == "pull") return pull(o);
  return fail("unknown action '" + o.action + "'; use push or pull", kExitUsage);
}

}  // namespace foggate::gateway
