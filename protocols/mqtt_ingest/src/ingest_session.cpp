#include <poll.h>

#include <algorithm>

#include "foggate/base/log.h"
#include "ingest_session.h"
#include "tcp_socket.h"

namespace foggate::protocols {
namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
constexpr uint32_t kSessionNeverExpires = 0xFFFFFFFF;
constexpr uint8_t kUnsupportedVersion311 = 0x01;  // 3.1.1 CONNACK return code
constexpr uint8_t kUnsupportedVersion5 = 0x84;    // MQTT 5 CONNACK reason code

const char* version_name(MqttVersion v) { return v == MqttVersion::kV5 ? "5" : "3.1.1"; }

}  // namespace

void MqttIngestConnection::Impl::run() {
  driving_thread = this;
  io_held = std::unique_lock(io_mu);  // let go of only while session() waits
  while (!stopping) {
    if (connect_once()) {
      const bool clean_stop = session();
      transport.reset();
      connected = false;
      // At once, not at the next connect: a receipt released meanwhile
      // acknowledges nothing and counts as abandoned.
      book->next_generation();
      if (clean_stop) break;
    }
    if (stopping) break;
    // Back off, waking early only to stop or to try new credentials.
    const int64_t until = steady_ms() + backoff.next_delay_ms();
    for (int64_t left; !stopping && (left = until - steady_ms()) > 0;) {
      pollfd p{book->wake_fd(), POLLIN, 0};
      (void)::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1000)));
      std::vector<uint64_t> ignored;
      book->take(ignored);  // clears the wake-up: receipts of the lost connection are counted abandoned
      std::lock_guard lock(mu);
      if (credentials_changed) {
        backoff.reset();
        break;
      }
    }
  }
  // Stopped: what publish() queued and no connection took is counted.
  if (const std::size_t lost = outbox.discard_queued(); lost > 0) {
    stats.publish_discarded.add(lost);
    log::warn("mqtt-ingest", "stopped with publishes never written (not connected)",
              {{"client_id", opt.client_id}, {"count", std::to_string(lost)}});
  }
  io_held.unlock();
}

void MqttIngestConnection::Impl::fail(std::string why) {
  stats.connect_failures.add();
  if (!failure_told) {  // the first of a row, and the first with new credentials
    failure_told = true;
    log::warn("mqtt-ingest", "cannot connect; will retry", {{"client_id", opt.client_id}, {"reason", why}});
  }
  std::lock_guard lock(mu);
  last_error = std::move(why);
}

