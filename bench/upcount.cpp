// foggate-upcount: the cloud side of the backlog benchmark (S5 in
// scripts/bench.sh): subscribes to foggate's uplink batches on the upstream
// broker, decodes each one to count its messages, and reports when the
// batches arrived, so the drain rate is measured where the data lands.
//
//   foggate-upcount --uri tcp://127.0.0.1:P --timeout S [--idle S] [--client-id ID]
//
// Prints "READY" once subscribed, then one RESULT line when --idle seconds
// (default 2) pass without a batch after the first, or after --timeout
// seconds: msgs, batches, bytes (payload + topic),
// the span from the first to the last batch, undecodable batches.
// Measures, asserts nothing.
#include <mqtt/async_client.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "foggate/protocols/uplink_codec.h"

namespace {

using Steady = std::chrono::steady_clock;

class Counter final : public mqtt::callback {
 public:
  // Keeps the payload only: decoding a batch (~1 ms) here would hold up the
  // next arrival and be measured as drain time. Decoded in print().
  void message_arrived(mqtt::const_message_ptr msg) override {
    const auto now = Steady::now();
    try {
      std::lock_guard lock(mu_);
      if (payloads_.empty()) first_ = now;
      last_ = now;
      bytes_ += msg->get_payload().size() + msg->get_topic().size();
      payloads_.push_back(msg->get_payload_str());
    } catch (...) {  // never into Paho's C thread
    }
  }

  std::optional<Steady::time_point> last_arrival() {
    std::lock_guard lock(mu_);
    if (payloads_.empty()) return std::nullopt;
    return last_;
  }

  void print() {
    std::lock_guard lock(mu_);
    uint64_t msgs = 0, undecodable = 0;
    for (const auto& p : payloads_) {
      if (const auto decoded = foggate::protocols::decode_batch(p)) msgs += decoded->size();
      else ++undecodable;
    }
    const double span_ms =
        payloads_.size() > 1 ? std::chrono::duration<double, std::milli>(last_ - first_).count() : 0.0;
    std::printf("RESULT msgs=%llu batches=%zu bytes=%llu span_ms=%.1f undecodable=%llu\n",
                static_cast<unsigned long long>(msgs), payloads_.size(), static_cast<unsigned long long>(bytes_),
                span_ms, static_cast<unsigned long long>(undecodable));
    std::fflush(stdout);
  }

 private:
  std::mutex mu_;
  std::vector<std::string> payloads_;  // guarded by mu_
  uint64_t bytes_ = 0;                 // guarded by mu_
  Steady::time_point first_, last_;    // guarded by mu_
};

constexpr const char* kUsage =
    "usage: foggate-upcount --uri URI --timeout S [--idle S] [--client-id ID]\n";

}  // namespace

int main(int argc, char** argv) {
  std::string uri, client_id = "foggate-upcount";
  double timeout_s = 60, idle_s = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--uri") uri = v;
    else if (a == "--timeout") timeout_s = std::atof(v.c_str());
    else if (a == "--client-id") client_id = v;
    else if (a == "--idle") idle_s = std::atof(v.c_str());
    else {
      std::fprintf(stderr, "%s", kUsage);
      return 2;
    }
  }
  if (uri.empty()) {
    std::fprintf(stderr, "%s", kUsage);
    return 2;
  }
  Counter counter;  // outlives the client that calls it
  try {
    mqtt::async_client client(uri, client_id);
    client.set_callback(counter);
    // A long keepalive: the broker may be paused (SIGSTOP) for a while.
    auto opts = mqtt::connect_options_builder().clean_session(true).keep_alive_interval(std::chrono::seconds(300))
                    .finalize();
    if (!client.connect(opts)->wait_for(std::chrono::seconds(10))) throw std::runtime_error("connect timed out");
    if (!client.subscribe("foggate/+/uplink/#", 1)->wait_for(std::chrono::seconds(10)))
      throw std::runtime_error("subscribe timed out");
    std::printf("READY\n");
    std::fflush(stdout);
    const auto until = Steady::now() + std::chrono::duration<double>(timeout_s);
    const auto idle = std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(idle_s));
    while (Steady::now() < until) {
      if (const auto last = counter.last_arrival(); last && Steady::now() - *last > idle) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    client.disconnect()->wait_for(std::chrono::seconds(2));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "foggate-upcount: %s\n", e.what());
    counter.print();
    return 1;
  }
  counter.print();
  return 0;
}
