// Detectors: the local work done on "detect" tasks.
//
//  - threshold: alerts "raised" once when a field leaves [min, max] and
//    "cleared" once when it is back inside by at least `hysteresis`; no
//    alerts in between, so a value hovering at the limit does not storm.
//  - anomaly: per device and field, an exponentially weighted mean and
//    variance (window N -> alpha = 2/(N+1)); after `warmup` samples, a value
//    with |z| > k raises an "anomaly" alert. The sample is then folded into
//    the statistics (a lasting level shift stops alerting as it becomes
//    the new normal).
//
// Cooldown, per device and detector: a raise or anomaly within cooldown_ms
// of the previous one published is suppressed (counted). A suppressed raise
// also suppresses its matching clear, so every published "raised" is
// followed by exactly one published "cleared".
//
// DetectorBank is owned by one worker thread (devices are partitioned
// across workers), so it needs no locks; stats() may be read from any thread.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "foggate/base/clock.h"
#include "foggate/base/counter.h"
#include "foggate/message/message.h"
#include "foggate/routing/seen_board.h"

namespace foggate::routing {

enum class DetectorType : unsigned char { kThreshold, kAnomaly };

struct DetectorSpec {
  std::string name;
  DetectorType type = DetectorType::kThreshold;
  std::string field;              // the payload field it watches
  std::string device;             // glob on device ids; empty = every device
  std::string severity = "warning";  // Default: warning (critical, warning or info)
  int64_t cooldown_ms = 60'000;   // Default: 60 s
  // threshold
  std::optional<double> min;      // at least one of min/max is set
  std::optional<double> max;
  double hysteresis = 0;          // Default: 0
  // anomaly
  double z = 3.0;                 // Default: 3 standard deviations
  uint32_t window = 50;           // Default: 50 samples (EWMA span)
  uint32_t warmup = 20;           // Default: 20 samples before alerting
  // Stale sensor: a device that reported this detector's field and then
  // stays silent longer raises the alarm "<name>.stale" (SeenBoard).
  int64_t stale_after_ms = 0;     // Default: 0 (off)
};

// The alarm key of a detector's stale alarm: "<detector>.stale".
inline std::string stale_alarm_name(std::string_view detector) { return std::string(detector) + ".stale"; }

// kStale: a device went silent (raised by the alarm thread's SeenBoard
// scan, cleared by its next reading). kSuppressed: the alarm book's summary
// of events held back by flood control (Alert::suppressed says how many).
enum class AlertKind : unsigned char { kRaised, kCleared, kAnomaly, kStale, kSuppressed };
inline constexpr std::string_view to_string(AlertKind k) {
  switch (k) {
    case AlertKind::kRaised: return "raised";
    case AlertKind::kCleared: return "cleared";
    case AlertKind::kAnomaly: return "anomaly";
    case AlertKind::kStale: return "stale";
    case AlertKind::kSuppressed: return "suppressed";
  }
  return "raised";
}

struct Alert {
  AlertKind kind = AlertKind::kRaised;
  std::string detector;
  std::string severity;
  std::string device;
  std::string field;
  std::string topic;       // the topic the message came in on
  double value = 0;
  double limit = 0;        // threshold: the limit crossed; anomaly: the mean
  double score = 0;        // anomaly: z; threshold: 0
  int64_t sensor_ts_ms = 0;
  int64_t received_ms = 0;
  uint64_t suppressed = 0; // kSuppressed: events held back in the window
};

struct DetectorStats {
  Counter evaluations;
  Counter raised;
  Counter cleared;
  Counter anomalies;
  Counter suppressed;
  Counter evicted;         // states dropped for the cap, least recently seen first
  Gauge tracked;           // (detector, device) states held

  void collect(MetricSink& out) const;
};

using DetectorSpecs = std::shared_ptr<const std::vector<DetectorSpec>>;

// State is capped: past max_states (detector, device) pairs, the least
// recently seen one is dropped (counted in `evicted`), so a publisher that
// invents device ids cannot grow memory without bound. A device seen again
// after eviction starts afresh (threshold inside the band, anomaly warm-up).
class DetectorBank {
 public:
  static constexpr std::size_t kDefaultMaxStates = 100'000;
  DetectorBank(DetectorSpecs specs, const Clock& clock, DetectorStats& stats,
               std::size_t max_states = kDefaultMaxStates);
  ~DetectorBank();

  // Replaces the detector set. State is kept for detectors whose name, type
  // and field are unchanged; other state is dropped.
  void set_specs(DetectorSpecs specs);

  // Runs every detector whose field is present in `msg` and whose device
  // glob matches; appends the alerts to `out`.
  void evaluate(const Message& msg, std::vector<Alert>& out);

  std::size_t tracked() const;

  // Start-up: the threshold alarm `detector` of `device` was active when
  // foggate stopped (the alarm store says so): its state starts alarmed
  // at `limit`, so the next reading inside the band clears it and one
  // outside raises nothing again. Unknown detector names are ignored.
  void restore_alarmed(std::string_view detector, const std::string& device, double limit);

  // Readings of detectors with stale_after_ms are reported to `board`
  // (owned by the gateway, outlives the bank); a reading of a device the
  // board holds stale yields a kCleared alert for "<name>.stale".
  void set_seen_board(SeenBoard* board) { seen_ = board; }

 private:
  struct State;
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using StateMap = std::unordered_map<std::string, State, Hash, std::equal_to<>>;
  struct LruKey {
    std::size_t detector;
    std::string device;
  };
  using Lru = std::list<LruKey>;  // front: most recently seen

  State& state_for(std::size_t detector, const std::string& device);

  DetectorSpecs specs_;
  std::vector<StateMap> states_;  // parallel to *specs_
  Lru lru_;
  const std::size_t max_states_;
  const Clock& clock_;
  DetectorStats& stats_;
  SeenBoard* seen_ = nullptr;
};

}  // namespace foggate::routing
