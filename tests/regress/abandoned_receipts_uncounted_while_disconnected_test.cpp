// What broke: a QoS 1 receipt released after the ingest connection dropped
// but before the next connect was dropped silently: it acknowledged nothing
// (right: the broker delivers the message again) but was not counted in
// mqtt_acks_abandoned_total, which the header promises for every receipt
// released after its connection ended. The generation only advanced at the
// next connect, so until then such releases looked current and were thrown
// away with the next generation. Now the generation ends with the
// connection, and whatever was released and not yet acknowledged counts.
#include <mutex>

#include "fixture.h"
#include "foggate/protocols/mqtt_ingest_connection.h"

namespace foggate::itest {
namespace {

TEST(AbandonedReceiptsUncountedWhileDisconnected, ReleasedBeforeTheReconnectCountsAsAbandoned) {
  constexpr int kMessages = 3;
  TempDir dir;
  Mosquitto site(dir, {.persistence = true});  // the messages in flight survive its restart
  Probe sensors(site.uri());
  std::mutex mu;
  std::vector<ReceiptPtr> held;  // guarded by mu
  std::vector<bool> dup;         // guarded by mu
  std::atomic<bool> ready{false};
  protocols::MqttIngestConnection conn({.uris = {site.uri()}, .client_id = "regress-ingest", .retry_min_ms = 50,
                                        .retry_max_ms = 400});
  conn.set_subscriptions({{"sensors/#", 1}});
  conn.on_message([&](const protocols::Publish& p, ReceiptPtr r, bool) {
    std::lock_guard lock(mu);
    held.push_back(std::move(r));
    dup.push_back(p.dup);
    return protocols::Admission::kTaken;
  });
  conn.on_ready([&] { ready = true; });
  ASSERT_TRUE(conn.start().has_value());
  ASSERT_TRUE(eventually([&] { return ready.load(); }, 10s));
  auto taken = [&] {
    std::lock_guard lock(mu);
    return dup.size();
  };
  auto release_all = [&] {
    std::lock_guard lock(mu);
    held.clear();
  };

  for (int i = 0; i < kMessages; ++i) sensors.publish("sensors/d/temp", std::to_string(i), 1);
  ASSERT_TRUE(eventually([&] { return taken() == kMessages; }, 10s));
  site.stop();
  ASSERT_TRUE(eventually([&] { return !conn.connected(); }, 10s));
  release_all();  // no connection exists now
  EXPECT_EQ(connection_metric(conn, "mqtt_acks_abandoned_total"), kMessages);

  site.start();
  ASSERT_TRUE(eventually([&] { return taken() == 2 * kMessages; }, 15s)) << conn.last_error();
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(dup, (std::vector<bool>{false, false, false, true, true, true})) << "delivered again";
  }
  release_all();
  EXPECT_TRUE(eventually([&] { return conn.stats().acks_sent.value() == kMessages; }, 10s));
  EXPECT_EQ(connection_metric(conn, "mqtt_acks_abandoned_total"), kMessages);
  conn.stop();
}

}  // namespace
}  // namespace foggate::itest
