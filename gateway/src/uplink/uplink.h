// Uplink: the store-and-forward path for "forward" tasks.
//
//   workers --forward()--> inbox (bounded) --> [uplink thread]
//     Batcher (per priority) -> encode_batch (msgpack + zlib) -> Spool (SQLite,
//     group commit every commit_interval_ms) -> TokenBucket -> upstream MQTT
//     (QoS 1) -> PUBACK -> Spool::remove
//
// The uplink thread owns the batcher, the spool (its SQLite connection), the
// token bucket and the send decisions. Paho's thread only records
// acknowledgements for it. Workers only touch the inbox.
//
// Guarantees: a batch is deleted from the spool only after the upstream
// broker's PUBACK (at-least-once: a batch may arrive twice after a
// reconnect, consumers dedupe by gateway + seq). A clean stop seals and
// commits everything. A message's Receipt (QoS 1 from the site broker) is
// released only once its batch is committed, so after a kill -9 the site
// broker delivers again what was not yet durable; what came in at QoS 0
// and was not committed (at most commit_interval_ms of forward traffic
// plus the inbox) is lost.
// Upstream outages only grow the spool; forward() never blocks.
//
// Degrading (issue #15): when the spool's backlog would take longer than
// a horizon to drain at the budget, or the spool passes a fill mark
// (routing::DegradePolicy), normal and low forward traffic is folded into
// summaries per (device, topic, field) (routing::Summarizer) and summary
// batches (one per window, or sooner when the link idles: UplinkDegrade)
// go into the spool instead of every reading. The open
// window is not durable: its QoS 1 receipts are held until the summary
// batch is committed (the site broker redelivers after a kill -9), its
// QoS 0 and CoAP readings are what a kill -9 loses, and they count in
// `uncommitted`. A clean stop, a reconfiguration and the return to full
// resolution flush the window at once. Full-resolution batches of a
// degraded priority already in the spool are compacted: folded into one
// summary batch that replaces them in the same transaction.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "foggate/base/clock.h"
#include "foggate/base/counter.h"
#include "foggate/base/result.h"
#include "foggate/gateway/config.h"
#include "foggate/routing/forward_sink.h"

namespace foggate::gateway {

struct UplinkStats {
  std::array<Counter, kPriorityCount> accepted;   // forward tasks taken into the inbox
  std::array<Counter, kPriorityCount> refused;    // inbox full: dropped, counted
  std::array<Counter, kPriorityCount> batches_sent;
  std::array<Counter, kPriorityCount> messages_sent;
  std::array<Counter, kPriorityCount> bytes_sent;  // payload + topic of acknowledged publishes
  Counter raw_bytes_sent;                          // topic + payload bytes of the messages in them
  Counter publishes;                               // publish attempts handed to Paho
  Counter publish_failures;
  Counter encode_errors;
  Counter read_errors;                             // transient spool read failures (retried)
  std::array<Counter, kPriorityCount> lost;        // accepted, then given up (spool unwritable, batch missing)
  Gauge in_flight;
  Gauge inbox_depth;
  Gauge uncommitted;  // accepted, not yet durable in the spool: the kill -9 exposure
  Gauge connect_failures;  // failed connect attempts upstream (TLS refusals included), all clients so far
  // Degraded forwarding (issue #15), per priority (only normal and low move).
  std::array<Gauge, kPriorityCount> degraded;             // 1 while readings are folded into summaries
  std::array<Counter, kPriorityCount> degraded_ms;        // time spent degraded (uplink clock)
  std::array<Counter, kPriorityCount> summarized;         // readings folded into summaries
  std::array<Counter, kPriorityCount> summaries;          // summary messages sealed into batches
  std::array<Counter, kPriorityCount> summaries_sent;     // summary messages acknowledged upstream
  std::array<Gauge, kPriorityCount> window_readings;      // readings in the open summary window (part of uncommitted)
  std::array<Counter, kPriorityCount> compacted;          // spooled readings folded into summaries (compaction)
};

class Uplink final : public routing::ForwardSink {
 public:
  Uplink(const Config& config, const Clock& clock);
  ~Uplink() override;

  // Opens the spool and connects upstream in the background.
  // Error "spool_open" when the data dir is unusable.
  Result<void> start();
  // Seals and commits everything, then disconnects. Idempotent.
  void stop();

  // Applies a new uplink section without losing anything: the uplink thread
  // seals and commits what is open, then reconnects with the new settings.
  // The inbox and the spool carry over.
  void reconfigure(const UplinkSection& section);

  bool forward(std::shared_ptr<const Message> message, Priority priority, uint32_t flags) override;

  void collect(MetricSink& out) const;
  // Why the upstream connection last failed ("" while it never did). Any thread.
  std::string last_error() const;
  void log_summary() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace foggate::gateway
