// PublishOutbox: what other threads publish on an MqttIngestConnection
// (alerts). Any thread queues a message; whoever holds the connection's
// io_mu (its thread, or a publishing thread meanwhile) encodes the queue
// into its write buffer, and keeps each QoS 1 message until its PUBACK. After a reconnect the unacknowledged ones are sent again, DUP
// set, ahead of anything new (MQTT-4.4.0-1). At most the broker's Receive
// Maximum are in flight; the rest wait in the queue.
//
// Bounded: `limit` messages waiting or in flight. A message over it is
// refused (the caller counts it); nothing queued is ever dropped here.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "foggate/protocols/mqtt_packet.h"

namespace foggate::protocols {

class PublishOutbox {
 public:
  struct Message {
    std::string topic;
    std::string payload;
    uint8_t qos = 1;
    bool retain = false;
  };

  explicit PublishOutbox(std::size_t limit) : limit_(limit) {}

  // Any thread. False (nothing queued) when `limit` messages wait or are in flight.
  bool push(Message m);
  // Any thread: messages queued or in flight.
  std::size_t size() const;
  bool has_queued() const { return queued_.load(std::memory_order_acquire); }

  // ---- Whoever holds the connection's io_mu ----
  // Encodes queued messages into `out` while fewer than `receive_maximum`
  // QoS 1 messages are in flight and `out` holds less than `max_out`
  // bytes (a broker that stops reading leaves the rest here, where
  // `limit` bounds them); `next_id` gives each its packet id. Returns how
  // many were encoded.
  std::size_t drain(MqttVersion v, uint16_t receive_maximum, std::size_t max_out,
                    const std::function<uint16_t()>& next_id, std::string& out);
  // Encodes every message in flight again with DUP set (after a connect).
  std::size_t resend(MqttVersion v, std::string& out);
  // A PUBACK: true when `packet_id` was one of ours (now forgotten).
  bool acknowledged(uint16_t packet_id);
  bool in_flight(uint16_t packet_id) const { return in_flight_.count(packet_id) != 0; }
  std::size_t in_flight_count() const { return in_flight_.size(); }
  // At stop: forgets what is queued and returns how many there were.
  std::size_t discard_queued();

 private:
  const std::size_t limit_;
  mutable std::mutex mu_;
  std::deque<Message> queue_;  // guarded by mu_
  std::atomic<std::size_t> flying_{0};  // in_flight_.size(), for size() from any thread
  std::atomic<bool> queued_{false};
  std::map<uint16_t, Message> in_flight_;  // under the connection's io_mu
};

}  // namespace foggate::protocols
