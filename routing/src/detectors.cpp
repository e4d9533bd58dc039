#include "foggate/routing/detectors.h"

#include <algorithm>
#include <cmath>

#include "foggate/message/topic.h"

namespace foggate::routing {

struct DetectorBank::State {
  // threshold
  enum class Band : unsigned char { kInside, kAlarmed, kAlarmedSilent } band = Band::kInside;
  double crossed_limit = 0;
  // anomaly
  uint64_t samples = 0;
  double mean = 0;
  double var = 0;
  // cooldown
  int64_t last_published_mono_ms = 0;
  bool published_any = false;
  Lru::iterator lru;  // this state's place in lru_
};

DetectorBank::DetectorBank(DetectorSpecs specs, const Clock& clock, DetectorStats& stats, std::size_t max_states)
    : max_states_(std::max<std::size_t>(max_states, 1)), clock_(clock), stats_(stats) {
  set_specs(std::move(specs));
}

DetectorBank::State& DetectorBank::state_for(std::size_t detector, const std::string& device) {
  auto& map = states_[detector];
  if (auto it = map.find(std::string_view(device)); it != map.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return it->second;
  }
  if (lru_.size() >= max_states_) {
    const LruKey& victim = lru_.back();
    states_[victim.detector].erase(victim.device);
    lru_.pop_back();
    stats_.evicted.add();
    stats_.tracked.add(-1);
  }
  lru_.push_front({detector, device});
  State& st = map.emplace(device, State{}).first->second;
  st.lru = lru_.begin();
  stats_.tracked.add(1);
  return st;
}

DetectorBank::~DetectorBank() { stats_.tracked.add(-static_cast<int64_t>(tracked())); }

void DetectorBank::set_specs(DetectorSpecs specs) {
  if (!specs) specs = std::make_shared<const std::vector<DetectorSpec>>();
  std::vector<StateMap> next(specs->size());
  std::size_t before = tracked();
  constexpr std::size_t kDropped = static_cast<std::size_t>(-1);
  std::vector<std::size_t> new_index(specs_ ? specs_->size() : 0, kDropped);  // old -> new
  if (specs_) {
    for (std::size_t i = 0; i < specs->size(); ++i) {
      const auto& n = (*specs)[i];
      for (std::size_t j = 0; j < specs_->size(); ++j) {
        const auto& o = (*specs_)[j];
        if (o.name == n.name && o.type == n.type && o.field == n.field) {
          next[i] = std::move(states_[j]);
          new_index[j] = i;
          break;
        }
      }
    }
  }
  // The recency list follows the states that were kept.
  for (auto it = lru_.begin(); it != lru_.end();) {
    const std::size_t ni = it->detector < new_index.size() ? new_index[it->detector] : kDropped;
    if (ni == kDropped) {
      it = lru_.erase(it);
    } else {
      it->detector = ni;
      ++it;
    }
  }
  specs_ = std::move(specs);
  states_ = std::move(next);
  stats_.tracked.add(static_cast<int64_t>(tracked()) - static_cast<int64_t>(before));
}

std::size_t DetectorBank::tracked() const {
  std::size_t n = 0;
  for (const auto& m : states_) n += m.size();
  return n;
}

void DetectorBank::evaluate(const Message& msg, std::vector<Alert>& out) {
  const int64_t now = clock_.mono_ms();
  for (std::size_t i = 0; i < specs_->size(); ++i) {
    const DetectorSpec& spec = (*specs_)[i];
    const Field* f = msg.field(spec.field);
    if (f == nullptr || f->number() == nullptr) continue;
    if (!spec.device.empty() && !glob_matches(spec.device, msg.device)) continue;
    const double x = *f->number();
    if (!std::isfinite(x)) continue;
    stats_.evaluations.add();
    if (seen_ != nullptr && spec.stale_after_ms > 0 && seen_->seen(spec.name, msg.device, now)) {
      Alert fresh;
      fresh.kind = AlertKind::kCleared;
      fresh.detector = stale_alarm_name(spec.name);
      fresh.severity = spec.severity;
      fresh.device = msg.device;
      fresh.field = spec.field;
      fresh.topic = msg.topic;
      fresh.value = x;
      fresh.limit = static_cast<double>(spec.stale_after_ms);
      fresh.sensor_ts_ms = msg.sensor_ts_ms;
      fresh.received_ms = msg.received_ms;
      out.push_back(std::move(fresh));
    }

    State& st = state_for(i, msg.device);
    const bool cooled = !st.published_any || now - st.last_published_mono_ms >= spec.cooldown_ms;

    auto make = [&](AlertKind kind, double limit, double score) {
      Alert a;
      a.kind = kind;
      a.detector = spec.name;
      a.severity = spec.severity;
      a.device = msg.device;
      a.field = spec.field;
      a.topic = msg.topic;
      a.value = x;
      a.limit = limit;
      a.score = score;
      a.sensor_ts_ms = msg.sensor_ts_ms;
      a.received_ms = msg.received_ms;
      return a;
    };
    auto publish_start = [&](Alert a) {
      st.last_published_mono_ms = now;
      st.published_any = true;
      out.push_back(std::move(a));
    };

    if (spec.type == DetectorType::kThreshold) {
      const bool above = spec.max && x > *spec.max;
      const bool below = spec.min && x < *spec.min;
      if (st.band == State::Band::kInside) {
        if (!above && !below) continue;
        st.crossed_limit = above ? *spec.max : *spec.min;
        if (cooled) {
          st.band = State::Band::kAlarmed;
          stats_.raised.add();
          publish_start(make(AlertKind::kRaised, st.crossed_limit, 0));
        } else {
          st.band = State::Band::kAlarmedSilent;
          stats_.suppressed.add();
        }
      } else {
        const bool back_inside = (!spec.max || x <= *spec.max - spec.hysteresis) &&
                                 (!spec.min || x >= *spec.min + spec.hysteresis);
        if (!back_inside) continue;
        if (st.band == State::Band::kAlarmed) {
          stats_.cleared.add();
          out.push_back(make(AlertKind::kCleared, st.crossed_limit, 0));
        } else {
          stats_.suppressed.add();
        }
        st.band = State::Band::kInside;
      }
      continue;
    }

    // Anomaly: score against the statistics so far, then learn the sample.
    const double alpha = 2.0 / (static_cast<double>(spec.window) + 1.0);
    if (st.samples == 0) {
      st.mean = x;
      st.var = 0;
    } else {
      if (st.samples >= spec.warmup) {
        const double sd = std::sqrt(st.var);
        // A flat signal (sd == 0) makes any change infinitely surprising;
        // require a real spread before scoring.
        if (sd > 1e-9) {
          const double z = (x - st.mean) / sd;
          if (std::fabs(z) > spec.z) {
            if (cooled) {
              stats_.anomalies.add();
              publish_start(make(AlertKind::kAnomaly, st.mean, z));
            } else {
              stats_.suppressed.add();
            }
          }
        }
      }
      const double diff = x - st.mean;
      const double incr = alpha * diff;
      st.mean += incr;
      st.var = (1 - alpha) * (st.var + diff * incr);
    }
    ++st.samples;
  }
}

void DetectorBank::restore_alarmed(std::string_view detector, const std::string& device, double limit) {
  for (std::size_t i = 0; i < specs_->size(); ++i) {
    const DetectorSpec& spec = (*specs_)[i];
    if (spec.name != detector || spec.type != DetectorType::kThreshold) continue;
    State& st = state_for(i, device);
    st.band = State::Band::kAlarmed;
    st.crossed_limit = limit;
    return;
  }
}

void DetectorStats::collect(MetricSink& out) const {
  out.push_back({"detector_evaluations_total", {}, static_cast<double>(evaluations.value())});
  out.push_back({"alerts_total", {{"kind", "raised"}}, static_cast<double>(raised.value())});
  out.push_back({"alerts_total", {{"kind", "cleared"}}, static_cast<double>(cleared.value())});
  out.push_back({"alerts_total", {{"kind", "anomaly"}}, static_cast<double>(anomalies.value())});
  out.push_back({"alerts_suppressed_total", {}, static_cast<double>(suppressed.value())});
  out.push_back({"detectors_tracked", {}, static_cast<double>(tracked.value())});
  out.push_back({"detector_states_evicted_total", {}, static_cast<double>(evicted.value())});
}

}  // namespace foggate::routing
