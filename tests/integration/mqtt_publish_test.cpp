// MqttIngestConnection::publish() against a real mosquitto: the way the
// gateway's alerts leave (a connection with no subscriptions). Messages
// arrive at both QoS and both protocol versions; what is published while
// the broker is away waits and goes out after the reconnect; a QoS 1
// publish the broker never read is sent again after it restarts; threads
// that publish at once share one TLS session without corrupting it, and
// TLS writes held up by a full socket go out whole once it drains.
#include "foggate/protocols/mqtt_ingest_connection.h"

#include <thread>

#include "fixture.h"

namespace foggate::itest {
namespace {

using protocols::MqttIngestConnection;
using protocols::MqttIngestOptions;
using protocols::MqttVersion;

class MqttPublishTest : public ::testing::Test {
 protected:
  MqttPublishTest() : site_(dir_) {}
  ~MqttPublishTest() override {
    if (conn_) conn_->stop(0);
  }

  // Starts the connection (no subscriptions); `wait` for it to connect.
  void open(MqttVersion version = MqttVersion::kV5, bool wait = true) {
    MqttIngestOptions options;
    options.uris = {site_.uri()};
    options.client_id = "alerts-under-test";
    options.version = version;
    options.retry_min_ms = 50;
    options.retry_max_ms = 200;
    options.max_outbox = 5;
    conn_ = std::make_unique<MqttIngestConnection>(options);
    ASSERT_TRUE(conn_->start().has_value());
    if (wait) {
      ASSERT_TRUE(eventually([&] { return conn_->connected(); }, 10s)) << conn_->last_error();
    }
  }

  double metric(const std::string& name) const { return connection_metric(*conn_, name); }

  // A subscriber's view of the retained topics under alerts/.
  static bool retained_arrive(const std::string& uri, const std::vector<std::string>& payloads) {
    Probe late(uri);
    late.subscribe("alerts/#");
    return late.wait_for([&](const std::vector<Received>& got) { return got.size() >= payloads.size(); }, 10s) &&
           [&] {
             auto got = late.messages();
             std::vector<std::string> seen;
             for (const auto& r : got) seen.push_back(r.payload);
             std::sort(seen.begin(), seen.end());
             return seen == payloads;
           }();
  }

