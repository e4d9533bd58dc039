// MqttIngestConnection in this process against a real mosquitto: what the
// gateway does not show from outside, the handler's side. A refused
// message is offered again, and the broker keeps to the announced Receive
// Maximum. The connection carries its owner's presence. (Receipts released after their connection ended:
// tests/regress/abandoned_receipts_uncounted_while_disconnected_test.cpp.)
#include "foggate/protocols/mqtt_ingest_connection.h"

#include <deque>

#include "fixture.h"

namespace foggate::itest {
namespace {

using protocols::Admission;
using protocols::MqttIngestConnection;
using protocols::MqttIngestOptions;

// The handler's record: what was offered, and the receipts it still holds.
// The connection's thread writes, the test reads; all under mu.
struct Inbox {
  std::mutex mu;
  std::vector<std::string> taken;    // payloads, in the order taken
  std::vector<bool> offered_again;   // per offer: the `again` flag
  std::deque<ReceiptPtr> held;
  int refusals = 0;  // kFull answers still to give

  Admission offer(const protocols::Publish& p, ReceiptPtr receipt, bool again) {
    std::lock_guard lock(mu);
    offered_again.push_back(again);
    if (refusals > 0) {
      --refusals;
      return Admission::kFull;
    }
    taken.emplace_back(p.payload);
    if (receipt) held.push_back(std::move(receipt));
    return Admission::kTaken;
  }
  std::size_t taken_count() {
    std::lock_guard lock(mu);
    return taken.size();
  }
  std::size_t held_count() {
    std::lock_guard lock(mu);
    return held.size();
  }
  // Releases the oldest `n` receipts (all with n = 0): their PUBACKs may go.
  void release(std::size_t n = 0) {
    std::lock_guard lock(mu);
    if (n == 0 || n > held.size()) n = held.size();
    held.erase(held.begin(), held.begin() + static_cast<std::ptrdiff_t>(n));
  }
};

class MqttIngestConnectionTest : public ::testing::Test {
 protected:
  MqttIngestConnectionTest() : site_(dir_), sensors_(site_.uri()) {}
  ~MqttIngestConnectionTest() override {
    if (conn_) conn_->stop(0);
  }

  // Connects with `options` (URI and client id filled in), subscribed to
  // sensors/# at QoS 1; returns once the subscription is acknowledged.
  void open(MqttIngestOptions options = {}) {
    options.uris = {site_.uri()};
    options.client_id = "ingest-under-test";
    options.retry_min_ms = 50;
    options.retry_max_ms = 400;
    conn_ = std::make_unique<MqttIngestConnection>(options);
    conn_->set_subscriptions({{"sensors/#", 1}});
    conn_->on_message([this](const protocols::Publish& p, ReceiptPtr r, bool again) {
      return inbox_.offer(p, std::move(r), again);
    });
    auto ready = std::make_shared<std::atomic<int>>(0);
    conn_->on_ready([ready] { ++*ready; });
    ASSERT_TRUE(conn_->start().has_value());
    ASSERT_TRUE(eventually([&] { return *ready > 0; }, 10s)) << conn_->last_error();
  }

  void publish(int from, int to) {
    for (int i = from; i < to; ++i) sensors_.publish("sensors/d/temp", "m" + std::to_string(i), 1);
  }

  // One of the connection's samples (label client=test).
  double metric(const std::string& name) const { return connection_metric(*conn_, name); }

