// Publisher: one paced publishing connection of the load generator, a
// minimal MQTT 3.1.1 client on a plain TCP socket (CONNECT, PUBLISH QoS 0/1,
// PUBACK, DISCONNECT; nothing else).
//
// Why not Paho here: Paho C's asynchronous client sends every publish of the
// whole process through one command queue and one send thread; on the
// 2-core benchmark machine that tops out near 25k msg/s at QoS 0 and 7k at
// QoS 1 (then refuses: "No more messages can be buffered"), below what
// mosquitto delivers, so the "broker ceiling" would have measured the load
// generator. Sensors are many small clients, not one library instance; this
// one writes each millisecond's publishes with a single write() and costs
// the shared CPUs little. Receiving stays on Paho C++ (Receiver), the
// library foggate ingests with.
//
// Threads: connect(), run() and finish() from one thread; a reader thread
// of its own counts PUBACKs. Counters are read after finish().
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "loadgen_stats.h"
#include "loadgen_wire.h"

namespace foggate::bench {

struct PublisherSettings {
  std::string host = "127.0.0.1";
  uint16_t port = 1883;
  std::string client_id;
  int qos = 0;
  Format format = Format::kJson;
  double rate = 1000;           // messages/s for this connection
  uint32_t devices = 1;         // over all connections
  uint32_t clients = 1;         // connections; this one serves devices i % clients == index
  uint32_t index = 0;
  uint32_t alert_devices = 0;   // devices 0..alert_devices-1 send alert readings
  // Which of its devices this connection serves: all, all but the alert
  // devices, or only the alert devices (all of them, whatever the index),
  // as sensors with their own connections would.
  enum class Serve { kAll, kNonAlert, kAlertOnly } serve = Serve::kAll;
  // JSON only: a "pad" member of this many random characters per reading,
  // for loads that compress like real, noisier data (S5's backlog).
  uint32_t pad_bytes = 0;
};

class Publisher {
 public:
  Publisher(PublisherSettings s, SendTable& sent_at, std::atomic<uint64_t>& sent_total);
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // Connects and waits for CONNACK (at most 10 s). Throws std::runtime_error.
  void connect();
  // Sends from `start` until `end`, paced: every millisecond what is due by
  // then. A connection that falls behind catches up as fast as the socket
  // takes it, so the achieved rate (sent) tells.
  void run(std::chrono::steady_clock::time_point start, std::chrono::steady_clock::time_point end);
  // Waits up to `wait` for outstanding PUBACKs, then disconnects.
  void finish(std::chrono::milliseconds wait);

  uint64_t sent = 0;        // written to the socket
  uint64_t failed = 0;      // not written: the connection broke
  uint64_t alert_sent = 0;  // of sent, from alert devices
  uint64_t bytes = 0;       // topic + payload bytes of sent

 private:
  void read_acks();
  void write_all(const std::string& buf);

  const PublisherSettings s_;
  SendTable& sent_at_;
  std::atomic<uint64_t>& sent_total_;
  int fd_ = -1;
  std::atomic<uint64_t> acked_{0};  // PUBACKs seen (QoS 1)
  std::atomic<bool> broken_{false};
  std::jthread reader_;  // last: joined before the members above go
};

}  // namespace foggate::bench