  TempDir dir_;
  Mosquitto site_;
  std::unique_ptr<MqttIngestConnection> conn_;
};

class MqttPublishVersionTest : public MqttPublishTest, public ::testing::WithParamInterface<MqttVersion> {};

TEST_P(MqttPublishVersionTest, BothQosArriveAndQos1IsAcknowledged) {
  Probe sub(site_.uri());
  sub.subscribe("alerts/#");
  open(GetParam());
  ASSERT_TRUE(conn_->publish("alerts/a", "one", 1, false));
  ASSERT_TRUE(conn_->publish("alerts/b", "two", 0, false));
  ASSERT_TRUE(conn_->publish("alerts/c", "three", 1, true));
  ASSERT_TRUE(sub.wait_count("alerts/#", 3)) << conn_->last_error();
  const auto got = sub.messages("alerts/#");
  EXPECT_EQ(got[0].payload, "one");
  EXPECT_EQ(got[1].payload, "two");
  EXPECT_EQ(got[2].payload, "three");
  // Every PUBACK read: nothing waits or is in flight.
  EXPECT_TRUE(eventually([&] { return metric("mqtt_outbox") == 0; }, 10s)) << metric("mqtt_outbox");
  EXPECT_EQ(metric("mqtt_published_total"), 3);
  EXPECT_EQ(metric("mqtt_publish_rejected_total"), 0);
  EXPECT_TRUE(retained_arrive(site_.uri(), {"three"}));
}

INSTANTIATE_TEST_SUITE_P(Versions, MqttPublishVersionTest, ::testing::Values(MqttVersion::kV311, MqttVersion::kV5),
                         [](const auto& p) { return std::string(p.param == MqttVersion::kV5 ? "Mqtt5" : "Mqtt311"); });

// While the broker is down publishes wait (up to max_outbox, 5 here; the
// sixth is refused and counted) and go out once it is back.
TEST_F(MqttPublishTest, PublishedWhileTheBrokerIsDownGoOutAfterTheReconnect) {
  open();
  site_.stop();
  ASSERT_TRUE(eventually([&] { return !conn_->connected(); }, 10s));
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(conn_->publish("alerts/" + std::to_string(i), "p" + std::to_string(i), 1, true)) << i;
  EXPECT_FALSE(conn_->publish("alerts/5", "p5", 1, true)) << "over max_outbox";
  EXPECT_EQ(metric("mqtt_publish_refused_total"), 1);
  EXPECT_EQ(metric("mqtt_outbox"), 5);
  site_.start();
  EXPECT_TRUE(retained_arrive(site_.uri(), {"p0", "p1", "p2", "p3", "p4"}));
  EXPECT_TRUE(eventually([&] { return metric("mqtt_outbox") == 0; }, 10s));
}

// A QoS 1 publish written to a frozen broker that is then killed never
// reached it; after the restart the connection sends it again (DUP).
TEST_F(MqttPublishTest, UnacknowledgedPublishIsSentAgainAfterTheBrokerRestarts) {
  open();
  site_.freeze();
  ASSERT_TRUE(conn_->publish("alerts/held", "again", 1, true));
  ASSERT_TRUE(eventually([&] { return metric("mqtt_published_total") == 1; }, 10s));
  EXPECT_EQ(metric("mqtt_outbox"), 1) << "written, not acknowledged";
  site_.kill9();
  site_.start();
  EXPECT_TRUE(retained_arrive(site_.uri(), {"again"})) << conn_->last_error();
  EXPECT_TRUE(eventually([&] { return metric("mqtt_outbox") == 0; }, 10s));
  EXPECT_EQ(metric("mqtt_published_total"), 1) << "a resend is not a new publish";
}

// At stop, what is queued is written before the DISCONNECT; with no
// connection it is counted as discarded.
TEST_F(MqttPublishTest, StopWritesWhatIsQueuedOrCountsIt) {
  open();
  ASSERT_TRUE(conn_->publish("alerts/last", "bye", 1, true));
  conn_->stop(2000);
  EXPECT_EQ(metric("mqtt_publish_discarded_total"), 0);
  EXPECT_FALSE(conn_->publish("alerts/late", "x", 1, true)) << "stopped";
  EXPECT_TRUE(retained_arrive(site_.uri(), {"bye"}));

  site_.stop();
  open(MqttVersion::kV5, false);
  ASSERT_TRUE(conn_->publish("alerts/never", "x", 1, true));
  conn_->stop(0);
  EXPECT_EQ(metric("mqtt_publish_discarded_total"), 1);
}

// A site broker with a TLS listener, a subscriber on alerts/# (through the
// plain one), and a connection over TLS started by open().
class MqttPublishTlsTest : public ::testing::Test {
 protected:
  MqttPublishTlsTest()
      : site_(dir_, {.extra_listener = tls_listener_conf() + "\nallow_anonymous true"}), sub_(site_.uri()) {
    sub_.subscribe("alerts/#");
  }
  ~MqttPublishTlsTest() override {
    if (conn_) conn_->stop(0);
  }

  MqttIngestConnection& open(std::size_t max_outbox) {
    MqttIngestOptions options;
    options.uris = {"ssl://localhost:" + std::to_string(site_.extra_port())};
    options.client_id = "alerts-tls-under-test";
    options.tls.ca_file = pki("ca.crt");
    options.max_outbox = max_outbox;
    conn_ = std::make_unique<MqttIngestConnection>(options);
    EXPECT_TRUE(conn_->start().has_value());
    EXPECT_TRUE(eventually([&] { return conn_->connected(); }, 10s)) << conn_->last_error();
    return *conn_;
  }

