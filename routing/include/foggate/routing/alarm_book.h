// AlarmBook: the alarm state of every (device, detector) pair with an
// alarm that is active or not yet acknowledged, after ISA-18.2: the state
// machine, shelving and flood control. It turns detector alerts and
// operator commands into the events to publish and the alarms whose state
// document changed; I/O (MQTT, the alarm store) is the caller's
// (gateway/src/alarms/alarm_service.h). docs/alarms.md has the model.
//
//   raise ──▶ active-unack ──ack──▶ active-ack
//                  │ clear               │ clear
//                  ▼                     ▼
//            cleared-unack ──ack──▶ (removed: empty retained document)
//   a raise of a cleared alarm makes it active-unack again (re-raise + 1)
//
// An anomaly has no "clear": it starts (and re-raises) as cleared-unack and
// stays listed until acknowledged. A shelved alarm that is cleared and
// acknowledged stays listed as cleared-ack until its shelve ends.
//
// Events: a raise, re-raise or clear yields its alert event, unless the
// alarm is shelved (counted) or its (device, detector) pair already had
// flood_max_events in the current flood window: then the event is held
// back, and when the window ends one kSuppressed event says how many. A
// raise of an alarm that is already active (a detector that forgot its
// state) only updates the value: it is not re-raised.
//
// Times: alarm times and shelve ends are wall-clock milliseconds (they
// survive restarts); flood windows are monotonic.
//
// Threads: not thread-safe; its user serialises calls (AlarmService's
// book_mu_: the workers and the alarm thread). AlarmStats may be read from
// any thread.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "foggate/base/clock.h"
#include "foggate/base/counter.h"
#include "foggate/routing/detectors.h"

namespace foggate::routing {

enum class AlarmState : unsigned char { kActiveUnacked, kActiveAcked, kClearedUnacked, kClearedAcked };
std::string_view to_string(AlarmState s);
bool parse_alarm_state(std::string_view s, AlarmState& out);

struct AlarmKey {
  std::string device;
  std::string detector;  // a detector's name, or "<name>.stale"
  auto operator<=>(const AlarmKey&) const = default;
};

struct Alarm {
  std::string device;
  std::string detector;
  std::string kind;      // "threshold", "anomaly" or "stale"
  std::string severity;  // critical, warning or info
  std::string field;
  AlarmState state = AlarmState::kActiveUnacked;
  double value = 0;      // the last value seen (stale: ms of silence when raised)
  double limit = 0;      // the limit crossed (anomaly: the mean; stale: stale_after_ms)
  int64_t first_raised_ms = 0;
  int64_t last_raised_ms = 0;
  uint64_t reraises = 0;
  int64_t cleared_ms = 0;       // 0 while active
  std::string acked_by;         // "" while unacknowledged
  std::string ack_comment;
  int64_t acked_ms = 0;
  std::string shelved_by;
  std::string shelve_comment;
  int64_t shelved_until_ms = 0;  // 0: not shelved

  AlarmKey key() const { return {device, detector}; }
  bool active() const { return state == AlarmState::kActiveUnacked || state == AlarmState::kActiveAcked; }
  bool acknowledged() const { return state == AlarmState::kActiveAcked || state == AlarmState::kClearedAcked; }
  bool shelved() const { return shelved_until_ms != 0; }
};

struct AlarmPolicy {
  uint32_t flood_max_events = 10;     // Default: 10 events per (device, detector) per window; 0 = no limit
  int64_t flood_window_ms = 60'000;   // Default: 60 s
  int64_t max_shelve_ms = 86'400'000; // Default: 24 h; longer shelve requests are refused
};

struct AlarmStats {
  Counter raised;            // raises and re-raises
  Counter cleared;
  Counter stale_raised;      // of `raised`: stale sensors
  Counter repeated;          // raises of an alarm already active: value updated only
  Counter acks;
  Counter shelves;
  Counter unshelves;
  Counter shelves_expired;
  Counter suppressed_shelved;  // events not published: the alarm was shelved
  Counter suppressed_flood;    // events not published: over the flood limit
  Counter flood_summaries;     // kSuppressed events
  std::array<Gauge, 3> active_by_severity;  // critical, warning, info
  Gauge unacknowledged;
  Gauge shelved;
  Gauge listed;              // alarms with a state document

  void collect(MetricSink& out) const;
};

// What one call changed: events to publish on the alert topics, in order,
// and the alarms whose state document changed (find() == nullptr: removed).
struct AlarmOutput {
  std::vector<Alert> events;
  std::vector<AlarmKey> changed;
};

enum class CommandResult : unsigned char { kApplied, kUnchanged, kNoSuchAlarm, kBadDuration };

class AlarmBook {
 public:
  AlarmBook(AlarmPolicy policy, const Clock& clock, AlarmStats& stats);
  ~AlarmBook();
  AlarmBook(const AlarmBook&) = delete;
  AlarmBook& operator=(const AlarmBook&) = delete;

  void set_policy(const AlarmPolicy& policy) { policy_ = policy; }

  // Start-up: an alarm as the store kept it (no event).
  void restore(Alarm a);

  // A detector's alert (kRaised, kAnomaly, kStale raise; kCleared clears).
  void on_alert(const Alert& a, AlarmOutput& out);

  // Operator commands; `op` is the operator named in the command.
  CommandResult acknowledge(const AlarmKey& k, const std::string& op, const std::string& comment, AlarmOutput& out);
  CommandResult shelve(const AlarmKey& k, const std::string& op, int64_t duration_ms, const std::string& comment,
                       AlarmOutput& out);
  CommandResult unshelve(const AlarmKey& k, AlarmOutput& out);

  // Ends shelves whose time is up and flood windows that are over (their
  // summary events). Call periodically.
  void tick(AlarmOutput& out);

  const Alarm* find(const AlarmKey& k) const;
  const std::map<AlarmKey, Alarm>& alarms() const { return alarms_; }

 private:
  struct Flood {
    int64_t window_start_ms = 0;  // monotonic
    uint32_t events = 0;
    uint64_t suppressed = 0;
    Alert last;                   // the newest suppressed event: the summary's fields
  };
  using Alarms = std::map<AlarmKey, Alarm>;

  void emit(const AlarmKey& k, const Alarm* alarm, const Alert& a, AlarmOutput& out);
  void end_window(const AlarmKey& k, Flood& f, AlarmOutput& out);
  void raise(const AlarmKey& k, const Alert& a, AlarmOutput& out);
  void clear(const AlarmKey& k, const Alert& a, AlarmOutput& out);
  void account(const Alarm& a, int sign);
  void erase(Alarms::iterator it, AlarmOutput& out);
  void end_shelve(Alarms::iterator it, AlarmOutput& out);

  AlarmPolicy policy_;
  const Clock& clock_;
  AlarmStats& stats_;
  Alarms alarms_;
  std::map<AlarmKey, Flood> floods_;
};

}  // namespace foggate::routing
