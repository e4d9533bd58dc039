#include "publish_outbox.h"

namespace foggate::protocols {

bool PublishOutbox::push(Message m) {
  std::lock_guard lock(mu_);
  if (queue_.size() + flying_.load(std::memory_order_relaxed) >= limit_) return false;
  queue_.push_back(std::move(m));
  queued_.store(true, std::memory_order_release);
  return true;
}

std::size_t PublishOutbox::size() const {
  std::lock_guard lock(mu_);
  return queue_.size() + flying_.load(std::memory_order_relaxed);
}

std::size_t PublishOutbox::drain(MqttVersion v, uint16_t receive_maximum, std::size_t max_out,
                                 const std::function<uint16_t()>& next_id, std::string& out) {
  std::size_t n = 0;
  std::lock_guard lock(mu_);
  while (!queue_.empty() && out.size() < max_out) {
    Message& m = queue_.front();
    if (m.qos == 1 && in_flight_.size() >= receive_maximum) break;
    PublishFields f{.topic = m.topic, .payload = m.payload, .qos = m.qos, .retain = m.retain};
    if (m.qos == 1) f.packet_id = next_id();
    encode_publish(v, f, out);
    if (m.qos == 1) in_flight_.emplace(f.packet_id, std::move(m));
    queue_.pop_front();
    ++n;
  }
  flying_.store(in_flight_.size(), std::memory_order_relaxed);
  queued_.store(!queue_.empty(), std::memory_order_release);
  return n;
}

std::size_t PublishOutbox::resend(MqttVersion v, std::string& out) {
  for (const auto& [id, m] : in_flight_)
    encode_publish(v, {.topic = m.topic, .payload = m.payload, .packet_id = id, .retain = m.retain, .dup = true}, out);
  return in_flight_.size();
}

bool PublishOutbox::acknowledged(uint16_t packet_id) {
  if (in_flight_.erase(packet_id) == 0) return false;
  flying_.store(in_flight_.size(), std::memory_order_relaxed);  // an atomic: no lock needed
  return true;
}

std::size_t PublishOutbox::discard_queued() {
  std::lock_guard lock(mu_);
  const std::size_t n = queue_.size();
  queue_.clear();
  queued_.store(false, std::memory_order_release);
  return n;
}

}  // namespace foggate::protocols
