// MqttIngress: the ingest connections to the site broker and the MQTT hop
// of the message path: a PUBLISH on a subscribed filter becomes a Message
// (device and metric from the filter's topic pattern) handed to Ingest.
//
// Two lanes: "ingest" (<client_id>, persistent session) holds every filter;
// when the start configuration has filters with "lane": "priority", they
// get their own connection "ingest-priority" (<client_id>-prio) and broker
// queue, so a backlog on the normal lane cannot delay them; at start the
// normal lane connects once the priority lane is subscribed (1 s at most). A message
// matching a priority filter that also arrives on the normal lane is
// dropped there and counted (mqtt_lane_duplicates_total).
//
// Filters removed from the configuration between two runs are unsubscribed
// after the next connect (SubscriptionMemory), so the broker's persistent
// session stops queueing for them.
//
// The connections are foggate's own (MqttIngestConnection): chunked
// reads, and a QoS 1 reading is acknowledged only once it is safe (its
// Message carries the connection's Receipt). A QoS 0 reading is queued
// whatever the queues hold (they shed by priority); a QoS 1 reading whose
// worker queue is full waits here, parked, while its connection stops
// reading (TCP backpressure) and offers it again.
//
// The normal lane carries foggate's presence (protocols::MqttPresence):
// its Will says "offline", it publishes "online" once subscribed (so after
// the priority lane is too) and the farewell at stop.
//
// Threads: on_publish runs on each lane's connection thread and touches
// only its Lane's parked message, Ingest (thread-safe), the live Config
// snapshot and counters. Everything else is called from the gateway's
// controlling thread (start, pause, stop) or the supervisor (tick,
// set_filters, renew_credentials); collect() from any.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "foggate/base/clock.h"
#include "foggate/base/counter.h"
#include "foggate/base/result.h"
#include "foggate/gateway/config.h"
#include "foggate/protocols/mqtt_client.h"
#include "foggate/protocols/mqtt_ingest_connection.h"
#include "ingress/ingest.h"
#include "ingress/subscription_memory.h"

namespace foggate::gateway {

// The settings every connection of foggate's own to the site broker
// shares (URIs, client id, version, keepalive, limits, user name,
// password, TLS): the ingest lanes and the alert connection.
protocols::MqttIngestOptions site_connection_options(const Config& cfg, const protocols::MqttOptions& site);

class MqttIngress {
 public:
  // `site`: connection settings shared with the publisher (URIs, user
  // name, password, TLS). `presence`: what the normal lane announces. The
  // clients are created here, started by start().
  MqttIngress(const Config& cfg, const protocols::MqttOptions& site, const LiveConfig& live, Ingest& ingest,
              const Clock& clock, protocols::MqttPresence presence);
  ~MqttIngress();

  // Called on the normal lane's thread each time its subscriptions are
  // acknowledged after a connect. Required, before start().
  void on_ready(std::function<void()> f);
  Result<void> start();
  // Stops reading; what is undelivered stays queued in the broker.
  void pause();
  // After the workers and the uplink have made safe what they hold: writes
  // the last acknowledgements and disconnects; records the filters
  // acknowledged since the last tick(). After the supervisor has stopped.
  void stop();
  // Reconnects; records the filters each lane has acknowledged.
  void tick();
  bool connected() const;  // the normal lane
  // A new live ingest section: resubscribes each lane. The priority lane
  // opens only at start.
  void set_filters(const IngestSection& in);
  void renew_credentials(const protocols::MqttOptions& site);
  // The status document published in place of "online" at stop(). Any thread.
  void set_farewell(std::string payload) { normal_lane_.client->set_farewell(std::move(payload)); }
  void collect(MetricSink& out) const;

 private:
  std::vector<protocols::MqttSubscription> lane_subscriptions(const IngestSection& in, bool priority_lane) const;
  // One connection and the filters it has as configured (for
  // SubscriptionMemory; supervisor thread).
  struct Lane {
    std::vector<std::string> filters;
    std::atomic<bool> acknowledged{false};  // set on the lane's thread, taken by remember_acknowledged()
    std::optional<Message> parked;          // lane's thread: a QoS 1 reading waiting for queue room
    // Declared last, destroyed first: its callbacks touch the members above.
    std::unique_ptr<protocols::MqttIngestConnection> client;  // the priority lane's only with a priority filter at start
  };
  void configure(Lane& lane, std::vector<protocols::MqttSubscription> subs);
  // Records in SubscriptionMemory the filters of each lane whose
  // subscriptions were answered since the last call.
  void remember_acknowledged();
  protocols::Admission on_publish(Lane& lane, const protocols::Publish& p, ReceiptPtr receipt, bool again);

  // With a priority lane, the normal lane starts once the priority lane is
  // subscribed, or after this long (start()).
  static constexpr int64_t kNormalLaneWaitMs = 1000;
  void start_normal_lane();  // once; from the priority lane's thread or tick()

  const LiveConfig& live_;
  Ingest& ingest_;
  const Clock& clock_;
  std::mutex start_mu_;
  bool normal_started_ = false;  // guarded by start_mu_
  bool stopped_ = false;         // guarded by start_mu_
  std::atomic<int64_t> normal_lane_deadline_ms_{0};  // set by start(), read by tick()
  SubscriptionMemory memory_;  // supervisor thread (and the constructor)
  Lane normal_lane_;
  Lane priority_lane_;
  Counter lane_duplicates_;
  std::atomic<bool> pattern_mismatch_logged_{false};
};

}  // namespace foggate::gateway
