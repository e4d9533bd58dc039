// The state and loop behind MqttIngestConnection (its Impl): connect,
// CONNECT/CONNACK, subscriptions, the read-parse-deliver loop, PUBACKs and
// keepalive. Everything here not marked "shared" belongs to whoever holds
// io_mu: the connection's thread, which lets go of it only while it waits
// (poll, read coalescing), or a publish() that writes at once meanwhile
// (write_now). Private to mqtt_ingest.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "ack_book.h"
#include "foggate/protocols/mqtt_ingest_connection.h"
#include "packet_buffer.h"
#include "publish_outbox.h"
#include "tcp_socket.h"
#include "transport.h"

namespace foggate::protocols {

struct MqttIngestConnection::Impl {
  explicit Impl(MqttIngestOptions o)
      : opt(std::move(o)), book(std::make_shared<AckBook>()), outbox(opt.max_outbox),
        backoff(opt.retry_min_ms, opt.retry_max_ms), version(opt.version) {}

  // ---- Shared with other threads ----
  MqttIngestOptions opt;  // credentials guarded by mu; the rest fixed after start()
  Handler handler;
  ReadyHandler on_ready;
  std::function<void()> on_batch_end;
  std::shared_ptr<AckBook> book;
  PublishOutbox outbox;  // publish(): any thread queues, this thread drains
  MqttIngestStats stats;
  std::atomic<bool> connected{false};
  std::atomic<bool> paused{false};
  std::atomic<bool> stopping{false};
  std::atomic<int64_t> stop_deadline{0};
  mutable std::mutex mu;
  std::vector<MqttSubscription> wanted;  // guarded by mu
  std::vector<std::string> stale;        // guarded by mu
  bool wanted_changed = false;           // guarded by mu
  bool credentials_changed = false;      // guarded by mu
  std::string last_error;                // guarded by mu
  std::string farewell;                  // guarded by mu
  std::mutex io_mu;  // the socket and everything below; see the top of this file
  std::jthread thread;

  // ---- Whoever holds io_mu ----
  std::unique_lock<std::mutex> io_held;  // the connection thread's hold on io_mu
  ReconnectBackoff backoff;
  MqttVersion version;      // what this connection speaks (5, or 3.1.1 after a refusal)
  std::size_t uri_index = 0;
  std::unique_ptr<Transport> transport;
  PacketBuffer in;
  std::string out;          // encoded, not yet written
  AckWindow window;
  std::vector<uint64_t> released;
  std::vector<uint16_t> due;
  std::vector<MqttSubscription> subscribed;  // as last sent on this connection
  std::map<uint16_t, std::string> awaiting_suback;
  std::map<uint16_t, std::string> awaiting_unsuback;
  bool ready_told = false;
  uint16_t last_packet_id = 0;
  int keepalive_s = 0;          // ours, or the broker's Server Keep Alive (MQTT 5)
  uint16_t broker_receive_maximum = 65535;  // MQTT 5 CONNACK: our QoS 1 publishes it takes at once
  bool hold_backoff = false;    // the last connection ended in a protocol violation
  bool failure_told = false;    // a failed connect was logged since the last success
  int64_t last_sent_ms = 0;
  int64_t ping_sent_ms = 0;  // 0: no PINGREQ outstanding
  uint64_t skip_bytes = 0;   // the rest of an oversized PUBLISH
  bool offering_again = false;
  std::size_t last_read = 0;  // bytes of the last read; 0 when none was made
  WireLimits limits;

  void run();
  bool connect_once();
  bool session();
  void lose(const Error& e, bool protocol_violation);
  void fail(std::string why);
  Result<void> read_and_dispatch();
  Result<bool> dispatch(const PacketView& p);
  Result<bool> deliver(const PacketView& p);
  Result<void> skip_oversized(const PacketView& p);
  void collect_acks();
  std::size_t drain_outbox();
  bool write_now();
  Result<std::size_t> write_out();
  void coalesce();
  Result<void> flush();
  void sync_subscriptions();
  void tell_ready();
  void say_farewell();
  uint16_t next_packet_id();
  void sent_now() { last_sent_ms = steady_ms(); }
};

// The connection whose thread is the calling one (set by run()), if any.
inline thread_local const void* driving_thread = nullptr;

}  // namespace foggate::protocols
