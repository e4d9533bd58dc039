// MqttIngress: the ingest connections to the site broker and the MQTT hop
// of the message path: a PUBLISH on a subscribed filter becomes a Message
// (device and metric from the filter's topic pattern) handed to Ingest.
//
// Two lanes: "ingest" (<client_id>, persistent session) holds every filter;
// when the start configuration has filters with "lane": "priority", they
// get their own connection "ingest-priority" (<client_id>-prio) and broker
// queue, so a backlog on the normal lane cannot delay them. A message
// matching a priority filter that also arrives on the normal lane is
// dropped there and counted (mqtt_lane_duplicates_total).
//
// Filters removed from the configuration between two runs are unsubscribed
// after the next connect (SubscriptionMemory), so the broker's persistent
// session stops queueing for them.
//
// Threads: on_message runs on Paho's callback thread and touches only
// Ingest (thread-safe), the live Config snapshot and counters. Everything
// else is called from the gateway's controlling thread (start, stop) or the
// supervisor (tick, set_filters, renew_credentials); collect() from any.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "foggate/base/clock.h"
#include "foggate/base/counter.h"
#include "foggate/base/result.h"
#include "foggate/gateway/config.h"
#include "foggate/protocols/mqtt_client.h"
#include "ingress/ingest.h"
#include "ingress/subscription_memory.h"

namespace foggate::gateway {

class MqttIngress {
 public:
  // `site`: connection settings shared with the publisher (URIs, user
  // name, password, TLS). The clients are created here, started by start().
  MqttIngress(const Config& cfg, const protocols::MqttOptions& site, const LiveConfig& live, Ingest& ingest,
              const Clock& clock);
  ~MqttIngress();

  // Called on Paho's thread each time the normal lane's subscriptions are
  // acknowledged after a connect. Required, before start().
  void on_ready(std::function<void()> f);
  Result<void> start();
  // Stops reading; what is undelivered stays queued in the broker.
  void stop();
  // Reconnects; records the filters each lane has acknowledged.
  void tick();
  bool connected() const;  // the normal lane
  // A new live ingest section: resubscribes each lane. The priority lane
  // opens only at start.
  void set_filters(const IngestSection& in);
  void renew_credentials(const protocols::MqttOptions& site);
  void collect(MetricSink& out) const;

 private:
  std::vector<protocols::MqttSubscription> lane_subscriptions(const IngestSection& in, bool priority_lane) const;
  // One connection and the filters it has as configured (for
  // SubscriptionMemory; supervisor thread).
  struct Lane {
    std::vector<std::string> filters;
    std::atomic<bool> acknowledged{false};  // set on Paho's thread, taken by tick()
    // Declared last, destroyed first: its callbacks touch the members above.
    std::unique_ptr<protocols::MqttClient> client;  // the priority lane's only with a priority filter at start
  };
  void configure(Lane& lane, std::vector<protocols::MqttSubscription> subs);
  void on_message(const std::string& topic, const std::string& payload, bool priority_lane);

  const LiveConfig& live_;
  Ingest& ingest_;
  SubscriptionMemory memory_;  // supervisor thread (and the constructor)
  Lane normal_lane_;
  Lane priority_lane_;
  Counter lane_duplicates_;
  std::atomic<bool> pattern_mismatch_logged_{false};
};

}  // namespace foggate::gateway
