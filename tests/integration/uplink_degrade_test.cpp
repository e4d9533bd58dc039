// Degrade, don't drop (issue #15): a real upstream mosquitto and a budget far
// below the traffic. The Uplink runs in this process on an injected clock
// that follows real time and can jump ahead (windows, horizons, commit
// ticks), so nothing waits for minutes; the kill -9 test runs the binary.
#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "fixture.h"
#include "foggate/base/counter.h"
#include "foggate/gateway/config.h"
#include "foggate/protocols/uplink_codec.h"
#include "uplink/uplink.h"

namespace foggate::itest {
namespace {

double sample(const gateway::Uplink& u, std::string_view name, std::string_view priority = "") {
  MetricSink out;
  u.collect(out);
  double total = 0;
  bool found = false;
  for (const auto& s : out) {
    if (s.name != name) continue;
    if (!priority.empty() &&
        std::none_of(s.labels.begin(), s.labels.end(), [&](const auto& l) { return l.second == priority; }))
      continue;
    total += s.value;
    found = true;
  }
  return found ? total : -1;
}

std::shared_ptr<const Message> reading(const std::string& device, double t, int64_t ts) {
  auto m = std::make_shared<Message>();
  m->topic = "sensors/" + device + "/temp";
  m->device = device;
  m->format = PayloadFormat::kJson;
  char buf[96];
  std::snprintf(buf, sizeof buf, R"({"t":%.2f,"ts":%lld})", t, static_cast<long long>(ts));
  m->payload = buf;
  m->fields = {{"t", t}, {"ts", static_cast<double>(ts)}};
  m->sensor_ts_ms = ts;
  m->received_ms = ts;
  return m;
}

// Every message upstream, decoded, each batch once (dedupe by seq: at least once).
std::vector<protocols::JsonValue> decoded(const std::vector<Received>& received) {
  std::vector<protocols::JsonValue> out;
  std::set<double> seen;
  for (const auto& m : received) {
    auto recs = protocols::decode_batch(m.payload);
    EXPECT_TRUE(recs) << m.topic << ": " << (recs ? "" : recs.error().detail);
    if (!recs || recs->empty()) continue;
    if (!seen.insert(recs->front().find("seq")->as_number()).second) continue;
    for (auto& r : *recs) out.push_back(std::move(r));
  }
  return out;
}

class UplinkDegradeTest : public ::testing::Test {
 protected:
  UplinkDegradeTest() : upstream_(dir_, {.name = "upstream"}) {}

  gateway::Config config(uint64_t bytes_per_s) {
    auto c = gateway::parse_config(
        // background_nice 0: the uplink thread runs in this test process,
        // and a niced thread behind a parallel ctest run misses the
        // simulated clock's steps.
        R"({"gateway":{"id":"gw1","background_nice":0,"data_dir":")" + dir_.file("data") + R"("},)"
        R"("broker":{"uris":["tcp://127.0.0.1:1"]},"ingest":{"coap":{"enabled":false}},)"
        R"("uplink":{"uris":[")" + upstream_.uri() + R"("],"commit_interval_ms":100,)"
        R"("batch":{"high":{"max_bytes":1024},"normal":{"max_bytes":1024},"low":{"max_bytes":1024}},)"
        R"("bandwidth":{"bytes_per_s":)" + std::to_string(bytes_per_s) + R"(,"burst_bytes":2048},)"
        R"("degrade":{"low":{"horizon_s":2,"window_s":60},"normal":{"horizon_s":600,"window_s":60}}}})");
    EXPECT_TRUE(c) << (c ? "" : gateway::format_issues(c.error()));
    return c ? *c : gateway::Config{};
  }

  // Jumps past a commit tick and waits until everything forwarded is durable.
  // (Readings in an open summary window are not durable until it closes.)
  // The uplink thread must have taken the whole inbox before the jump: a
  // tick seals only what that turn holds, and the frozen clock brings no
  // second tick for readings still in the inbox.
  void commit(gateway::Uplink& u) {
    ASSERT_TRUE(eventually([&] { return sample(u, "uplink_inbox_depth") == 0; }, 10s));
    clock_.jump_ms(150);
    ASSERT_TRUE(eventually([&] {
      return sample(u, "uplink_inbox_depth") == 0 &&
             sample(u, "uplink_uncommitted_messages") == sample(u, "uplink_window_readings");
    }, 10s));
  }

