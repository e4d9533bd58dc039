// Ingest: the common path of every sensor message, MQTT or CoAP:
// decode the payload, classify it with the current RuleSet, and try_push
// its tasks to the worker that owns the device. Runs on the MQTT ingest
// connections' threads and on the CoAP thread; touches only atomics, the per-queue
// mutexes and (on the error path) the reason counters.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "foggate/base/clock.h"
#include "foggate/base/counter.h"
#include "foggate/message/message.h"
#include "foggate/protocols/payload_decoder.h"
#include "foggate/routing/forward_sink.h"
#include "foggate/routing/rule_set.h"
#include "foggate/routing/task_queue.h"

namespace foggate::gateway {

struct IngestSourceStats {
  Counter received;
  Counter accepted;         // decoded and classified (its tasks may still be shed, see queues)
  Counter malformed;        // rejected: payload could not be decoded
  Counter overloaded;       // refused with backpressure (CoAP 5.03)
  Counter pattern_mismatch; // topic did not fit the subscription's pattern; device = topic
  Counter dropped_by_rule;  // a rule said "drop": intended, but counted
};

class Ingest {
 public:
  enum class Outcome { kAccepted, kMalformed, kOverloaded };
  struct Verdict {
    Outcome outcome = Outcome::kAccepted;
    std::string reason;  // for kMalformed: the decoder's reason and detail
  };

  Ingest(const Clock& clock, std::vector<std::unique_ptr<routing::TaskQueue>>& queues,
         std::size_t queue_capacity, protocols::DecodeOptions decode);

  void set_rules(std::shared_ptr<const routing::RuleSet> rules) { rules_.store(std::move(rules)); }
  // Payload limits; takes effect for the next message. Any thread.
  void set_decode(const protocols::DecodeOptions& decode);

  // What a full worker queue does to a message that yields no critical task.
  enum class WhenFull {
    kShed,    // queue anyway: the queue sheds by priority (MQTT QoS 0)
    kRefuse,  // refuse it, counted as overloaded (CoAP: 5.03, the client retries)
    kWait,    // refuse it uncounted and leave `msg` intact: the caller holds it
              // and offers it again with accept_again() (MQTT QoS 1: the
              // connection stops reading meanwhile)
  };
  // `msg` has source, topic, device, metric, payload and requested format set.
  // It is moved from unless the outcome is kOverloaded.
  // `defer_wake`: the workers are not woken per task; the caller calls
  // wake_workers() after a run of messages (and before it waits).
  Verdict accept(Message&& msg, WhenFull when_full, bool defer_wake = false);
  // A message accept() or accept_again() refused with kWait, already
  // decoded: routed again without being decoded or counted twice.
  Verdict accept_again(Message&& msg, bool defer_wake = false);
  void wake_workers();

  // Where tasks routed "offload" go (the uplink, flagged offloaded); set
  // before the first message. Without one, offloaded tasks are only counted.
  using OffloadSink = std::function<void(std::shared_ptr<const Message>, Priority)>;
  void set_offload(OffloadSink sink) { offload_ = std::move(sink); }
  // While no uplink is configured, forward tasks go straight to `sink`
  // (which counts and discards them) instead of through a worker: half
  // the queue traffic of the default rules. nullptr: queue them. `sink`
  // must outlive this Ingest and not block. Any thread.
  void set_forward_bypass(routing::ForwardSink* sink) { forward_bypass_.store(sink, std::memory_order_relaxed); }
  // CPU or memory over the configured marks (the supervisor samples them).
  // Any thread.
  void set_pressure(bool on) { pressure_.store(on, std::memory_order_relaxed); }
  bool pressure() const { return pressure_.load(std::memory_order_relaxed); }

  void note_pattern_mismatch(Source s) { stats_for(s).pattern_mismatch.add(); }
  const IngestSourceStats& stats(Source s) const { return s == Source::kMqtt ? mqtt_ : coap_; }
  void collect(MetricSink& out) const;

 private:
  IngestSourceStats& stats_for(Source s) { return s == Source::kMqtt ? mqtt_ : coap_; }
  Verdict route(Message&& msg, WhenFull when_full, bool defer_wake);
  void count_malformed(Source s, const std::string& reason);

  const Clock& clock_;
  std::vector<std::unique_ptr<routing::TaskQueue>>& queues_;
  const std::size_t queue_capacity_;
  using DecodeByFormat = std::array<protocols::DecodeOptions, 4>;  // one per PayloadFormat: no copy per message
  std::atomic<std::shared_ptr<const DecodeByFormat>> decode_;
  std::atomic<std::shared_ptr<const routing::RuleSet>> rules_;
  IngestSourceStats mqtt_;
  IngestSourceStats coap_;
  OffloadSink offload_;
  std::atomic<bool> pressure_{false};
  std::atomic<routing::ForwardSink*> forward_bypass_{nullptr};
  std::array<Counter, kPriorityCount> overload_shed_;  // tasks dropped by their on_overload policy
  std::array<Counter, kPriorityCount> offloaded_;      // tasks sent upstream instead of run here
  mutable std::mutex reasons_mu_;
  std::map<std::pair<Source, std::string>, uint64_t> malformed_by_reason_;  // guarded by reasons_mu_
};

// The worker that owns a device: all of a device's tasks go to one worker,
// so its detector state needs no lock and its readings stay in order.
std::size_t worker_for(std::string_view device, std::size_t workers);

}  // namespace foggate::gateway
