// The alarm state machine, shelving and flood control, driven by an
// injected clock.
#include "foggate/routing/alarm_book.h"

#include <gtest/gtest.h>

namespace foggate::routing {
namespace {

class AlarmBookTest : public ::testing::Test {
 protected:
  static Alert alert(AlertKind kind, std::string device = "d1", std::string detector = "hot", double value = 55) {
    Alert a;
    a.kind = kind;
    a.device = std::move(device);
    a.detector = std::move(detector);
    a.severity = "critical";
    a.field = "t";
    a.value = value;
    a.limit = 50;
    return a;
  }
  // Feeds one alert; returns the kinds of the events let through.
  std::vector<std::string> feed(const Alert& a) {
    AlarmOutput out;
    book_.on_alert(a, out);
    return kinds(out);
  }
  std::vector<std::string> tick() {
    AlarmOutput out;
    book_.tick(out);
    last_ = out;
    return kinds(out);
  }
  static std::vector<std::string> kinds(const AlarmOutput& out) {
    std::vector<std::string> k;
    for (const auto& e : out.events) k.emplace_back(to_string(e.kind));
    return k;
  }
  std::string state(std::string device = "d1", std::string detector = "hot") const {
    const Alarm* a = book_.find({std::move(device), std::move(detector)});
    return a ? std::string(to_string(a->state)) : "none";
  }
  CommandResult ack(std::string device = "d1", std::string op = "alice") {
    AlarmOutput out;
    return book_.acknowledge({std::move(device), "hot"}, op, "seen", out);
  }
  CommandResult shelve(int64_t ms) {
    AlarmOutput out;
    return book_.shelve({"d1", "hot"}, "bob", ms, "maintenance", out);
  }