  TempDir dir_;
  Mosquitto upstream_;
  JumpClock clock_;
};

// A budget of 50 B/s against thousands of readings: low degrades first, then
// normal; critical and high never. The summaries' figures equal a reference
// computation over the same readings; with the budget lifted the uplink
// returns to full resolution; every low reading is represented upstream.
TEST_F(UplinkDegradeTest, StarvedUplinkSummarizesLowThenNormalAndRecovers) {
  Probe cloud(upstream_.uri());
  cloud.subscribe("foggate/gw1/uplink/#");
  auto cfg = config(50);
  gateway::Uplink u(cfg, clock_);
  ASSERT_TRUE(u.start());
  ASSERT_TRUE(eventually([&] { return sample(u, "uplink_connected") == 1; }, 10s));

  int64_t ts = 1'700'000'000'000;
  int forwarded_low = 0;
  int low_round = -1, normal_round = -1;
  constexpr int kMaxRounds = 200;
  for (int round = 0; round < kMaxRounds && normal_round < 0; ++round) {
    for (int i = 0; i < 20; ++i) {
      const std::string dev = "dev-" + std::to_string(i % 5);
      for (Priority p : kAllPriorities) {
        ASSERT_TRUE(u.forward(reading(dev, 20.0 + (round * 20 + i) % 37, ++ts), p, 0));
        if (p == Priority::kLow) ++forwarded_low;
      }
    }
    commit(u);
    if (low_round < 0 && sample(u, "uplink_degraded", "low") == 1) low_round = round;
    if (normal_round < 0 && sample(u, "uplink_degraded", "normal") == 1) normal_round = round;
    ASSERT_EQ(sample(u, "uplink_degraded", "critical"), 0);
    ASSERT_EQ(sample(u, "uplink_degraded", "high"), 0);
  }
  ASSERT_GE(low_round, 0) << "low never degraded";
  ASSERT_GE(normal_round, 0) << "normal never degraded";
  EXPECT_LT(low_round, normal_round) << "low degrades first";
  EXPECT_GT(sample(u, "uplink_summarized_readings_total", "low"), 0);
  EXPECT_EQ(sample(u, "uplink_summarized_readings_total", "critical"), 0);
  EXPECT_EQ(sample(u, "uplink_summarized_readings_total", "high"), 0);

  // Known readings while both degrade, with a reference computation.
  struct Ref {
    uint64_t count = 0;
    double min = 1e300, max = -1e300, sum = 0, first = 0, last = 0;
    int64_t first_ts = 0, last_ts = 0;
  };
  std::map<std::pair<std::string, std::string>, Ref> ref;  // (priority, device)
  uint64_t x = 0x2545F4914F6CDD1Dull;
  for (int i = 0; i < 300; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    const Priority p = i % 2 ? Priority::kLow : Priority::kNormal;
    const std::string dev = "ref-" + std::to_string(i % 3);
    const double t = static_cast<double>(static_cast<int64_t>(x % 20'000) - 10'000) / 100.0;
    auto& r = ref[{std::string(to_string(p)), dev}];
    ++ts;
    if (r.count++ == 0) {
      r.first = t;
      r.first_ts = ts;
    }
    r.min = std::min(r.min, t);
    r.max = std::max(r.max, t);
    r.sum += t;
    r.last = t;
    r.last_ts = ts;
    ASSERT_TRUE(u.forward(reading(dev, t, ts), p, 0));
    if (p == Priority::kLow) ++forwarded_low;
  }
  commit(u);
  clock_.jump_ms(61'000);  // the windows end: summary batches go into the spool
  ASSERT_TRUE(eventually([&] { return sample(u, "uplink_summaries_total", "low") > 0 &&
                                      sample(u, "uplink_summaries_total", "normal") > 0; }, 10s));
  commit(u);
  EXPECT_EQ(sample(u, "uplink_summaries_total", "critical"), 0);
  EXPECT_EQ(sample(u, "spool_evicted_messages_total"), 0);
  // Normal's full-resolution backlog from before it degraded was compacted
  // into summaries (the budget let almost none of it out).
  EXPECT_GT(sample(u, "spool_compacted_batches_total", "normal"), 0);
  EXPECT_GT(sample(u, "uplink_compacted_readings_total", "normal"), 0);
  EXPECT_EQ(sample(u, "spool_compacted_batches_total", "critical"), 0);
  EXPECT_EQ(sample(u, "spool_compacted_batches_total", "high"), 0);

  // The budget is lifted: the backlog drains and both return to full resolution.
  auto open = config(0);
  u.reconfigure(open.uplink);
  ASSERT_TRUE(eventually([&] { return sample(u, "uplink_degraded", "low") == 0 &&
                                      sample(u, "uplink_degraded", "normal") == 0; }, 20s));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(u.forward(reading("after", 1.0 * i, ++ts), Priority::kLow, 0));
  forwarded_low += 10;
  commit(u);
  ASSERT_TRUE(eventually([&] { return sample(u, "spool_batches") == 0; }, 30s)) << "spool did not drain";
  EXPECT_GT(sample(u, "uplink_degraded_seconds_total", "low"), 0);
  EXPECT_EQ(sample(u, "uplink_summaries_sent_total", "low"), sample(u, "uplink_summaries_total", "low"));
  u.stop();

  // Upstream: summaries match the reference; every low reading is represented.
  std::vector<protocols::JsonValue> all;
  ASSERT_TRUE(eventually([&] {
    all = decoded(cloud.messages("foggate/gw1/uplink/#"));
    int after = 0;
    for (const auto& m : all)
      if (m.find("device")->as_string() == "after") ++after;
    return after == 10;
  }, 20s));
  std::set<std::pair<std::string, std::string>> checked;
  uint64_t low_represented = 0;
  for (const auto& m : all) {
    const std::string prio = m.find("priority")->as_string();
    const std::string dev = m.find("device")->as_string();
    const auto& payload = *m.find("payload");
    const bool summary = m.find("summary") != nullptr;
    EXPECT_EQ(summary, (static_cast<uint32_t>(m.find("flags")->as_number()) & protocols::kFlagSummary) != 0);
    if (summary) {
      EXPECT_TRUE(prio == "low" || prio == "normal") << prio;
      if (payload.find("field")->as_string() != "t") continue;
      if (prio == "low") low_represented += static_cast<uint64_t>(payload.find("count")->as_number());
      if (!ref.contains({prio, dev})) continue;
      const Ref& r = ref[{prio, dev}];
      EXPECT_EQ(payload.find("count")->as_number(), static_cast<double>(r.count)) << prio << " " << dev;
      EXPECT_EQ(payload.find("min")->as_number(), r.min);
      EXPECT_EQ(payload.find("max")->as_number(), r.max);
      EXPECT_EQ(payload.find("mean")->as_number(), r.sum / static_cast<double>(r.count));
      EXPECT_EQ(payload.find("first")->as_number(), r.first);
      EXPECT_EQ(payload.find("first_ts")->as_number(), static_cast<double>(r.first_ts));
      EXPECT_EQ(payload.find("last")->as_number(), r.last);
      EXPECT_EQ(payload.find("last_ts")->as_number(), static_cast<double>(r.last_ts));
      checked.insert({prio, dev});
    } else {
      EXPECT_EQ(m.find("payload")->find("field"), nullptr);
      if (prio == "low") ++low_represented;
      if (dev == "after") {
        EXPECT_EQ(prio, "low");
      }
    }
  }
  EXPECT_EQ(checked.size(), ref.size()) << "a reference device had no summary upstream";
  EXPECT_EQ(low_represented, static_cast<uint64_t>(forwarded_low));
}

// While degraded, a link with nothing else to send takes the open window
// at once instead of idling until window_s: the summaries' resolution
// follows what the link carries. And a priority whose traffic outruns the
// budget stays degraded once its backlog is gone (it would only refill).
TEST_F(UplinkDegradeTest, IdleLinkTakesTheOpenWindowBeforeItEnds) {
  Probe cloud(upstream_.uri());
  cloud.subscribe("foggate/gw1/uplink/#");
  gateway::Uplink u(config(500), clock_);
  ASSERT_TRUE(u.start());
  ASSERT_TRUE(eventually([&] { return sample(u, "uplink_connected") == 1; }, 10s));

  int64_t ts = 1'700'000'000'000;
  for (int i = 0; i < 5'000; ++i)
    ASSERT_TRUE(u.forward(reading("dev-" + std::to_string(i % 5), 20.0 + i % 37, ++ts), Priority::kLow, 0));
  commit(u);
  ASSERT_TRUE(eventually([&] { return sample(u, "uplink_degraded", "low") == 1; }, 10s));
  // Simulated time advances in 1 s steps; each waits (bounded) for a turn of
  // the uplink thread (at least every 100 ms) to spend the new tokens.
  int64_t simulated_ms = 0;
  auto step_until = [&](const std::function<bool()>& done, int64_t limit_ms) {
    while (!done() && simulated_ms < limit_ms) {
      clock_.jump_ms(1000);
      simulated_ms += 1000;
      const double before = sample(u, "spool_batches");
      eventually([&] { return sample(u, "spool_batches") < before; }, 500ms);
    }
    return done();
  };
  // Compaction folds the backlog and the idle link takes what is in the
  // window; the budget carries the summaries away. 30 s at most, 50 s in
  // all: the 60 s window never ends by itself in this test.
  ASSERT_TRUE(step_until([&] {
    return sample(u, "spool_batches") == 0 && sample(u, "uplink_window_readings", "low") == 0;
  }, 30'000)) << "the backlog did not drain";
  ASSERT_EQ(sample(u, "uplink_degraded", "low"), 1) << "resumed while the traffic outruns the budget";

  for (int i = 0; i < 100; ++i) ASSERT_TRUE(u.forward(reading("early", 1.0 * i, ++ts), Priority::kLow, 0));
  commit(u);
  // Sealed by the idle link: nothing of it is left in the open window.
  ASSERT_TRUE(step_until([&] { return sample(u, "uplink_window_readings", "low") == 0; }, 45'000));
  uint64_t represented = 0;
  ASSERT_TRUE(step_until([&] {
    represented = 0;
    for (const auto& m : decoded(cloud.messages("foggate/gw1/uplink/#"))) {
      if (m.find("device")->as_string() != "early" || m.find("summary") == nullptr) continue;
      if (m.find("payload")->find("field")->as_string() == "t")
        represented += static_cast<uint64_t>(m.find("payload")->find("count")->as_number());
    }
    return represented == 100;
  }, 50'000)) << represented << " of 100 readings upstream";
  EXPECT_EQ(sample(u, "spool_evicted_messages_total"), 0);
  u.stop();
}

// A kill -9 while degraded loses nothing committed: the binary, upstream
// down, the low priority degraded by a tiny fill mark, one-second windows.
// Everything forwarded is committed (full batches or summaries) before the
// kill; after the restart every reading is represented upstream.
TEST(UplinkDegradeKillTest, KillNineWhileDegradedLosesNothingCommitted) {
  TempDir dir;
  Mosquitto site(dir);
  Mosquitto upstream(dir, {.name = "upstream", .persistence = true, .start = false});
  Foggate gw(dir, site,
             R"("rules":{"default":[{"task":"forward","priority":"low"}]},
                "uplink":{"uris":[")" + upstream.uri() + R"("],"commit_interval_ms":100,
                          "spool":{"max_bytes":65536},
                          "degrade":{"low":{"fill_mark":0.001,"window_s":1}}})");
  gw.start();
  Probe sensors(site.uri());
  Probe metrics(site.uri());
  metrics.subscribe("foggate/gw1/metrics", 0);
  auto publish = [&](int from, int to) {
    for (int i = from; i < to; ++i)
      sensors.publish("sensors/dev-" + std::to_string(i % 5) + "/temp",
                      R"({"t":)" + std::to_string(20 + i % 10) + R"(.5,"seq":)" + std::to_string(i) + "}");
  };
  constexpr int kFirst = 300, kAll = 1000;
  publish(0, kFirst);
  ASSERT_EQ(gw.wait_metric(metrics, "uplink_degraded{priority=low}", 1), 1) << gw.log();
  publish(kFirst, kAll);
  ASSERT_EQ(gw.wait_metric(metrics, "uplink_accepted_total{priority=low}", kAll), kAll) << gw.log();
  ASSERT_GT(gw.wait_metric(metrics, "uplink_summaries_total{priority=low}", [](double v) { return v > 0; }), 0);
  ASSERT_EQ(gw.wait_metric(metrics, "uplink_uncommitted_messages", 0), 0) << gw.log();
  // The full-resolution batches from before degrading were compacted.
  ASSERT_GT(gw.wait_metric(metrics, "spool_compacted_batches_total{priority=low}", [](double v) { return v > 0; }), 0);
  gw.kill9();

  upstream.start();
  Probe cloud(upstream.uri());
  cloud.subscribe("foggate/gw1/uplink/#");
  gw.start();
  // Every reading: in a full-resolution batch, or counted in a summary of
  // its device whose seq range holds it.
  struct Range { double min, max, count; };
  auto covered = [&](const std::vector<Received>& all, std::string* missing) {
    std::set<int> full;
    std::vector<Range> ranges;
    double counted = 0;
    for (const auto& m : decoded(all)) {
      const auto& p = *m.find("payload");
      if (m.find("summary") == nullptr) {
        if (const auto* seq = p.find("seq")) full.insert(static_cast<int>(seq->as_number()));
      } else if (p.find("field")->as_string() == "seq") {
        ranges.push_back({p.find("min")->as_number(), p.find("max")->as_number(), p.find("count")->as_number()});
        counted += p.find("count")->as_number();
      }
    }
    bool ok = static_cast<double>(full.size()) + counted >= kAll;
    for (int i = 0; i < kAll; ++i) {
      if (full.contains(i)) continue;
      if (std::any_of(ranges.begin(), ranges.end(), [i](const Range& r) { return r.min <= i && i <= r.max; }))
        continue;
      ok = false;
      if (missing) *missing += std::to_string(i) + " ";
    }
    return ok;
  };
  const bool all_there =
      eventually([&] { return covered(cloud.messages("foggate/gw1/uplink/#"), nullptr); }, 30s);
  std::string missing;
  covered(cloud.messages("foggate/gw1/uplink/#"), &missing);
  EXPECT_TRUE(all_there) << "not represented upstream: " << missing.substr(0, 400) << "\n" << gw.log();
}

}  // namespace
}  // namespace foggate::itest
