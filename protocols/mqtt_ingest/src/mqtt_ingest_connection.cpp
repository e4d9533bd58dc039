#include "foggate/protocols/mqtt_ingest_connection.h"

#include "foggate/base/this_thread.h"

#include "ingest_session.h"
#include "tcp_socket.h"

namespace foggate::protocols {
MqttIngestConnection::MqttIngestConnection(MqttIngestOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

MqttIngestConnection::~MqttIngestConnection() { stop(); }

void MqttIngestConnection::on_message(Handler h) { impl_->handler = std::move(h); }
void MqttIngestConnection::on_ready(ReadyHandler h) { impl_->on_ready = std::move(h); }
void MqttIngestConnection::on_batch_end(std::function<void()> f) { impl_->on_batch_end = std::move(f); }

void MqttIngestConnection::set_subscriptions(std::vector<MqttSubscription> subs) {
  {
    std::lock_guard lock(impl_->mu);
    impl_->wanted = std::move(subs);
    impl_->wanted_changed = true;
  }
  impl_->book->wake();
}

void MqttIngestConnection::forget_on_connect(std::vector<std::string> filters) {
  std::lock_guard lock(impl_->mu);
  impl_->stale = std::move(filters);
}

void MqttIngestConnection::renew_credentials(std::string username, std::string password, MqttTls tls) {
  {
    std::lock_guard lock(impl_->mu);
    impl_->opt.username = std::move(username);
    impl_->opt.password = std::move(password);
    impl_->opt.tls = std::move(tls);
    impl_->credentials_changed = true;
  }
  impl_->book->wake();
}

Result<void> MqttIngestConnection::start() {
  auto& m = *impl_;
  if (m.opt.client_id.empty()) return unexpected(Error::permanent("mqtt_create", "client id is empty"));
  if (m.opt.uris.empty()) return unexpected(Error::permanent("mqtt_create", "no broker URI"));
  for (const auto& u : m.opt.uris)
    if (auto a = parse_broker_uri(u); !a) return unexpected(Error::permanent("mqtt_create", a.error().detail));
  if (m.book->wake_fd() < 0) return unexpected(Error::permanent("mqtt_create", "cannot create an eventfd"));
  m.limits.max_packet_bytes = m.opt.max_packet_bytes;
  m.thread = std::jthread([&m] {
    name_this_thread(m.opt.thread_name);
    m.run();
  });
  return {};
}

Result<void> MqttIngestConnection::publish(const std::string& topic, std::string_view payload, int qos,
                                           bool retained) {
  auto& m = *impl_;
  if (m.stopping || !m.outbox.push({topic, std::string(payload), static_cast<uint8_t>(qos > 0 ? 1 : 0), retained})) {
    m.stats.publish_refused.add();
    return unexpected(Error::transient("mqtt_publish", m.stopping ? "the connection is stopping"
                                                                  : "the outbox is full (max_outbox)"));
  }
  if (!m.write_now()) m.book->wake();
  return {};
}

void MqttIngestConnection::set_farewell(std::string payload) {
  std::lock_guard lock(impl_->mu);
  impl_->farewell = std::move(payload);
}

void MqttIngestConnection::pause() { impl_->paused = true; }

void MqttIngestConnection::stop(int timeout_ms) {
  auto& m = *impl_;
  if (!m.thread.joinable()) return;
  m.paused = true;
  m.stop_deadline = steady_ms() + timeout_ms;
  m.stopping = true;
  m.book->wake();
  m.thread.join();
}

const std::string& MqttIngestConnection::client_id() const { return impl_->opt.client_id; }

std::string MqttIngestConnection::last_error() const {
  std::lock_guard lock(impl_->mu);
  return impl_->last_error;
}

const MqttIngestStats& MqttIngestConnection::stats() const { return impl_->stats; }

bool MqttIngestConnection::connected() const { return impl_->connected.load(std::memory_order_relaxed); }

void MqttIngestConnection::collect(MetricSink& out, const std::string& role) const {
  const auto& s = impl_->stats;
  const std::vector<std::pair<std::string, std::string>> l{{"client", role}};
  auto add = [&](const char* name, double v) { out.push_back({name, l, v}); };
  add("mqtt_connected", connected() ? 1.0 : 0.0);
  add("mqtt_connects_total", static_cast<double>(s.connects.value()));
  add("mqtt_connect_failures_total", static_cast<double>(s.connect_failures.value()));
  add("mqtt_connection_lost_total", static_cast<double>(s.connection_lost.value()));
  add("mqtt_received_total", static_cast<double>(s.received.value()));
  add("mqtt_redelivered_total", static_cast<double>(s.redelivered.value()));
  add("mqtt_acks_sent_total", static_cast<double>(s.acks_sent.value()));
  add("mqtt_ack_writes_total", static_cast<double>(s.ack_writes.value()));
  add("mqtt_acks_abandoned_total", static_cast<double>(impl_->book->abandoned().value()));
  add("mqtt_oversized_total", static_cast<double>(s.oversized.value()));
  add("mqtt_protocol_errors_total", static_cast<double>(s.protocol_errors.value()));
  add("mqtt_ingest_waits_total", static_cast<double>(s.waits.value()));
  add("mqtt_handler_errors_total", static_cast<double>(s.handler_errors.value()));
  add("mqtt_subscribe_failures_total", static_cast<double>(s.subscribe_failures.value()));
  if (impl_->opt.presence) add("mqtt_presence_refused_total", static_cast<double>(s.presence_refused.value()));
  add("mqtt_unacknowledged", static_cast<double>(s.unacknowledged.value()));
  add("mqtt_bytes_read_total", static_cast<double>(s.bytes_read.value()));
  add("mqtt_reads_total", static_cast<double>(s.reads.value()));
  add("mqtt_published_total", static_cast<double>(s.published.value()));
  add("mqtt_publish_caller_writes_total", static_cast<double>(s.caller_writes.value()));
  add("mqtt_publish_refused_total", static_cast<double>(s.publish_refused.value()));
  add("mqtt_publish_rejected_total", static_cast<double>(s.publish_rejected.value()));
  add("mqtt_publish_discarded_total", static_cast<double>(s.publish_discarded.value()));
  add("mqtt_outbox", static_cast<double>(impl_->outbox.size()));
}

}  // namespace foggate::protocols
