// MqttClient: one MQTT connection through Eclipse Paho MQTT C++ (async).
//
// Reconnection is owned here, not by Paho (whose automatic reconnect does
// not cover a failed first connect): tick() starts a connect attempt when
// one is due, with capped full-jitter backoff that resets on success.
// Subscriptions are (re)issued on every connect, so a broker that lost the
// persistent session still gets them.
//
// Threads:
//  - Paho's callback thread runs the message and connect handlers. Handlers
//    must only decode and hand over (try_push); any exception they throw is
//    caught here, counted and logged once, never let into Paho.
//  - tick() from one supervising thread; publish(), connected() and stats()
//    from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "foggate/base/clock.h"
#include "foggate/base/counter.h"
#include "foggate/base/result.h"
#include "foggate/protocols/mqtt_settings.h"  // MqttTls, MqttSubscription, is_tls_uri

namespace mqtt {
class connect_options;
}

namespace foggate::protocols {

struct MqttOptions {
  std::vector<std::string> uris{"tcp://127.0.0.1:1883"};  // Default: local broker; several = failover
  std::string client_id;            // required; stable across restarts for a persistent session
  bool clean_session = false;       // Default: false (the broker keeps our queue while we are away)
  int keepalive_s = 30;             // Default: 30 s
  int connect_timeout_s = 5;        // Default: 5 s
  int64_t retry_min_ms = 250;       // Default: 250 ms, first reconnect delay cap
  int64_t retry_max_ms = 30'000;    // Default: 30 s, largest reconnect delay cap
  int max_buffered = 10'000;        // Default: 10000 publishes held while disconnected (0: none)
  std::string username;             // Default: none
  std::string password;             // Default: none; never logged
  MqttTls tls;                      // used for ssl:// and mqtts:// URIs
};

struct MqttStats {
  Counter connects;         // successful connects
  Counter connect_failures;
  Counter connection_lost;
  Counter received;
  Counter published;        // accepted by Paho for sending
  Counter publish_failures; // refused by Paho (buffer full, not connected); counted, not retried
  Counter handler_errors;   // a handler threw
};

class MqttClient {
 public:
  using MessageHandler = std::function<void(const std::string& topic, const std::string& payload, bool retained)>;
  // Runs on Paho's thread after each connect, once the subscriptions (if
  // any) are acknowledged: the client is then ready.
  using ConnectHandler = std::function<void(bool session_present)>;

  MqttClient(MqttOptions options, const Clock& clock);
  ~MqttClient();
  MqttClient(const MqttClient&) = delete;
  MqttClient& operator=(const MqttClient&) = delete;

  // Before start(), or while running: then filters no longer wanted are
  // unsubscribed and the new set is subscribed at once (and after every
  // reconnect). Any thread.
  void set_subscriptions(std::vector<MqttSubscription> subs);
  // Filters a persistent session may still hold from an earlier run that
  // are not in the current set: unsubscribed at the next connect, before
  // the subscriptions are renewed, then forgotten. Any thread.
  void forget_on_connect(std::vector<std::string> filters);
  void on_message(MessageHandler h) { on_message_ = std::move(h); }
  void on_connected(ConnectHandler h) { on_connected_ = std::move(h); }

  // Creates the Paho client and starts the first connect attempt.
  // Error "mqtt_create" for an invalid URI or client id, "mqtt_tls" when a
  // configured TLS file cannot be read (detail names the file).
  Result<void> start();
  // Starts a reconnect attempt when disconnected and the backoff is over.
  void tick();
  // Replaces user name, password and TLS settings (rotation: the files are
  // read again too) and, when connected, drops the connection so the next
  // one uses them; when disconnected, the next tick() tries them without
  // waiting out the backoff. From the thread that calls tick(). Unreadable
  // TLS files are logged and the current settings kept.
  void renew_credentials(std::string username, std::string password, MqttTls tls);
  // Disconnects (publishing nothing more), waiting at most timeout_ms for
  // in-flight publishes to complete.
  void stop(int timeout_ms = 2000);

  // Non-blocking. While disconnected, Paho buffers up to max_buffered
  // publishes. Error reason "mqtt_publish" (transient) when refused.
  Result<void> publish(const std::string& topic, std::string_view payload, int qos, bool retained);

  // Like publish(), and `done(ok)` runs on a Paho thread when the publish
  // completes: for QoS 1, ok means the broker's PUBACK arrived. `done` may
  // never run if the connection drops first; callers track that themselves.
  // Nothing is buffered while disconnected: Error "mqtt_publish" then.
  using DoneHandler = std::function<void(bool ok)>;
  Result<void> publish_tracked(const std::string& topic, std::string_view payload, int qos, DoneHandler done,
                               bool retained = false);

  bool connected() const { return connected_.load(); }
  const MqttStats& stats() const { return stats_; }
  // Its connection state and counters, labelled client=<role>. Any thread.
  void collect(MetricSink& out, const std::string& role) const;
  const std::string& client_id() const { return options_.client_id; }
  std::string last_error() const;

 private:
  class Callbacks;
  Result<void> set_credentials(mqtt::connect_options& co);
  void attempt_connect();
  void handle_connected();
  void handle_failure(std::string why);

  MqttOptions options_;
  const Clock& clock_;
  mutable std::mutex subs_mu_;
  std::vector<MqttSubscription> subs_;  // guarded by subs_mu_
  std::vector<std::string> stale_;      // guarded by subs_mu_; forget_on_connect()
  void subscribe_all();
  MessageHandler on_message_;
  ConnectHandler on_connected_;
  struct Paho;
  // Set once by start(); cleared only by the destructor, under paho_mu_,
  // which a connect completing during teardown also takes (handle_connected).
  std::unique_ptr<Paho> paho_;
  std::mutex paho_mu_;

  std::atomic<bool> connected_{false};
  std::atomic<bool> connecting_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> next_attempt_ms_{0};
  std::atomic<int> failures_in_row_{0};
  mutable std::mutex err_mu_;
  std::string last_error_;  // guarded by err_mu_
  // Why TLS connects fail, found by a handshake of our own (tls_probe.h) on
  // a detached thread that owns a share of this; at most one at a time.
  struct TlsDiagnosis;
  std::shared_ptr<TlsDiagnosis> tls_diagnosis_;
  void diagnose_tls();
  bool uses_tls() const;
  std::string tls_reason() const;
  MqttStats stats_;
};

}  // namespace foggate::protocols
