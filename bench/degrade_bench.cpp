// foggate-degrade-bench (issue #15, part 3): a starved uplink for minutes of
// simulated time. The Uplink runs in this process on a clock that jumps one
// second per simulated second; a real upstream mosquitto (--uri) receives
// the batches, and this process counts them. Offered: --rate readings/s of
// `low` forward traffic from --devices devices; budget: --budget-pct of the
// offered topic+payload bytes. With --degrade off the policy is disabled
// (plain eviction, as before issue #15). After the span, the link goes on
// at the same budget with no new traffic for at most --drain-minutes, until
// every reading not evicted is upstream: what was held, not lost, arrives.
// Prints one RESULT line (the figures at the span's end, then after the drain).
//
//   foggate-degrade-bench --uri tcp://127.0.0.1:PORT --data DIR [--minutes 10] [--rate 500]
//       [--devices 100] [--budget-pct 1] [--spool-bytes 1048576] [--degrade on|off]
//       [--horizon-s 3600] [--window-s 300]     (uplink.degrade.low: horizon_s, window_s)
//       [--drain-minutes 20]
#include <mqtt/async_client.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "foggate/base/counter.h"
#include "foggate/gateway/config.h"
#include "foggate/protocols/uplink_codec.h"
#include "uplink/uplink.h"

namespace {

using namespace foggate;

class Cloud final : public mqtt::callback {
 public:
  void message_arrived(mqtt::const_message_ptr msg) override {
    try {
      std::lock_guard lock(mu_);
      bytes_ += msg->get_payload().size() + msg->get_topic().size();
      payloads_.push_back(msg->get_payload_str());
    } catch (...) {  // never into Paho's C thread
    }
  }
  // Readings represented: 1 per full reading, `count` of each "t" summary.
  void tally(uint64_t& bytes, uint64_t& full, uint64_t& summarized, uint64_t& summaries) {
    std::lock_guard lock(mu_);
    bytes = bytes_;
    for (const auto& p : payloads_) {
      auto recs = protocols::decode_batch(p);
      if (!recs) continue;
      for (const auto& r : *recs) {
        if (r.find("summary") == nullptr) {
          ++full;
        } else {
          ++summaries;
          const auto& pl = *r.find("payload");
          if (pl.find("field")->as_string() == "t") summarized += static_cast<uint64_t>(pl.find("count")->as_number());
        }
      }
    }
  }

