// Store-and-forward end to end: a site broker and an upstream broker, both
// real mosquitto; sensor messages carry a sequence number and every one of
// them must arrive upstream (at least once, no gaps) through outages,
// kill -9 and clean stops.
#include <atomic>
#include <set>
#include <thread>

#include "foggate/protocols/uplink_codec.h"
#include "fixture.h"

namespace foggate::itest {
namespace {

class UplinkTest : public ::testing::Test {
 protected:
  UplinkTest()
      : site_(dir_), upstream_(dir_, {.name = "upstream", .persistence = true, .start = false}) {}

  std::string uplink_json(int commit_interval_ms) const {
    return R"("rules":{"default":[{"task":"forward","priority":"normal"}]},
              "uplink":{"uris":[")" + upstream_.uri() + R"("],"commit_interval_ms":)" +
           std::to_string(commit_interval_ms) + "}";
  }

  // A persistent-session subscriber upstream: the broker keeps batches for it
  // while it is away, across broker restarts too.
  std::unique_ptr<Probe> cloud() {
    auto p = std::make_unique<Probe>(upstream_.uri(), "cloud-consumer", false);
    p->subscribe("foggate/gw1/uplink/#");
    return p;
  }

  void publish_seq(Probe& site, int from, int to) {
    for (int i = from; i < to; ++i)
      site.publish("sensors/dev-" + std::to_string(i % 7) + "/temp",
                   R"({"t":)" + std::to_string(20 + i % 10) + R"(.25,"seq":)" + std::to_string(i) + "}");
  }

  static bool all_arrived(const std::vector<Received>& received, int n) {
    auto got = uplink_seqs(received);
    for (int i = 0; i < n; ++i)
      if (!got.contains(i)) return false;
    return true;
  }

  bool wait_all(Probe& cloud, int n) {
    // The predicate runs under the probe's lock: use what it is given.
    if (cloud.wait_for([&](const std::vector<Received>& all) { return all_arrived(all, n); }, 60s)) return true;
    auto got = uplink_seqs(cloud.messages());
    std::string missing;
    for (int i = 0; i < n; ++i)
      if (!got.contains(i)) missing += std::to_string(i) + " ";
    ADD_FAILURE() << "missing upstream: " << missing.substr(0, 400);
    return false;
  }

