#include "foggate/routing/alarm_book.h"

namespace foggate::routing {
namespace {

constexpr std::array<std::string_view, 3> kSeverities{"critical", "warning", "info"};
constexpr std::array<std::string_view, 4> kStateNames{"active-unacknowledged", "active-acknowledged",
                                                      "cleared-unacknowledged", "cleared-acknowledged"};

std::string_view kind_of(AlertKind k) {
  switch (k) {
    case AlertKind::kAnomaly: return "anomaly";
    case AlertKind::kStale: return "stale";
    default: return "threshold";
  }
}

}  // namespace

std::string_view to_string(AlarmState s) { return kStateNames[static_cast<std::size_t>(s)]; }

bool parse_alarm_state(std::string_view s, AlarmState& out) {
  for (std::size_t i = 0; i < kStateNames.size(); ++i)
    if (kStateNames[i] == s) {
      out = static_cast<AlarmState>(i);
      return true;
    }
  return false;
}

AlarmBook::AlarmBook(AlarmPolicy policy, const Clock& clock, AlarmStats& stats)
    : policy_(policy), clock_(clock), stats_(stats) {}

AlarmBook::~AlarmBook() {
  for (const auto& [k, a] : alarms_) account(a, -1);
}

// The gauges follow every change: each mutation takes the alarm out of
// them (-1) and puts it back (+1), so no call walks the whole book.
void AlarmBook::account(const Alarm& a, int sign) {
  stats_.listed.add(sign);
  if (a.active())
    for (std::size_t i = 0; i < kSeverities.size(); ++i)
      if (a.severity == kSeverities[i]) stats_.active_by_severity[i].add(sign);
  if (!a.acknowledged()) stats_.unacknowledged.add(sign);
  if (a.shelved()) stats_.shelved.add(sign);
}

void AlarmBook::erase(Alarms::iterator it, AlarmOutput& out) {
  account(it->second, -1);
  out.changed.push_back(it->first);
  alarms_.erase(it);
}

void AlarmBook::restore(Alarm a) {
  AlarmKey k = a.key();
  if (auto it = alarms_.find(k); it != alarms_.end()) account(it->second, -1);
  account(a, +1);
  alarms_[std::move(k)] = std::move(a);
}

const Alarm* AlarmBook::find(const AlarmKey& k) const {
  auto it = alarms_.find(k);
  return it == alarms_.end() ? nullptr : &it->second;
}

void AlarmBook::on_alert(const Alert& a, AlarmOutput& out) {
  AlarmKey k{a.device, a.detector};
  switch (a.kind) {
    case AlertKind::kRaised:
    case AlertKind::kAnomaly:
    case AlertKind::kStale: raise(k, a, out); break;
    case AlertKind::kCleared: clear(k, a, out); break;
    case AlertKind::kSuppressed: break;  // the book's own output, never an input
  }
}

void AlarmBook::raise(const AlarmKey& k, const Alert& a, AlarmOutput& out) {
  const int64_t now = clock_.wall_ms();
  const bool momentary = a.kind == AlertKind::kAnomaly;
  auto it = alarms_.find(k);
  if (it != alarms_.end() && it->second.active() && !momentary) {
    // Still active: the detector lost its state (a restart), not a new raise.
    Alarm& al = it->second;
    al.value = a.value;
    stats_.repeated.add();
    out.changed.push_back(k);
    return;
  }
  if (it == alarms_.end()) {
    Alarm al;
    al.device = a.device;
    al.detector = a.detector;
    al.kind = kind_of(a.kind);
    al.first_raised_ms = now;
    it = alarms_.emplace(k, std::move(al)).first;
  } else {
    account(it->second, -1);
    ++it->second.reraises;
  }
  Alarm& al = it->second;
  al.severity = a.severity;
  al.field = a.field;
  al.state = momentary ? AlarmState::kClearedUnacked : AlarmState::kActiveUnacked;
  al.value = a.value;
  al.limit = a.limit;
  al.last_raised_ms = now;
  al.cleared_ms = momentary ? now : 0;
  // A new occurrence needs a new acknowledgement.
  al.acked_by.clear();
  al.ack_comment.clear();
  al.acked_ms = 0;
  account(al, +1);
  stats_.raised.add();
  if (a.kind == AlertKind::kStale) stats_.stale_raised.add();
  out.changed.push_back(k);
  emit(k, &al, a, out);
}

void AlarmBook::clear(const AlarmKey& k, const Alert& a, AlarmOutput& out) {
  auto it = alarms_.find(k);
  if (it == alarms_.end()) {
    // No alarm listed (raised before alarms were kept): the event only.
    emit(k, nullptr, a, out);
    return;
  }
  Alarm& al = it->second;
  if (!al.active()) return;  // already cleared
  stats_.cleared.add();
  const bool shelved = al.shelved();
  emit(k, &al, a, out);
  account(al, -1);
  al.value = a.value;
  al.cleared_ms = clock_.wall_ms();
  if (al.state == AlarmState::kActiveUnacked) {
    al.state = AlarmState::kClearedUnacked;
  } else if (shelved) {
    al.state = AlarmState::kClearedAcked;  // listed until the shelve ends
  } else {
    alarms_.erase(it);
    out.changed.push_back(k);
    return;
  }
  account(al, +1);
  out.changed.push_back(k);
}

void AlarmBook::emit(const AlarmKey& k, const Alarm* alarm, const Alert& a, AlarmOutput& out) {
  if (alarm != nullptr && alarm->shelved()) {
    stats_.suppressed_shelved.add();
    return;
  }
  if (policy_.flood_max_events == 0) {
    out.events.push_back(a);
    return;
  }
  const int64_t now = clock_.mono_ms();
  Flood& f = floods_[k];
  if (f.events == 0 && f.suppressed == 0) {
    f.window_start_ms = now;
  } else if (now - f.window_start_ms >= policy_.flood_window_ms) {
    end_window(k, f, out);  // tick() has not run since the window ended
    f = Flood{};
    f.window_start_ms = now;
  }
  if (f.events < policy_.flood_max_events) {
    ++f.events;
    out.events.push_back(a);
    return;
  }
  ++f.suppressed;
  f.last = a;
  stats_.suppressed_flood.add();
}

void AlarmBook::end_window(const AlarmKey&, Flood& f, AlarmOutput& out) {
  if (f.suppressed == 0) return;
  Alert s = f.last;
  s.kind = AlertKind::kSuppressed;
  s.suppressed = f.suppressed;
  stats_.flood_summaries.add();
  out.events.push_back(std::move(s));
}

CommandResult AlarmBook::acknowledge(const AlarmKey& k, const std::string& op, const std::string& comment,
                                     AlarmOutput& out) {
  auto it = alarms_.find(k);
  if (it == alarms_.end()) return CommandResult::kNoSuchAlarm;
  Alarm& al = it->second;
  if (al.acknowledged()) return CommandResult::kUnchanged;
  stats_.acks.add();
  if (al.state == AlarmState::kClearedUnacked && !al.shelved()) {
    erase(it, out);
    return CommandResult::kApplied;
  }
  account(al, -1);
  al.state = al.state == AlarmState::kActiveUnacked ? AlarmState::kActiveAcked : AlarmState::kClearedAcked;
  al.acked_by = op;
  al.ack_comment = comment;
  al.acked_ms = clock_.wall_ms();
  account(al, +1);
  out.changed.push_back(k);
  return CommandResult::kApplied;
}

CommandResult AlarmBook::shelve(const AlarmKey& k, const std::string& op, int64_t duration_ms,
                                const std::string& comment, AlarmOutput& out) {
  auto it = alarms_.find(k);
  if (it == alarms_.end()) return CommandResult::kNoSuchAlarm;
  if (duration_ms <= 0 || duration_ms > policy_.max_shelve_ms) return CommandResult::kBadDuration;
  Alarm& al = it->second;
  account(al, -1);
  al.shelved_by = op;
  al.shelve_comment = comment;
  al.shelved_until_ms = clock_.wall_ms() + duration_ms;
  account(al, +1);
  stats_.shelves.add();
  out.changed.push_back(k);
  return CommandResult::kApplied;
}

CommandResult AlarmBook::unshelve(const AlarmKey& k, AlarmOutput& out) {
  auto it = alarms_.find(k);
  if (it == alarms_.end()) return CommandResult::kNoSuchAlarm;
  if (!it->second.shelved()) return CommandResult::kUnchanged;
  stats_.unshelves.add();
  end_shelve(it, out);
  return CommandResult::kApplied;
}

void AlarmBook::end_shelve(Alarms::iterator it, AlarmOutput& out) {
  Alarm& al = it->second;
  if (al.state == AlarmState::kClearedAcked) {
    erase(it, out);
    return;
  }
  account(al, -1);
  al.shelved_by.clear();
  al.shelve_comment.clear();
  al.shelved_until_ms = 0;
  account(al, +1);
  out.changed.push_back(it->first);
}

void AlarmBook::tick(AlarmOutput& out) {
  const int64_t wall = clock_.wall_ms();
  for (auto it = alarms_.begin(); it != alarms_.end();) {
    auto next = std::next(it);
    if (it->second.shelved() && it->second.shelved_until_ms <= wall) {
      stats_.shelves_expired.add();
      end_shelve(it, out);
    }
    it = next;
  }
  const int64_t now = clock_.mono_ms();
  for (auto it = floods_.begin(); it != floods_.end();) {
    if (now - it->second.window_start_ms >= policy_.flood_window_ms) {
      end_window(it->first, it->second, out);
      it = floods_.erase(it);
    } else {
      ++it;
    }
  }
}

void AlarmStats::collect(MetricSink& out) const {
  for (std::size_t i = 0; i < kSeverities.size(); ++i)
    out.push_back({"alarms_active", {{"severity", std::string(kSeverities[i])}},
                   static_cast<double>(active_by_severity[i].value())});
  out.push_back({"alarms_unacknowledged", {}, static_cast<double>(unacknowledged.value())});
  out.push_back({"alarms_shelved", {}, static_cast<double>(shelved.value())});
  out.push_back({"alarms_listed", {}, static_cast<double>(listed.value())});
  out.push_back({"alarms_raised_total", {}, static_cast<double>(raised.value())});
  out.push_back({"alarms_cleared_total", {}, static_cast<double>(cleared.value())});
  out.push_back({"alarms_stale_raised_total", {}, static_cast<double>(stale_raised.value())});
  out.push_back({"alarms_repeated_total", {}, static_cast<double>(repeated.value())});
  out.push_back({"alarm_acks_total", {}, static_cast<double>(acks.value())});
  out.push_back({"alarm_shelves_total", {}, static_cast<double>(shelves.value())});
  out.push_back({"alarm_unshelves_total", {}, static_cast<double>(unshelves.value())});
  out.push_back({"alarm_shelves_expired_total", {}, static_cast<double>(shelves_expired.value())});
  out.push_back({"alarm_events_suppressed_total", {{"reason", "shelved"}},
                 static_cast<double>(suppressed_shelved.value())});
  out.push_back({"alarm_events_suppressed_total", {{"reason", "flood"}},
                 static_cast<double>(suppressed_flood.value())});
  out.push_back({"alarm_flood_summaries_total", {}, static_cast<double>(flood_summaries.value())});
}

}  // namespace foggate::routing