// Opens the transport, CONNECT, waits for the CONNACK, then subscribes.
bool MqttIngestConnection::Impl::connect_once() {
  const std::string& uri = opt.uris[uri_index % opt.uris.size()];
  ++uri_index;  // failover: the next attempt tries the next URI
  auto address = parse_broker_uri(uri);
  if (!address) {
    fail(address.error().detail);
    return false;
  }
  std::string username, password;
  MqttTls tls;
  {
    std::lock_guard lock(mu);
    username = opt.username;
    password = opt.password;
    tls = opt.tls;
    if (credentials_changed) failure_told = false;
    credentials_changed = false;
  }
  const int timeout_ms = opt.connect_timeout_s * 1000;
  const int64_t deadline = steady_ms() + timeout_ms;
  auto t = open_transport(*address, tls, timeout_ms);
  if (!t) {
    fail(t.error().detail);
    return false;
  }
  transport = std::move(t.value());
  in.clear();
  out.clear();
  skip_bytes = 0;
  offering_again = false;

  ConnectFields c{.version = version,
                  .client_id = opt.client_id,
                  .clean_start = false,
                  .keepalive_s = static_cast<uint16_t>(opt.keepalive_s),
                  .session_expiry_s = kSessionNeverExpires,
                  .receive_maximum = opt.receive_maximum,
                  .maximum_packet_size = opt.max_packet_bytes};
  if (!username.empty()) c.username = username;
  if (!password.empty()) c.password = password;
  if (opt.presence) c.will = WillFields{opt.presence->topic, opt.presence->will, true};
  encode_connect(c, out);
  // The CONNECT holds the password: once written (or not), the buffer's
  // memory is overwritten.
  auto wipe = [this] {
    out.resize(out.capacity());
    std::fill(out.begin(), out.end(), '\0');
    out.clear();
  };
  while (!out.empty()) {
    if (auto r = flush(); !r) {
      wipe();
      fail(r.error().detail);
      return false;
    }
    if (!out.empty() && !wait_fd(transport->fd(), true, deadline)) {
      wipe();
      fail("CONNECT timed out");
      return false;
    }
  }
  wipe();
  PacketView p;
  while (true) {
    auto split = split_packet(in.data(), limits, p);
    if (!split) {
      fail("CONNACK: " + split.error().detail);
      return false;
    }
    if (*split == SplitStatus::kPacket) break;
    if (*split == SplitStatus::kOversized) {
      fail("CONNACK over the packet size limit");
      return false;
    }
    char* tail = in.tail(kReadChunk);
    auto got = transport->read(tail, kReadChunk);
    if (!got) {
      fail("waiting for CONNACK: " + got.error().detail);
      return false;
    }
    in.commit(*got);
    if (*got == 0 && !transport->has_buffered_input() && !wait_fd(transport->fd(), false, deadline)) {
      fail("no CONNACK within " + std::to_string(opt.connect_timeout_s) + " s");
      return false;
    }
  }
  if (p.type != PacketType::kConnack) {
    fail("the broker sent packet type " + std::to_string(static_cast<int>(p.type)) + " before CONNACK");
    return false;
  }
  // A 3.1.1 broker answers an MQTT 5 CONNECT with a 3.1.1 CONNACK refusing the version.
  if (version == MqttVersion::kV5 && p.body.size() == 2 && static_cast<uint8_t>(p.body[1]) == kUnsupportedVersion311) {
    version = MqttVersion::kV311;
    log::warn("mqtt-ingest", "the broker does not speak MQTT 5; using 3.1.1", {{"client_id", opt.client_id}});
    fail("MQTT 5 refused; retrying with 3.1.1");
    backoff.reset();
    return false;
  }
  auto ack = parse_connack(version, p);
  in.consume(p.total);
  if (!ack) {
    fail("CONNACK: " + ack.error().detail);
    return false;
  }
  if (ack->reason != 0) {
    if (version == MqttVersion::kV5 && ack->reason == kUnsupportedVersion5) {
      version = MqttVersion::kV311;
      backoff.reset();
    }
    fail("the broker refused the connection: " + connack_reason_text(version, ack->reason));
    return false;
  }

  // Connected: receipts of the previous connection acknowledge nothing now.
  book->next_generation();
  window.clear();
  stats.unacknowledged.set(0);
  if (!hold_backoff) backoff.reset();
  hold_backoff = false;
  keepalive_s = ack->server_keepalive ? *ack->server_keepalive : opt.keepalive_s;
  broker_receive_maximum = std::max<uint16_t>(ack->receive_maximum, 1);
  // Publishes the last connection wrote and never saw acknowledged go
  // again, first (MQTT-4.4.0-1); the loop then writes what is queued.
  if (const std::size_t resent = outbox.resend(version, out); resent > 0)
    log::info("mqtt-ingest", "sending unacknowledged publishes again",
              {{"client_id", opt.client_id}, {"count", std::to_string(resent)}});
  stats.connects.add();
  connected = true;
  failure_told = false;
  ready_told = false;
  awaiting_suback.clear();
  awaiting_unsuback.clear();
  subscribed.clear();
  ping_sent_ms = 0;
  sent_now();
  {
    std::lock_guard lock(mu);
    last_error.clear();
  }
  log::info("mqtt-ingest", "connected",
            {{"client_id", opt.client_id}, {"uri", uri}, {"mqtt", version_name(version)},
             {"session_present", ack->session_present ? "yes" : "no"}});
  // Filters an earlier run left in the session and no longer wanted. The
  // broker handles one connection's packets in order: they are gone
  // before the SUBACKs below arrive.
  std::vector<std::string> forget;
  {
    std::lock_guard lock(mu);
    for (auto& f : stale)
      if (std::none_of(wanted.begin(), wanted.end(), [&](const auto& w) { return w.filter == f; }))
        forget.push_back(std::move(f));
    stale.clear();
  }
  for (const auto& f : forget) {
    const uint16_t id = next_packet_id();
    encode_unsubscribe(version, id, f, out);
    awaiting_unsuback[id] = f;
  }
  if (!forget.empty())
    log::info("mqtt-ingest", "unsubscribed filters no longer configured",
              {{"client_id", opt.client_id}, {"filters", std::to_string(forget.size())}});
  sync_subscriptions();
  return true;
}

// Every subscription answered: "online" goes out before the owner hears
// of it, on the same connection, so nothing can announce a connection
// that is not there.
void MqttIngestConnection::Impl::tell_ready() {
  ready_told = true;
  if (opt.presence)
    encode_publish(version, {.topic = opt.presence->topic, .payload = opt.presence->online, .packet_id = next_packet_id(),
                             .retain = true}, out);
  if (on_ready) on_ready();
}

// In place of "online" at stop: a clean DISCONNECT sends no Will.
void MqttIngestConnection::Impl::say_farewell() {
  std::string payload;
  {
    std::lock_guard lock(mu);
    payload = farewell;
  }
  if (opt.presence && !payload.empty())
    encode_publish(version, {.topic = opt.presence->topic, .payload = payload, .packet_id = next_packet_id(), .retain = true},
                   out);
}

// Skips the ids of publishes still waiting for their PUBACK.
uint16_t MqttIngestConnection::Impl::next_packet_id() {
  do {
    if (++last_packet_id == 0) last_packet_id = 1;
  } while (outbox.in_flight(last_packet_id));
  return last_packet_id;
}

// Subscribes what is wanted and not yet subscribed on this connection (all
// of it after a connect), unsubscribes what is no longer wanted.
void MqttIngestConnection::Impl::sync_subscriptions() {
  std::vector<MqttSubscription> want;
  {
    std::lock_guard lock(mu);
    want = wanted;
    wanted_changed = false;
  }
  for (const auto& old : subscribed) {
    if (std::any_of(want.begin(), want.end(), [&](const auto& w) { return w.filter == old.filter; })) continue;
    const uint16_t id = next_packet_id();
    encode_unsubscribe(version, id, old.filter, out);
    awaiting_unsuback[id] = old.filter;
  }
  for (const auto& w : want) {
    if (std::any_of(subscribed.begin(), subscribed.end(),
                    [&](const auto& s) { return s.filter == w.filter && s.qos == w.qos; }))
      continue;
    const uint16_t id = next_packet_id();
    encode_subscribe(version, id, w.filter, w.qos, out);
    awaiting_suback[id] = w.filter;
  }
  subscribed = std::move(want);
  ready_told = ready_told && awaiting_suback.empty();
}

}  // namespace foggate::protocols
