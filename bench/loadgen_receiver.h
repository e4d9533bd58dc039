// Receiver: the load generator's one subscribing MQTT client's callback.
// Counts the readings it gets (per-device gaps, latency against SendTable),
// matches alerts back to the reading that caused them (latency), and keeps
// foggate's metrics documents as a time series.
//
// Threads: message_arrived() runs on Paho's callback thread and never lets
// an exception out (Paho C++ does not catch; the process would abort).
// Counters are atomics for the main thread's drain loop; everything else is
// guarded by mu_ and read by the main thread once the run is over.
#pragma once

#include <mqtt/callback.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "loadgen_stats.h"
#include "loadgen_wire.h"

namespace foggate::bench {

// One foggate/<id>/metrics document, with the moment it arrived and how
// many messages the load generator had sent by then.
struct GatewaySample {
  int64_t t_us = 0;          // steady clock, arrival
  int64_t arrived_wall_ms = 0;  // system clock, arrival
  int64_t taken_wall_ms = 0;    // the document's time_ms: when foggate read its counters
  uint64_t sent_then = 0;    // messages handed to the publishers by arrival
  double received = 0;       // messages_received_total{source=mqtt}
  double queue_depth = 0;    // sum of queue_depth over the workers
  double shed = 0;           // tasks_shed_total + tasks_routed_total{action=shed}, all labels
  double alerts_failed = 0;  // alerts_failed_total
  double uplink_messages = 0;  // uplink_messages_sent_total, all priorities
  double uplink_bytes = 0;     // uplink_bytes_sent_total, all priorities
  double rss_bytes = 0;        // process_rss_bytes
};

class Receiver final : public mqtt::callback {
 public:
  // `sent_at` and `sent` are the publishers'; both outlive the receiver.
  Receiver(Format format, uint32_t devices, const SendTable& sent_at, const std::atomic<uint64_t>& sent);

  void message_arrived(mqtt::const_message_ptr msg) override;
  void connection_lost(const std::string& cause) override;

  uint64_t readings() const { return readings_.load(std::memory_order_relaxed); }
  uint64_t alerts() const { return alerts_.load(std::memory_order_relaxed); }
  std::optional<GatewaySample> last_sample() const;

  // Everything below: call only once no more messages can arrive.
  struct Report {
    std::vector<std::pair<int64_t, int64_t>> alert_log;  // (send time, latency) µs, in arrival order
    uint64_t readings = 0, gaps = 0, out_of_order = 0;
    int64_t first_reading_us = 0, last_reading_us = 0;
    LatencySet reading_latency;
    uint64_t alerts = 0, alerts_unmatched = 0;
    LatencySet alert_latency;
    // The inbound share of alert_latency: from the reading's "ts" to
    // foggate's "received_ms", both wall clocks of this host in ms, so
    // whole milliseconds (µs values). The rest is foggate and the alert's hop.
    LatencySet alert_inbound;
    std::vector<GatewaySample> samples;
    uint64_t handler_errors = 0, connection_lost = 0;
  };
  Report take_report();

 private:
  void on_reading(const std::string& topic, const std::string& payload, int64_t now_us);
  void on_alert(const std::string& payload, int64_t now_us);
  void on_metrics(const std::string& payload, int64_t now_us);

  const Format format_;
  const SendTable& sent_at_;
  const std::atomic<uint64_t>& sent_;
  std::atomic<uint64_t> readings_{0};
  std::atomic<uint64_t> alerts_{0};
  mutable std::mutex mu_;
  SeqTracker seqs_;      // guarded by mu_
  Report report_;        // guarded by mu_
};

int64_t now_us();  // steady clock
int64_t wall_now_ms();  // system clock, as foggate's time_ms

}  // namespace foggate::bench