  ManualClock clock_;
  AlarmStats stats_;
  AlarmBook book_{AlarmPolicy{.flood_max_events = 0}, clock_, stats_};
  AlarmOutput last_;
};

using Kinds = std::vector<std::string>;

TEST_F(AlarmBookTest, RaiseAckClearRemovesTheAlarm) {
  EXPECT_EQ(feed(alert(AlertKind::kRaised)), Kinds{"raised"});
  EXPECT_EQ(state(), "active-unacknowledged");
  EXPECT_EQ(stats_.active_by_severity[0].value(), 1);
  EXPECT_EQ(stats_.unacknowledged.value(), 1);
  clock_.advance_ms(5000);
  EXPECT_EQ(ack(), CommandResult::kApplied);
  EXPECT_EQ(state(), "active-acknowledged");
  const Alarm* a = book_.find({"d1", "hot"});
  EXPECT_EQ(a->acked_by, "alice");
  EXPECT_EQ(a->ack_comment, "seen");
  EXPECT_EQ(a->acked_ms, clock_.wall_ms());
  EXPECT_EQ(stats_.unacknowledged.value(), 0);
  EXPECT_EQ(ack(), CommandResult::kUnchanged);
  EXPECT_EQ(feed(alert(AlertKind::kCleared, "d1", "hot", 40)), Kinds{"cleared"});
  EXPECT_EQ(state(), "none");
  EXPECT_EQ(stats_.active_by_severity[0].value(), 0);
  EXPECT_EQ(stats_.listed.value(), 0);
  EXPECT_EQ(stats_.acks.value(), 1u);
}

TEST_F(AlarmBookTest, ClearBeforeAckWaitsForTheAckThenRemoves) {
  feed(alert(AlertKind::kRaised));
  AlarmOutput out;
  book_.on_alert(alert(AlertKind::kCleared, "d1", "hot", 40), out);
  ASSERT_EQ(out.changed.size(), 1u);
  EXPECT_EQ(state(), "cleared-unacknowledged");
  EXPECT_EQ(book_.find({"d1", "hot"})->value, 40);
  EXPECT_EQ(stats_.active_by_severity[0].value(), 0);
  EXPECT_EQ(stats_.unacknowledged.value(), 1);
  EXPECT_EQ(ack(), CommandResult::kApplied);
  EXPECT_EQ(state(), "none");
  EXPECT_EQ(stats_.unacknowledged.value(), 0);
}

TEST_F(AlarmBookTest, ReRaiseOfAClearedAlarmCountsAndNeedsANewAck) {
  const int64_t first = clock_.wall_ms();
  feed(alert(AlertKind::kRaised));
  feed(alert(AlertKind::kCleared));
  clock_.advance_ms(1000);
  EXPECT_EQ(feed(alert(AlertKind::kRaised, "d1", "hot", 70)), Kinds{"raised"});
  const Alarm* a = book_.find({"d1", "hot"});
  EXPECT_EQ(to_string(a->state), "active-unacknowledged");
  EXPECT_EQ(a->reraises, 1u);
  EXPECT_EQ(a->first_raised_ms, first);
  EXPECT_EQ(a->last_raised_ms, first + 1000);
  EXPECT_EQ(a->value, 70);
  EXPECT_EQ(a->cleared_ms, 0);
}

TEST_F(AlarmBookTest, ARaiseOfAnActiveAlarmOnlyUpdatesItsValue) {
  feed(alert(AlertKind::kRaised));
  ASSERT_EQ(ack(), CommandResult::kApplied);
  // A detector that lost its state (restart) raises again: not re-raised.
  EXPECT_EQ(feed(alert(AlertKind::kRaised, "d1", "hot", 60)), Kinds{});
  EXPECT_EQ(state(), "active-acknowledged");
  EXPECT_EQ(book_.find({"d1", "hot"})->value, 60);
  EXPECT_EQ(book_.find({"d1", "hot"})->reraises, 0u);
  EXPECT_EQ(stats_.repeated.value(), 1u);
}

TEST_F(AlarmBookTest, AnAnomalyStaysListedUntilAcknowledged) {
  EXPECT_EQ(feed(alert(AlertKind::kAnomaly, "m1", "spike")), Kinds{"anomaly"});
  EXPECT_EQ(state("m1", "spike"), "cleared-unacknowledged");
  EXPECT_EQ(book_.find({"m1", "spike"})->kind, "anomaly");
  EXPECT_EQ(feed(alert(AlertKind::kAnomaly, "m1", "spike")), Kinds{"anomaly"});
  EXPECT_EQ(book_.find({"m1", "spike"})->reraises, 1u);
  AlarmOutput out;
  EXPECT_EQ(book_.acknowledge({"m1", "spike"}, "carol", "", out), CommandResult::kApplied);
  EXPECT_EQ(state("m1", "spike"), "none");
}

TEST_F(AlarmBookTest, CommandsOnUnknownAlarmsAndBadDurationsAreRefused) {
  EXPECT_EQ(ack("nobody"), CommandResult::kNoSuchAlarm);
  EXPECT_EQ(shelve(1000), CommandResult::kNoSuchAlarm);
  feed(alert(AlertKind::kRaised));
  EXPECT_EQ(shelve(0), CommandResult::kBadDuration);
  EXPECT_EQ(shelve(AlarmPolicy{}.max_shelve_ms + 1), CommandResult::kBadDuration);
  EXPECT_EQ(state(), "active-unacknowledged");
  EXPECT_EQ(stats_.shelves.value(), 0u);
}

TEST_F(AlarmBookTest, AShelvedAlarmRaisesNoEventsUntilTheShelveEnds) {
  feed(alert(AlertKind::kRaised));
  ASSERT_EQ(shelve(10'000), CommandResult::kApplied);
  EXPECT_EQ(book_.find({"d1", "hot"})->shelved_until_ms, clock_.wall_ms() + 10'000);
  EXPECT_EQ(stats_.shelved.value(), 1);
  EXPECT_EQ(feed(alert(AlertKind::kCleared)), Kinds{});
  EXPECT_EQ(feed(alert(AlertKind::kRaised)), Kinds{});
  EXPECT_EQ(state(), "active-unacknowledged") << "the state still follows the input";
  EXPECT_EQ(stats_.suppressed_shelved.value(), 2u);
  clock_.advance_ms(9'999);
  EXPECT_EQ(tick(), Kinds{});
  EXPECT_TRUE(book_.find({"d1", "hot"})->shelved());
  clock_.advance_ms(1);
  tick();
  ASSERT_EQ(last_.changed.size(), 1u) << "the shelve's end changes the document";
  EXPECT_FALSE(book_.find({"d1", "hot"})->shelved());
  EXPECT_EQ(stats_.shelves_expired.value(), 1u);
  EXPECT_EQ(stats_.shelved.value(), 0);
  EXPECT_EQ(feed(alert(AlertKind::kCleared)), Kinds{"cleared"});
}

TEST_F(AlarmBookTest, AShelvedAlarmClearedAndAcknowledgedStaysListedUntilTheShelveEnds) {
  feed(alert(AlertKind::kRaised));
  ASSERT_EQ(shelve(5'000), CommandResult::kApplied);
  feed(alert(AlertKind::kCleared));
  ASSERT_EQ(ack(), CommandResult::kApplied);
  EXPECT_EQ(state(), "cleared-acknowledged");
  clock_.advance_ms(5'000);
  tick();
  EXPECT_EQ(state(), "none");
  ASSERT_EQ(last_.changed.size(), 1u);
}

TEST_F(AlarmBookTest, UnshelveEndsTheShelveAtOnce) {
  feed(alert(AlertKind::kRaised));
  ASSERT_EQ(shelve(60'000), CommandResult::kApplied);
  AlarmOutput out;
  EXPECT_EQ(book_.unshelve({"d1", "hot"}, out), CommandResult::kApplied);
  EXPECT_EQ(book_.unshelve({"d1", "hot"}, out), CommandResult::kUnchanged);
  EXPECT_EQ(feed(alert(AlertKind::kCleared)), Kinds{"cleared"});
}

TEST_F(AlarmBookTest, FloodControlLetsTheLimitThroughThenOneSummaryPerWindow) {
  book_.set_policy({.flood_max_events = 3, .flood_window_ms = 10'000});
  Kinds seen;
  for (int i = 0; i < 10; ++i) {
    for (auto& k : feed(alert(i % 2 ? AlertKind::kCleared : AlertKind::kRaised))) seen.push_back(k);
  }
  // Another pair is not affected by d1's flood.
  EXPECT_EQ(feed(alert(AlertKind::kRaised, "d2")), Kinds{"raised"});
  EXPECT_EQ(seen, (Kinds{"raised", "cleared", "raised"}));
  EXPECT_EQ(stats_.suppressed_flood.value(), 7u);
  clock_.advance_ms(9'999);
  EXPECT_EQ(tick(), Kinds{});
  clock_.advance_ms(1);
  EXPECT_EQ(tick(), Kinds{"suppressed"});
  ASSERT_EQ(last_.events.size(), 1u);
  EXPECT_EQ(last_.events[0].suppressed, 7u);
  EXPECT_EQ(last_.events[0].device, "d1");
  EXPECT_EQ(last_.events[0].detector, "hot");
  EXPECT_EQ(stats_.flood_summaries.value(), 1u);
  EXPECT_EQ(tick(), Kinds{}) << "one summary per window";
  // A new window lets events through again; the state followed throughout.
  EXPECT_EQ(state(), "cleared-unacknowledged");
  EXPECT_EQ(feed(alert(AlertKind::kRaised)), Kinds{"raised"});
}

TEST_F(AlarmBookTest, StaleRaisesAStaleAlarmClearedByTheNextReading) {
  Alert stale = alert(AlertKind::kStale, "d1", stale_alarm_name("hot"), 2500);
  stale.limit = 2000;
  EXPECT_EQ(feed(stale), Kinds{"stale"});
  const Alarm* a = book_.find({"d1", "hot.stale"});
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->kind, "stale");
  EXPECT_TRUE(a->active());
  EXPECT_EQ(stats_.stale_raised.value(), 1u);
  EXPECT_EQ(feed(alert(AlertKind::kCleared, "d1", "hot.stale", 20)), Kinds{"cleared"});
  EXPECT_EQ(state("d1", "hot.stale"), "cleared-unacknowledged");
}

TEST_F(AlarmBookTest, RestoredAlarmsAreCountedAndCommandable) {
  Alarm a;
  a.device = "d9";
  a.detector = "hot";
  a.kind = "threshold";
  a.severity = "warning";
  a.state = AlarmState::kActiveAcked;
  a.acked_by = "alice";
  book_.restore(a);
  EXPECT_EQ(stats_.active_by_severity[1].value(), 1);
  EXPECT_EQ(stats_.unacknowledged.value(), 0);
  EXPECT_EQ(feed(alert(AlertKind::kRaised, "d9")), Kinds{}) << "an acknowledged alarm is not raised again";
  EXPECT_EQ(feed(alert(AlertKind::kCleared, "d9")), Kinds{"cleared"});
  EXPECT_EQ(state("d9"), "none");
}

}  // namespace
}  // namespace foggate::routing