 private:
  std::mutex mu_;
  std::vector<std::string> payloads_;  // guarded by mu_
  uint64_t bytes_ = 0;                 // guarded by mu_
};

double sample(const gateway::Uplink& u, std::string_view name) {
  MetricSink out;
  u.collect(out);
  double total = 0;
  for (const auto& s : out)
    if (s.name == name) total += s.value;
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  std::string uri, data = "/tmp/foggate-degrade-bench", degrade = "on";
  double minutes = 10, rate = 500, devices = 100, budget_pct = 1, spool_bytes = 1 << 20;
  double horizon_s = 3600, window_s = 300, drain_minutes = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--uri") uri = v;
    else if (a == "--data") data = v;
    else if (a == "--degrade") degrade = v;
    else if (a == "--minutes") minutes = std::atof(v.c_str());
    else if (a == "--rate") rate = std::atof(v.c_str());
    else if (a == "--devices") devices = std::atof(v.c_str());
    else if (a == "--budget-pct") budget_pct = std::atof(v.c_str());
    else if (a == "--spool-bytes") spool_bytes = std::atof(v.c_str());
    else if (a == "--horizon-s") horizon_s = std::atof(v.c_str());
    else if (a == "--window-s") window_s = std::atof(v.c_str());
    else if (a == "--drain-minutes") drain_minutes = std::atof(v.c_str());
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (uri.empty()) {
    std::fprintf(stderr, "--uri is required\n");
    return 2;
  }
  const int n_dev = static_cast<int>(devices), per_s = static_cast<int>(rate);
  // The offered bytes per second, from the readings themselves.
  auto payload_of = [](int i, int64_t ts) {
    char buf[96];
    std::snprintf(buf, sizeof buf, R"({"t":%.2f,"h":%.1f,"ts":%lld})", 20.0 + (i * 7 % 1000) / 100.0,
                  40.0 + (i % 300) / 10.0, static_cast<long long>(ts));
    return std::string(buf);
  };
  const double offered_per_s = per_s * (static_cast<double>(payload_of(0, 1'700'000'000'000).size()) + 22.0);
  const auto budget = static_cast<uint64_t>(offered_per_s * budget_pct / 100.0);
  std::string doc = R"({"gateway":{"id":"bench","data_dir":")" + data + R"("},"ingest":{"coap":{"enabled":false}},)"
                    R"("uplink":{"uris":[")" + uri + R"("],"commit_interval_ms":1000,)"
                    R"("batch":{"high":{"max_bytes":16384},"normal":{"max_bytes":16384},"low":{"max_bytes":16384}},"spool":{"max_bytes":)" +
                    std::to_string(static_cast<uint64_t>(spool_bytes)) + R"(},)"
                    R"("bandwidth":{"bytes_per_s":)" + std::to_string(budget) + R"(,"burst_bytes":16384})";
  if (degrade == "off") {
    doc += R"(,"degrade":{"low":{"enabled":false},"normal":{"enabled":false}})";
  } else {
    doc += R"(,"degrade":{"low":{"horizon_s":)" + std::to_string(static_cast<int64_t>(horizon_s)) +
           R"(,"window_s":)" + std::to_string(static_cast<int64_t>(window_s)) + "}}";
  }
  doc += "}}";
  auto cfg = gateway::parse_config(doc);
  if (!cfg) {
    std::fprintf(stderr, "%s\n", gateway::format_issues(cfg.error()).c_str());
    return 2;
  }
  Cloud cloud;
  mqtt::async_client sub(uri, "foggate-degrade-bench-cloud");
  sub.set_callback(cloud);
  sub.connect(mqtt::connect_options_builder().clean_session(true).finalize())->wait();
  sub.subscribe("foggate/+/uplink/#", 1)->wait();

  JumpClock clock;
  gateway::Uplink u(*cfg, clock);
  if (!u.start()) return 1;
  for (int i = 0; i < 500 && sample(u, "uplink_connected") != 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const int seconds = static_cast<int>(minutes * 60);
  uint64_t offered = 0, offered_bytes = 0;
  int64_t ts = 1'700'000'000'000;
  for (int s = 0; s < seconds; ++s) {
    for (int k = 0; k < per_s; ++k) {
      auto m = std::make_shared<Message>();
      const int dev = static_cast<int>(offered % static_cast<uint64_t>(n_dev));
      m->device = "dev-" + std::to_string(dev);
      m->topic = "sensors/" + m->device + "/env";
      ts += 1000 / std::max(1, per_s);
      m->payload = payload_of(static_cast<int>(offered), ts);
      m->format = PayloadFormat::kJson;
      m->fields = {{"t", 20.0 + (static_cast<int>(offered) * 7 % 1000) / 100.0},
                   {"h", 40.0 + (static_cast<int>(offered) % 300) / 10.0}, {"ts", static_cast<double>(ts)}};
      m->sensor_ts_ms = ts;
      m->received_ms = ts;
      offered_bytes += m->topic.size() + m->payload.size();
      ++offered;
      u.forward(std::move(m), Priority::kLow, 0);
    }
    clock.jump_ms(1000);
    // Bounded wait for the uplink thread's turn over this second's readings.
    for (int i = 0; i < 250 && sample(u, "uplink_inbox_depth") != 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(4));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  // Let the last sends of the simulated span arrive (no clock jump: no new tokens).
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const double evicted = sample(u, "spool_evicted_messages_total");
  const double expired = sample(u, "spool_expired_messages_total");
  const double refused = sample(u, "uplink_refused_total");
  const double sent_bytes = sample(u, "uplink_bytes_sent_total");
  uint64_t up_bytes = 0, full = 0, summarized = 0, summaries = 0;
  cloud.tally(up_bytes, full, summarized, summaries);
  const double limit = static_cast<double>(budget) * seconds + 16384;
  // Not yet upstream and not lost: in the spool or the open window.
  const double held =
      static_cast<double>(offered) - static_cast<double>(full + summarized) - evicted - expired - refused;

  // The drain: same budget, no traffic, until nothing is held (checked every
  // 10 simulated seconds) or the limit. The uplink's turns come at least
  // every 100 ms of real time; 5 ms per simulated second loses no tokens
  // (the 16 KiB burst holds 50 s of budget).
  uint64_t d_bytes = 0, d_full = 0, d_summarized = 0, d_summaries = 0;
  int drained_s = 0;
  const int drain_limit_s = static_cast<int>(drain_minutes * 60);
  for (;; ++drained_s) {
    if (drained_s % 10 == 0) {
      d_bytes = d_full = d_summarized = d_summaries = 0;
      cloud.tally(d_bytes, d_full, d_summarized, d_summaries);
      const double lost = sample(u, "spool_evicted_messages_total") + sample(u, "spool_expired_messages_total") + refused;
      if (static_cast<double>(d_full + d_summarized) + lost >= static_cast<double>(offered) || drained_s >= drain_limit_s)
        break;
    }
    clock.jump_ms(1000);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const double evicted_after = sample(u, "spool_evicted_messages_total");
  u.stop();  // seals and commits: what is left stays in the spool
  const double limit_after = static_cast<double>(budget) * (seconds + drained_s) + 16384;
  std::printf("RESULT degrade=%s seconds=%d offered=%llu offered_bytes=%llu budget_Bps=%llu limit_bytes=%.0f "
              "up_bytes=%llu acked_bytes=%.0f full=%llu summarized=%llu summaries=%llu represented_pct=%.2f "
              "evicted=%.0f expired=%.0f refused=%.0f held=%.0f "
              "drained_s=%d drain_up_bytes=%llu drain_limit_bytes=%.0f drain_represented_pct=%.2f drain_evicted=%.0f\n",
              degrade.c_str(), seconds, static_cast<unsigned long long>(offered),
              static_cast<unsigned long long>(offered_bytes), static_cast<unsigned long long>(budget), limit,
              static_cast<unsigned long long>(up_bytes), sent_bytes, static_cast<unsigned long long>(full),
              static_cast<unsigned long long>(summarized), static_cast<unsigned long long>(summaries),
              100.0 * static_cast<double>(full + summarized) / static_cast<double>(offered), evicted, expired, refused,
              held, drained_s, static_cast<unsigned long long>(d_bytes), limit_after,
              100.0 * static_cast<double>(d_full + d_summarized) / static_cast<double>(offered), evicted_after);
  sub.disconnect()->wait();
  return 0;
}