  TempDir dir_;
  Mosquitto site_;
  Mosquitto upstream_;
};

TEST_F(UplinkTest, EverythingArrivesDecodableByPythonToo) {
  upstream_.start();
  auto c = cloud();
  Foggate gw(dir_, site_, uplink_json(200));
  gw.start();
  Probe site(site_.uri());
  publish_seq(site, 0, 300);
  ASSERT_TRUE(wait_all(*c, 300)) << gw.log();

  // The documented format is the real one: Python's msgpack + zlib decode it.
  auto first = c->messages("foggate/gw1/uplink/#").front();
  EXPECT_EQ(first.topic, "foggate/gw1/uplink/normal");
  dir_.write("batch.bin", first.payload);
  int code = -1;
  auto out = run_command({"/usr/bin/python3", FOGGATE_SOURCE_DIR "/examples/decode_batch.py", dir_.file("batch.bin")},
                         &code);
  ASSERT_EQ(code, 0) << out;
  auto ours = protocols::decode_batch(first.payload);
  ASSERT_TRUE(ours.has_value());
  std::size_t lines = 0;
  for (std::size_t p = 0; (p = out.find('\n', p)) != std::string::npos; ++p) ++lines;
  EXPECT_EQ(lines, ours->size());
  EXPECT_NE(out.find("\"device\":\"dev-0\""), std::string::npos) << out;
}

// Routing under load end to end: with the memory mark set below any real
// RSS the gateway is under pressure from its first sample, so a detect task
// whose rule says offload goes upstream flagged offloaded (flags bit 1).
TEST_F(UplinkTest, UnderPressureOffloadedMessagesArriveFlagged) {
  upstream_.start();
  auto c = cloud();
  Foggate gw(dir_, site_, R"("rules":{"default":[{"task":"detect","priority":"normal","on_overload":"offload"}]},
                             "uplink":{"uris":[")" + upstream_.uri() + R"("],"commit_interval_ms":100})",
             "gw1", R"("overload":{"rss_mb":1})");
  gw.start();
  Probe site(site_.uri());
  site.subscribe("foggate/gw1/metrics", 0);
  ASSERT_EQ(gw.wait_metric(site, "overload_pressure", 1), 1) << gw.log();
  publish_seq(site, 0, 5);
  ASSERT_TRUE(wait_all(*c, 5)) << gw.log();
  for (const auto& m : c->messages("foggate/gw1/uplink/#")) {
    auto recs = protocols::decode_batch(m.payload);
    ASSERT_TRUE(recs.has_value());
    for (const auto& r : *recs) EXPECT_EQ(r.find("flags")->as_number(), 1) << protocols::to_json(r);
  }
  EXPECT_EQ(gw.metric(site, "tasks_routed_total{action=offload,priority=normal}"), 5);
}

TEST_F(UplinkTest, UpstreamOutageUnderLoadOnlyGrowsTheSpool) {
  upstream_.start();
  { auto c = cloud(); }  // create the persistent consumer session
  Foggate gw(dir_, site_, uplink_json(100));
  gw.start();
  Probe site(site_.uri());
  Probe metrics(site_.uri());
  metrics.subscribe("foggate/gw1/metrics", 0);
  publish_seq(site, 0, 200);
  upstream_.stop();
  publish_seq(site, 200, 600);  // while upstream is down
  EXPECT_GT(gw.wait_metric(metrics, "spool_batches{priority=normal}", [](double v) { return v > 0; }), 0)
      << "batches wait in the spool";
  upstream_.start();
  auto c = cloud();
  publish_seq(site, 600, 800);
  EXPECT_TRUE(wait_all(*c, 800)) << gw.log();
  EXPECT_EQ(gw.wait_metric(metrics, "spool_batches{priority=normal}", 0), 0);
}

// Acknowledged only when safe (issue #13): a QoS 1 reading is PUBACKed to
// the site broker once its batch is committed, so a kill -9 under a steady
// load loses nothing the broker accepted: what was not yet durable is
// delivered again after the restart. Duplicates are allowed (at least
// once) and reported, not failed.
TEST_F(UplinkTest, KillNineUnderSteadyQos1LoadLosesNoReading) {
  upstream_.start();
  auto c = cloud();
  Foggate gw(dir_, site_, uplink_json(1000));  // a kill lands inside an open commit interval
  gw.start();
  constexpr int kReadings = 3000;
  std::atomic<int> published{0};
  std::jthread sensors([&] {
    Probe site(site_.uri());
    for (int i = 0; i < kReadings; ++i) {
      publish_seq(site, i, i + 1);  // QoS 1: returns once the broker has it
      published = i + 1;
    }
  });
  ASSERT_TRUE(eventually([&] { return published >= kReadings / 3; }, 60s));
  gw.kill9();
  gw.start();
  sensors.join();
  EXPECT_TRUE(wait_all(*c, kReadings)) << gw.log();
  const auto got = uplink_seqs(c->messages());
  RecordProperty("duplicates", static_cast<int>(got.size()) - kReadings);
}

TEST_F(UplinkTest, KillNineAfterCommitLosesNothingCommitted) {
  // Upstream down: everything stays in the spool.
  Foggate gw(dir_, site_, uplink_json(100));
  gw.start();
  Probe site(site_.uri());
  Probe metrics(site_.uri());
  metrics.subscribe("foggate/gw1/metrics", 0);
  publish_seq(site, 0, 250);
  ASSERT_EQ(gw.wait_metric(metrics, "uplink_accepted_total{priority=normal}", 250), 250) << gw.log();
  ASSERT_EQ(gw.wait_metric(metrics, "uplink_uncommitted_messages", 0), 0);
  gw.kill9();

  upstream_.start();
  auto c = cloud();
  gw.start();  // resumes from the spool
  EXPECT_TRUE(wait_all(*c, 250)) << gw.log();
}

TEST_F(UplinkTest, CleanStopSealsAndCommitsOpenBatches) {
  // A long commit interval keeps the batches open until the stop.
  Foggate gw(dir_, site_, uplink_json(60'000));
  gw.start();
  Probe site(site_.uri());
  Probe metrics(site_.uri());
  metrics.subscribe("foggate/gw1/metrics", 0);
  publish_seq(site, 0, 120);
  ASSERT_EQ(gw.wait_metric(metrics, "uplink_accepted_total{priority=normal}", 120), 120) << gw.log();
  EXPECT_EQ(gw.metric(metrics, "spool_batches{priority=normal}"), 0) << "still open, in memory";
  ASSERT_EQ(gw.stop(), 0);

  upstream_.start();
  auto c = cloud();
  gw.start();
  EXPECT_TRUE(wait_all(*c, 120)) << gw.log();
}

}  // namespace
}  // namespace foggate::itest