  TempDir dir_;
  Mosquitto site_;
  Probe sensors_;
  Inbox inbox_;
  std::unique_ptr<MqttIngestConnection> conn_;  // stopped before the inbox goes
};

TEST_F(MqttIngestConnectionTest, RefusedMessageIsOfferedAgainUntilTakenAndNothingOvertakesIt) {
  open();
  {
    std::lock_guard lock(inbox_.mu);
    inbox_.refusals = 3;
  }
  publish(0, 3);
  ASSERT_TRUE(eventually([&] { return inbox_.taken_count() == 3; }, 10s));
  {
    std::lock_guard lock(inbox_.mu);
    EXPECT_EQ(inbox_.taken, (std::vector<std::string>{"m0", "m1", "m2"}));
    // m0 refused 3 times, then taken on its 4th offer; m1 and m2 are new.
    EXPECT_EQ(inbox_.offered_again, (std::vector<bool>{false, true, true, true, false, false}));
  }
  EXPECT_EQ(conn_->stats().waits.value(), 1u);
  EXPECT_EQ(conn_->stats().received.value(), 3u);
  EXPECT_EQ(metric("mqtt_unacknowledged"), 3) << "refused offers owe no PUBACK";
  inbox_.release();
  EXPECT_TRUE(eventually([&] { return conn_->stats().acks_sent.value() == 3; }, 10s));
  EXPECT_EQ(metric("mqtt_unacknowledged"), 0);
}

// Receive Maximum (MQTT 5): the broker sends no more unacknowledged QoS 1
// messages than announced. A QoS 0 message published after them is sent at
// once, ahead of the queued ones, and marks the point where the broker has
// handled every publish before it: what came in before it is the window.
//
// Only the first window is checked: once it was full, mosquitto 2.0.11
// sends more than one queued message per PUBACK (here all 7 still queued
// after 3 PUBACKs), so later windows are not the announced one.
TEST_F(MqttIngestConnectionTest, ReceiveMaximumIsTheFirstWindowTheBrokerSends) {
  constexpr int kMessages = 10;
  constexpr std::size_t kWindow = 3;
  open({.version = protocols::MqttVersion::kV5, .receive_maximum = kWindow});
  publish(0, kMessages);
  sensors_.publish("sensors/d/temp", "marker", 0);
  ASSERT_TRUE(eventually(
      [&] {
        std::lock_guard lock(inbox_.mu);
        return std::find(inbox_.taken.begin(), inbox_.taken.end(), "marker") != inbox_.taken.end();
      },
      10s));
  {
    std::lock_guard lock(inbox_.mu);
    EXPECT_EQ(inbox_.taken, (std::vector<std::string>{"m0", "m1", "m2", "marker"}));
  }
  EXPECT_EQ(metric("mqtt_unacknowledged"), kWindow);
  // Released as they come, the rest follows.
  ASSERT_TRUE(eventually(
      [&] {
        inbox_.release();
        return conn_->stats().acks_sent.value() == kMessages;
      },
      10s));
  EXPECT_EQ(inbox_.taken_count(), kMessages + 1u);
}

// Read coalescing: readings that arrive one by one (each publish waits for
// its PUBACK from the broker) while the connection waits after a read are
// taken by one read, not one read each.
TEST_F(MqttIngestConnectionTest, ReadingsArrivingDuringTheCoalescingWaitShareARead) {
  constexpr int kReadings = 20;
  open({.read_coalesce_us = 200'000});
  publish(0, kReadings);
  ASSERT_TRUE(eventually([&] { return inbox_.taken_count() == kReadings; }, 10s));
  // The first reading is read at once; the other 19 came within the wait.
  EXPECT_LE(conn_->stats().reads.value(), 4u) << "of " << conn_->stats().received.value() << " readings";
  EXPECT_EQ(metric("mqtt_reads_total"), static_cast<double>(conn_->stats().reads.value()));
}

// The status rides the connection it describes: once the ready handler has
// run, a new subscriber finds "online" retained; after a clean stop (no
// Will then) it finds the farewell instead. Both protocol versions. (The
// Will on a lost connection: AlertsTest, with a kill -9.)
TEST_F(MqttIngestConnectionTest, PresenceIsRetainedOnlineWhenReadyAndTheFarewellAfterAStop) {
  auto retained_status = [&](const std::string& payload) {
    Probe late(site_.uri());
    late.subscribe("gw/status");
    return late.wait_for(
        [&](const std::vector<Received>& all) { return !all.empty() && all.back().payload == payload && all.back().retained; },
        10s);
  };
  for (auto version : {protocols::MqttVersion::kV311, protocols::MqttVersion::kV5}) {
    SCOPED_TRACE(version == protocols::MqttVersion::kV5 ? "MQTT 5" : "MQTT 3.1.1");
    open({.version = version, .presence = protocols::MqttPresence{"gw/status", "online", "lost"}});
    EXPECT_TRUE(retained_status("online"));
    conn_->set_farewell("stopped");
    conn_->stop();
    EXPECT_TRUE(retained_status("stopped"));
    EXPECT_EQ(metric("mqtt_presence_refused_total"), 0);
  }
}

}  // namespace
}  // namespace foggate::itest
