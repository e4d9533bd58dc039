// MqttIngestConnection: foggate's own MQTT connection to the site broker,
// for ingest (docs/architecture.md, "The MQTT ingest connection"). It
// subscribes, publishes its owner's presence (below), and publishes what
// other threads hand to publish(): the gateway's alerts ride one of these
// with no subscriptions. Paho's client stays for everything else foggate
// publishes.
//
// Why its own: it reads the socket in large chunks and parses every
// complete packet in place (Paho C reads packet by packet, sleeps 100 ms
// after an idle poll, serves every client of the process from one thread,
// and PUBACKs a QoS 1 message before the application has it safe).
//
// - MQTT 5 (default) or 3.1.1; with 5 it falls back to 3.1.1 when the
//   broker refuses the protocol version. Persistent session (clean start
//   off, session expiry "never"), keepalive with PINGREQ, one SUBSCRIBE
//   per filter, failures reported per filter, reconnect with capped
//   full-jitter backoff and resubscribe, user name and password, TLS and
//   mutual TLS with mbedTLS (files re-read at every connect).
// - Acknowledged when safe: a QoS 1 PUBLISH is handed over with a Receipt;
//   its PUBACK goes out when the last copy of the receipt is released
//   (from any thread), in the order the PUBLISHes arrived (MQTT-4.6.0-2),
//   many PUBACKs per write. Receipts of an earlier connection acknowledge
//   nothing: the broker redelivers those messages (at least once).
// - Read coalescing (read_coalesce_us): after a read that drained the
//   socket, the thread waits that long before it polls again, so that at
//   a steady rate one wake-up reads a batch instead of a packet or two
//   (wake-ups, not bytes, are what a reading costs here). The first
//   packet after a quiet spell is read at once; 0 reads as soon as
//   anything arrives.
// - Backpressure: when the handler says the message cannot be taken now
//   (kFull), the connection stops reading and offers the same message again
//   every millisecond; meanwhile it still writes PUBACKs and PINGREQs. The
//   backlog then waits in the socket and in the broker, never dropped here.
// - Presence (optional): the CONNECT carries a retained QoS 1 Last Will,
//   and each time the subscriptions have been answered the connection
//   publishes the "online" document (retained, QoS 1) before it calls the
//   ready handler; at stop() a farewell document takes its place just
//   before the DISCONNECT. Status and readiness thus ride the connection
//   they describe, with no second client to wait for.
// - publish() (any thread): the message joins a bounded outbox. When the
//   connection's thread is waiting, the caller writes the outbox to the
//   socket itself, sparing the message a thread's wake-up (an alert's
//   latency); otherwise the connection's thread is woken to write it,
//   several per write when they come together. One lock (held by the
//   connection's thread except while it waits) keeps the socket and its
//   TLS context to one thread at a time. QoS 1 messages are kept until
//   their PUBACK and sent again (DUP) after a reconnect; no more are in
//   flight than the broker's Receive Maximum. While disconnected, or while
//   the broker reads nothing and 64 KiB wait to be written, they wait, up
//   to max_outbox; beyond that publish() refuses. At stop() what is queued is written
//   before the DISCONNECT; what could not be (not connected) is counted.
// - A protocol violation from the broker (packet_limits, malformed or
//   forbidden packets) is counted, logged once per reason, and the
//   connection is dropped and re-established. A PUBLISH over
//   max_packet_bytes is skipped without being buffered, counted
//   (oversized) and, at QoS 1, acknowledged: it can never be taken, and a
//   redelivery would only repeat it.
//
// Threads: one thread of its own (named by `thread_name`) runs the socket,
// the handler and every callback. set_subscriptions(), forget_on_connect(),
// renew_credentials(), connected(), collect(), last_error() from any thread;
// start()/pause()/stop() from the owner of the lifecycle.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "foggate/base/counter.h"
#include "foggate/base/result.h"
#include "foggate/message/receipt.h"
#include "foggate/protocols/mqtt_packet.h"
#include "foggate/protocols/mqtt_settings.h"

