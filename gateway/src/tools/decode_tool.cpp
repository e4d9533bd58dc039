#include "tools/decode_tool.h"

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <mutex>

#include "foggate/protocols/mqtt_client.h"
#include "foggate/protocols/uplink_codec.h"
#include "tools/tool_connection.h"

namespace foggate::gateway {
namespace {

// Prints one batch; false (with a message on stderr) when it does not decode.
bool print_batch(std::string_view bytes, const std::string& where, long max_bytes) {
  protocols::DecodeBatchLimits limits;
  limits.max_output_bytes = static_cast<std::size_t>(max_bytes);
  auto records = protocols::decode_batch(bytes, limits);
  if (!records) {
    std::fprintf(stderr, "foggate decode: %s: %s: %s\n", where.c_str(), records.error().reason.c_str(),
                 records.error().detail.c_str());
    return false;
  }
  std::string out;
  for (const auto& r : *records) {
    out += protocols::to_json(r);
    out += '\n';
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  return true;
}

int decode_files(const DecodeToolOptions& o) {
  bool ok = true;
  std::vector<std::string> files = o.files.empty() ? std::vector<std::string>{"-"} : o.files;
  for (const auto& f : files) {
    std::string bytes;
    if (f == "-") {
      bytes.assign(std::istreambuf_iterator<char>(std::cin), {});
    } else {
      std::ifstream in(f, std::ios::binary);
      if (!in) {
        std::fprintf(stderr, "foggate decode: cannot read %s\n", f.c_str());
        ok = false;
        continue;
      }
      bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    ok &= print_batch(bytes, f == "-" ? "stdin" : f, o.max_bytes);
  }
  return ok ? 0 : 1;
}

int decode_subscription(const DecodeToolOptions& o) {
  protocols::MqttOptions mo = *o.server;
  mo.client_id = "foggate-decode-" + std::to_string(::getpid());
  mo.clean_session = true;
  mo.max_buffered = 0;
  protocols::MqttClient client(mo, SystemClock::instance());
  client.set_subscriptions({{o.topic, 1}});
  std::mutex mu;
  std::condition_variable cv;
  long batches = 0;
  bool failed = false;
  client.on_message([&](const std::string& topic, const std::string& payload, bool) {
    const bool ok = print_batch(payload, topic, o.max_bytes);
    std::lock_guard lock(mu);
    ++batches;
    failed |= !ok;
    cv.notify_all();
  });
  if (auto r = client.start(); !r) {
    std::fprintf(stderr, "foggate decode: %s\n", r.error().detail.c_str());
    return 1;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.timeout_s);
  std::unique_lock lock(mu);
  while (o.count == 0 || batches < o.count) {
    if (o.timeout_s > 0 && std::chrono::steady_clock::now() >= deadline) break;
    cv.wait_for(lock, std::chrono::milliseconds(100));
    lock.unlock();
    client.tick();  // reconnects if the broker goes away
    lock.lock();
  }
  lock.unlock();
  const bool never_connected = client.stats().connects.value() == 0;
  client.stop(1000);
  if (never_connected) {
    std::fprintf(stderr, "foggate decode: cannot connect to %s\n", describe_uris(mo).c_str());
    return 1;
  }
  return failed ? 1 : 0;
}

}  // namespace

int run_decode_tool(const DecodeToolOptions& options) {
  return options.server ? decode_subscription(options) : decode_files(options);
}

}  // namespace foggate::gateway