  TempDir dir_;
  Mosquitto site_;
  Probe sub_;
  std::unique_ptr<MqttIngestConnection> conn_;
};

// Publishing threads write to the socket themselves while the connection's
// thread waits (one wake-up fewer per alert). Over TLS, two threads in one
// mbedTLS session at once would corrupt its records and the broker would
// drop the connection: four threads publishing at once, while PUBACKs come
// back, must lose no connection and no message, and keep each thread's order.
TEST_F(MqttPublishTlsTest, ThreadsPublishingAtOnceShareOneTlsSession) {
  constexpr int kThreads = 4;
  constexpr int kEach = 300;
  MqttIngestConnection& conn = open(kThreads * kEach);

  // With the connection idle, a publish is written by its caller. QoS 0:
  // no PUBACK wakes the connection's thread. It may still be finishing its
  // connect, or wake for its keepalive, at that instant: a few tries.
  int tries = 0;
  while (connection_metric(conn, "mqtt_publish_caller_writes_total") == 0 && tries < 10) {
    ASSERT_TRUE(conn.publish("alerts/first", std::to_string(tries), 0, false));
    ++tries;
    ASSERT_TRUE(eventually([&] { return connection_metric(conn, "mqtt_published_total") == tries; }, 10s));
  }
  EXPECT_EQ(connection_metric(conn, "mqtt_publish_caller_writes_total"), 1) << "after " << tries << " publishes";

  // Half the threads at QoS 1, half at QoS 0: MQTT keeps the order within
  // one QoS only (a broker may hold QoS 1 back while QoS 0 goes on).
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&conn, t] {
      for (int i = 0; i < kEach; ++i)
        (void)conn.publish("alerts/t" + std::to_string(t), std::to_string(i), t % 2, false);
    });
  for (auto& th : threads) th.join();
  ASSERT_TRUE(sub_.wait_count("alerts/#", static_cast<std::size_t>(tries + kThreads * kEach), 30s))
      << sub_.messages("alerts/#").size() << " arrived; " << conn.last_error();
  EXPECT_EQ(connection_metric(conn, "mqtt_publish_refused_total"), 0);
  EXPECT_EQ(connection_metric(conn, "mqtt_connection_lost_total"), 0) << conn.last_error();
  EXPECT_EQ(connection_metric(conn, "mqtt_connects_total"), 1);
  for (int t = 0; t < kThreads; ++t) {
    const auto got = sub_.messages("alerts/t" + std::to_string(t));
    ASSERT_EQ(got.size(), static_cast<std::size_t>(kEach)) << "thread " << t;
    for (int i = 0; i < kEach; ++i) ASSERT_EQ(got[i].payload, std::to_string(i)) << "thread " << t;
  }
  EXPECT_TRUE(eventually([&] { return connection_metric(conn, "mqtt_outbox") == 0; }, 10s));
  conn.stop();
}

// mbedTLS wants a write it refused (the socket full) retried with the same
// bytes; meanwhile more publishes join the send buffer. With the broker
// frozen the socket fills with small publishes, more keep coming, and after
// the thaw every one arrives whole, on the same connection.
TEST_F(MqttPublishTlsTest, PublishesHeldUpByAFullSocketGoOutWhole) {
  constexpr int kMax = 30'000;
  MqttIngestConnection& conn = open(2'000);

  site_.freeze();
  const std::string filler(1000, 'x');
  int accepted = 0;
  while (accepted < kMax && conn.publish("alerts/bulk", std::to_string(accepted) + filler, 0, false)) ++accepted;
  ASSERT_LT(accepted, kMax) << "the socket never filled";
  site_.thaw();
  ASSERT_TRUE(eventually([&] { return connection_metric(conn, "mqtt_outbox") == 0; }, 30s));
  ASSERT_TRUE(conn.publish("alerts/marker", "end", 1, false));
  ASSERT_TRUE(sub_.wait_count("alerts/marker", 1, 30s)) << conn.last_error();
  EXPECT_EQ(connection_metric(conn, "mqtt_connection_lost_total"), 0) << conn.last_error();
  EXPECT_EQ(connection_metric(conn, "mqtt_connects_total"), 1);
  ASSERT_TRUE(sub_.wait_count("alerts/bulk", static_cast<std::size_t>(accepted), 30s))
      << sub_.messages("alerts/bulk").size() << " of " << accepted;
  const auto got = sub_.messages("alerts/bulk");
  for (int i = 0; i < accepted; ++i) ASSERT_EQ(got[i].payload, std::to_string(i) + filler) << i;
  conn.stop();
}

}  // namespace
}  // namespace foggate::itest