namespace foggate::protocols {

// What a connection says about its owner (see above). All three retained.
struct MqttPresence {
  std::string topic;
  std::string online;  // published after every (re)subscribe
  std::string will;    // the broker publishes it if the connection is lost
};

struct MqttIngestOptions {
  std::vector<std::string> uris{"tcp://127.0.0.1:1883"};  // several = failover, tried in turn
  std::string client_id;                // required; stable for the persistent session
  MqttVersion version = MqttVersion::kV5;  // Default: 5 (3.1.1 when the broker refuses 5)
  int keepalive_s = 30;
  int connect_timeout_s = 5;
  int64_t retry_min_ms = 250;
  int64_t retry_max_ms = 30'000;
  uint16_t receive_maximum = 65535;     // MQTT 5: unacknowledged QoS 1 messages the broker may send
  uint32_t max_packet_bytes = 1024 * 1024;  // larger PUBLISHes are skipped (MQTT 5: announced to the broker)
  std::string username;
  std::string password;                 // never logged
  MqttTls tls;
  int read_coalesce_us = 0;             // Default: 0 (no wait between reads); see above
  std::string thread_name = "mqtt-ingest";  // at most 15 characters
  std::optional<MqttPresence> presence;  // Default: none
  std::size_t max_outbox = 10'000;       // publish(): messages waiting or unacknowledged
};

// What the handler did with a message.
enum class Admission : uint8_t { kTaken, kFull };

struct MqttIngestStats {
  Counter connects;
  Counter connect_failures;
  Counter connection_lost;
  Counter received;             // PUBLISH packets
  Counter redelivered;          // of those, with DUP set (a QoS 1 resend after a reconnect)
  Counter acks_sent;            // PUBACKs written
  Counter ack_writes;           // writes that carried them
  Counter oversized;            // PUBLISHes over max_packet_bytes, skipped
  Counter protocol_errors;      // connections dropped for a protocol violation
  Counter waits;                // times the handler said kFull (reading paused)
  Counter handler_errors;       // the handler threw (allocation failure): reading dropped
  Counter bytes_read;
  Counter reads;                // reads that brought bytes: received / reads = readings per wake-up
  Counter subscribe_failures;   // filters the broker refused
  Counter presence_refused;     // presence publishes the broker refused (MQTT 5 PUBACK >= 0x80)
  Gauge unacknowledged;         // QoS 1 messages handed over, not yet acknowledged
  // publish():
  Counter published;            // written to the socket (a resend is not counted again)
  Counter caller_writes;        // of those, written by publish()'s caller itself (see above)
  Counter publish_refused;      // refused by publish(): outbox full, or stopped
  Counter publish_rejected;     // refused by the broker (MQTT 5 PUBACK >= 0x80)
  Counter publish_discarded;    // still queued at stop with no connection to write them on
};

class MqttIngestConnection {
 public:
  // On the connection's thread. `p` borrows the read buffer: copy what is
  // kept. `receipt`: non-null for QoS 1; release it when the reading is
  // safe. `again`: the same message as the last call, which said kFull
  // (false when the connection dropped meanwhile: that one is gone).
  using Handler = std::function<Admission(const Publish& p, ReceiptPtr receipt, bool again)>;
  // On the connection's thread, each time every subscription has been
  // answered after a connect (refused filters counted and logged).
  using ReadyHandler = std::function<void()>;

  explicit MqttIngestConnection(MqttIngestOptions options);
  ~MqttIngestConnection();  // stop()
  MqttIngestConnection(const MqttIngestConnection&) = delete;
  MqttIngestConnection& operator=(const MqttIngestConnection&) = delete;

  void on_message(Handler h);  // before start()
  // On the connection's thread after the messages of one read have been
  // handed over (and before it waits): a handler that defers work per
  // message (waking the workers) does it here, once per batch.
  void on_batch_end(std::function<void()> f);  // before start()
  void on_ready(ReadyHandler h);  // before start()

  // Before start(), or while running: filters no longer wanted are
  // unsubscribed and new ones subscribed at once (and after every
  // reconnect).
  void set_subscriptions(std::vector<MqttSubscription> subs);
  // Filters an earlier run's persistent session may hold that are not in
  // the current set: unsubscribed after the next connect, then forgotten.
  void forget_on_connect(std::vector<std::string> filters);
  // New user name, password and TLS settings: the connection is dropped
  // and the next one uses them; while disconnected, it tries them at once
  // instead of waiting out its backoff.
  void renew_credentials(std::string username, std::string password, MqttTls tls);

  // With options.presence: the document published in place of "online" at
  // stop(), when the connection is up then. Any thread.
  void set_farewell(std::string payload);

  // Any thread: queues a PUBLISH (qos 0 or 1) and wakes the connection.
  // Error "mqtt_publish" (transient) when the outbox is full or the
  // connection stopped; the message is then not sent.
  Result<void> publish(const std::string& topic, std::string_view payload, int qos, bool retained);

  // Starts the thread; the first connect is attempted at once.
  Result<void> start();
  // Stops reading: no more messages reach the handler. PUBACKs for
  // receipts released from now on are still written.
  void pause();
  // Writes the PUBACKs already due (waiting up to timeout_ms for receipts
  // still held), disconnects and joins the thread. Idempotent.
  void stop(int timeout_ms = 2000);

  bool connected() const;
  const std::string& client_id() const;
  std::string last_error() const;
  // Counters and state labelled client=<role>. Any thread.
  void collect(MetricSink& out, const std::string& role) const;
  const MqttIngestStats& stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace foggate::protocols
