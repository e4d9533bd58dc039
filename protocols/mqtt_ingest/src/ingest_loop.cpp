// The connected part of MqttIngestConnection::Impl: poll, read a chunk,
// parse and deliver every complete packet, write PUBACKs in batches, keep
// the connection alive. Returns from session() when the connection ends.
#include <poll.h>
#include <time.h>

#include <algorithm>

#include "foggate/base/log.h"
#include "ingest_session.h"
#include "tcp_socket.h"

namespace foggate::protocols {
namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
// publish()'s messages are encoded into the send buffer only while it holds
// less than this; beyond, they wait in the bounded outbox (max_outbox).
constexpr std::size_t kOutboxDrainBytes = 64 * 1024;
constexpr int kOfferAgainMs = 1;  // a refused message is offered again this often
// How much of an oversized PUBLISH is kept to read its topic and packet id.
constexpr std::size_t kOversizedHead = 70 * 1024;

}  // namespace

// True when it ended because stop() asked (after a DISCONNECT).
bool MqttIngestConnection::Impl::session() {
  while (true) {
    const int64_t now = steady_ms();
    if (stopping) {
      // Acknowledge what became safe, waiting for the rest until the deadline.
      collect_acks();
      if (auto r = write_out(); !r) return true;
      if ((window.size() == 0 && out.empty()) || now >= stop_deadline) {
        say_farewell();
        encode_disconnect(version, out);
        (void)flush();
        transport->shutdown();
        if (window.size() > 0)
          log::warn("mqtt-ingest", "stopped with readings not yet safe: the broker delivers them again",
                    {{"client_id", opt.client_id}, {"unacknowledged", std::to_string(window.size())}});
        return true;
      }
    }
    bool renew = false;
    bool resubscribe = false;
    {
      std::lock_guard lock(mu);
      renew = credentials_changed;
      resubscribe = wanted_changed;
    }
    if (renew) {
      log::info("mqtt-ingest", "new credentials: reconnecting", {{"client_id", opt.client_id}});
      encode_disconnect(version, out);
      (void)flush();
      connected = false;
      backoff.reset();
      return false;
    }
    if (resubscribe) sync_subscriptions();

    // Keepalive: the broker wants a packet from us within keepalive_s; a
    // PINGREQ unanswered for as long means the connection is dead. While
    // reading is held back (the handler refused) a PINGRESP cannot be read,
    // so only the sending half applies then.
    const int64_t keepalive_ms = static_cast<int64_t>(keepalive_s) * 1000;
    if (keepalive_ms > 0) {
      if (ping_sent_ms != 0 && !offering_again && now - ping_sent_ms > keepalive_ms) {
        lose(Error::transient("mqtt_keepalive", "no PINGRESP within the keepalive"), false);
        return false;
      }
      if (now - last_sent_ms >= keepalive_ms && ping_sent_ms == 0) {
        encode_pingreq(out);
        ping_sent_ms = now;
      }
    }
    if (auto r = write_out(); !r) {
      lose(r.error(), false);
      return false;
    }

    const bool reading = !paused && !offering_again;
    pollfd fds[2] = {{transport->fd(), static_cast<short>((reading ? POLLIN : 0) | (out.empty() ? 0 : POLLOUT)), 0},
                     {book->wake_fd(), POLLIN, 0}};
    int timeout = 1000;
    if (keepalive_ms > 0) {
      const int64_t next = ping_sent_ms != 0 ? ping_sent_ms + keepalive_ms : last_sent_ms + keepalive_ms;
      timeout = static_cast<int>(std::clamp<int64_t>(next - now, 0, timeout));
    }
    if (offering_again && !paused) timeout = kOfferAgainMs;
    if (stopping) timeout = std::min(timeout, 10);
    if (reading && transport->has_buffered_input()) timeout = 0;
    io_held.unlock();  // a publish() may write meanwhile (write_now)
    const int n = ::poll(fds, 2, timeout);
    io_held.lock();
    if (n < 0 && errno != EINTR) {
      lose(Error::transient("mqtt_io", "poll failed"), false);
      return false;
    }
    if (fds[0].revents & (POLLERR | POLLHUP)) fds[0].revents |= POLLIN;  // read() says what happened
    if ((reading && ((fds[0].revents & POLLIN) || transport->has_buffered_input())) || (offering_again && !paused)) {
      auto r = read_and_dispatch();
      if (on_batch_end) on_batch_end();
      if (!r) {
        lose(r.error(), r.error().reason == "mqtt_protocol");
        return false;
      }
      collect_acks();
      coalesce();
    }
    collect_acks();
  }
}

void MqttIngestConnection::Impl::lose(const Error& e, bool protocol_violation) {
  connected = false;
  stats.connection_lost.add();
  if (protocol_violation) {
    hold_backoff = true;  // a broker that repeats the fault is retried ever more slowly
    stats.protocol_errors.add();
    log::warn_once("mqtt-ingest", "protocol:" + e.detail.substr(0, 40),
                   "protocol violation from the broker; reconnecting",
                   {{"client_id", opt.client_id}, {"detail", e.detail}});
  } else {
    log::warn("mqtt-ingest", "disconnected; will reconnect", {{"client_id", opt.client_id}, {"reason", e.detail}});
  }
  if (window.size() > 0)
    log::info("mqtt-ingest", "readings not yet acknowledged will be delivered again",
              {{"client_id", opt.client_id}, {"count", std::to_string(window.size())}});
  std::lock_guard lock(mu);
  last_error = e.detail;
}

// After a read that drained the socket (less than a whole chunk), while
// the next packets are still on their way: one wait here stands for the
// poll wake-ups they would each have cost.
void MqttIngestConnection::Impl::coalesce() {
  if (opt.read_coalesce_us <= 0 || last_read == 0 || last_read >= kReadChunk || stopping) return;
  if (transport->has_buffered_input()) return;  // TLS: records already decrypted wait
  timespec wait{0, static_cast<long>(opt.read_coalesce_us) * 1000};
  io_held.unlock();
  (void)clock_nanosleep(CLOCK_MONOTONIC, 0, &wait, nullptr);
  io_held.lock();
}

// Reads one chunk (unless a refused message is being offered again) and
// handles every complete packet in it.
Result<void> MqttIngestConnection::Impl::read_and_dispatch() {
  last_read = 0;
  if (!offering_again) {
    auto got = transport->read(in.tail(kReadChunk), kReadChunk);
    if (!got) return unexpected(got.error());
    last_read = *got;
    in.commit(*got);
    stats.bytes_read.add(*got);
    if (*got > 0) stats.reads.add();
  }
  while (in.size() > 0 && !paused) {
    if (skip_bytes > 0) {  // the rest of an oversized PUBLISH
      const std::size_t n = std::min<uint64_t>(skip_bytes, in.size());
      in.consume(n);
      skip_bytes -= n;
      continue;
    }
    PacketView p;
    auto split = split_packet(in.data(), limits, p);
    if (!split) return unexpected(split.error());
    if (*split == SplitStatus::kNeedMore) break;
    if (*split == SplitStatus::kOversized) {
      if (p.type != PacketType::kPublish)
        return unexpected(Error::permanent("mqtt_protocol", "a packet over the size limit that is not a PUBLISH"));
      // Read on until its head (topic, packet id) is here, never the whole of it.
      if (in.size() < std::min<std::size_t>(p.total, kOversizedHead)) break;
      if (auto r = skip_oversized(p); !r) return r;
      continue;
    }
    auto handled = dispatch(p);
    if (!handled) return unexpected(handled.error());
    if (!*handled) break;  // refused: offered again later
    in.consume(p.total);
  }
  return {};
}

// Counts and skips a PUBLISH larger than the limit; a QoS 1 one is
// acknowledged in its turn (it can never be taken).
Result<void> MqttIngestConnection::Impl::skip_oversized(const PacketView& p) {
  auto pub = parse_publish(version, p);
  if (!pub) return unexpected(pub.error());
  stats.received.add();
  stats.oversized.add();
  log::warn_once("mqtt-ingest", "oversized", "message over max_packet_bytes skipped (mqtt_oversized_total)",
                 {{"topic", std::string(pub->topic)}, {"bytes", std::to_string(p.total)},
                  {"limit", std::to_string(limits.max_packet_bytes)}});
  if (pub->qos == 1) {
    const uint64_t seq = window.add(pub->packet_id);
    window.release(seq, due);
  }
  const std::size_t here = std::min(p.total, in.size());
  skip_bytes = p.total - here;
  in.consume(here);
  return {};
}

// False: the handler refused the message; it stays at the front of the buffer.
Result<bool> MqttIngestConnection::Impl::dispatch(const PacketView& p) {
  switch (p.type) {
    case PacketType::kPublish:
      return deliver(p);
    case PacketType::kSuback: {
      auto s = parse_suback(version, p);
      if (!s) return unexpected(s.error());
      auto it = awaiting_suback.find(s->packet_id);
      if (it == awaiting_suback.end()) return true;  // answer to a SUBSCRIBE of an earlier state: nothing to do
      for (uint8_t code : s->codes) {
        if (code < 0x80) continue;
        stats.subscribe_failures.add();
        log::error("mqtt-ingest", "the broker refused a subscription",
                   {{"client_id", opt.client_id}, {"filter", it->second}, {"reason", suback_code_text(code)}});
      }
      awaiting_suback.erase(it);
      if (awaiting_suback.empty() && !ready_told) tell_ready();
      return true;
    }
    case PacketType::kPuback: {  // to publish() or to a presence publish
      auto a = parse_puback(version, p);
      if (!a) return unexpected(a.error());
      if (outbox.acknowledged(a->packet_id)) {
        if (a->reason >= 0x80) {
          stats.publish_rejected.add();
          log::warn_once("mqtt-ingest", "publish_rejected", "the broker refused a publish (check its ACL)",
                         {{"client_id", opt.client_id}, {"reason", suback_code_text(a->reason)}});
        }
        return true;
      }
      if (a->reason >= 0x80) {
        stats.presence_refused.add();
        log::warn_once("mqtt-ingest", "presence_refused", "the broker refused the status document (check its ACL)",
                       {{"client_id", opt.client_id}, {"reason", suback_code_text(a->reason)}});
      }
      return true;
    }
    case PacketType::kUnsuback: {
      auto u = parse_unsuback(version, p);
      if (!u) return unexpected(u.error());
      awaiting_unsuback.erase(u->packet_id);
      return true;
    }
    case PacketType::kPingresp:
      if (auto r = check_pingresp(p); !r) return unexpected(r.error());
      ping_sent_ms = 0;
      return true;
    case PacketType::kDisconnect: {
      auto d = parse_disconnect(version, p);
      if (!d) return unexpected(d.error());
      return unexpected(Error::transient("mqtt_disconnect", "the broker disconnected: " +
                                                                 connack_reason_text(version, d->reason) +
                                                                 (d->reason_string.empty() ? "" : " " + d->reason_string)));
    }
    default:
      return unexpected(Error::permanent("mqtt_protocol", "unexpected packet type " +
                                                               std::to_string(static_cast<int>(p.type))));
  }
}

Result<bool> MqttIngestConnection::Impl::deliver(const PacketView& p) {
  auto pub = parse_publish(version, p);
  if (!pub) return unexpected(pub.error());
  const bool again = offering_again;
  if (!again) {
    stats.received.add();
    if (pub->dup) stats.redelivered.add();
  }
  std::shared_ptr<PubackReceipt> receipt;
  if (pub->qos == 1) {
    receipt = std::make_shared<PubackReceipt>(book, book->generation(), window.add(pub->packet_id));
    // Set before the handler: whatever it causes (a task done, a metric)
    // is seen with this reading already counted.
    stats.unacknowledged.set(static_cast<int64_t>(window.size()));
  }
  Admission a = Admission::kTaken;
  try {
    if (handler) a = handler(*pub, receipt, again);
  } catch (...) {
    // Only allocation failure can throw there: the reading is dropped,
    // counted, and the connection goes on.
    stats.handler_errors.add();
    log::warn_once("mqtt-ingest", "handler_exception", "message handler threw; reading dropped and counted");
  }
  if (a == Admission::kFull) {
    if (receipt) {
      receipt->disarm();
      window.undo_add();
      stats.unacknowledged.set(static_cast<int64_t>(window.size()));
    }
    if (!offering_again) stats.waits.add();
    offering_again = true;
    return false;
  }
  offering_again = false;
  return true;
}

// Moves what publish() queued into the write buffer (the loop writes it);
// returns how many.
std::size_t MqttIngestConnection::Impl::drain_outbox() {
  if (!outbox.has_queued()) return 0;
  const std::size_t n =
      outbox.drain(version, broker_receive_maximum, kOutboxDrainBytes, [this] { return next_packet_id(); }, out);
  stats.published.add(n);
  return n;
}

// publish(), on its caller's thread: while the connection's thread waits,
// the caller writes what is queued itself, sparing an alert the wake-up of
// that thread on its way to the broker. False when the connection's thread
// has to do it: it is busy (holds io_mu), not connected or stopping; or
// some of it is left: over the broker's Receive Maximum, or more than the
// socket took (the thread then writes the rest, or meets the write's error
// and reconnects).
bool MqttIngestConnection::Impl::write_now() {
  if (driving_thread == this) return false;  // from its own handler: it holds io_mu
  std::unique_lock io(io_mu, std::try_to_lock);
  if (!io.owns_lock() || !connected || stopping || !out.empty()) return false;
  auto written = write_out();
  if (written && out.empty()) stats.caller_writes.add(*written);
  return written && out.empty() && !outbox.has_queued();
}

// Writes what is encoded, then what publish() queued, while the socket
// takes it (each drain encodes up to kOutboxDrainBytes). Returns how many
// publishes it encoded. With `out` empty on return, nothing more can go
// now: the queue is empty or the broker's Receive Maximum is reached.
Result<std::size_t> MqttIngestConnection::Impl::write_out() {
  std::size_t encoded = 0;
  while (true) {
    if (auto r = flush(); !r) return unexpected(r.error());
    if (!out.empty()) return encoded;
    const std::size_t n = drain_outbox();
    if (n == 0) return encoded;
    encoded += n;
  }
}

// Turns released receipts into PUBACKs, in arrival order.
void MqttIngestConnection::Impl::collect_acks() {
  book->take(released);
  for (uint64_t seq : released) window.release(seq, due);
  released.clear();
  if (due.empty()) return;
  for (uint16_t id : due) encode_puback(id, out);
  stats.unacknowledged.set(static_cast<int64_t>(window.size()));  // before the count others wait on
  stats.acks_sent.add(due.size());
  due.clear();
  if (auto r = flush(); r) stats.ack_writes.add();
}

// Writes as much of `out` as the socket takes now.
Result<void> MqttIngestConnection::Impl::flush() {
  std::size_t done = 0;
  while (done < out.size()) {
    auto put = transport->write(out.data() + done, out.size() - done);
    if (!put) return unexpected(put.error());
    if (*put == 0) break;
    done += *put;
  }
  if (done > 0) {
    out.erase(0, done);
    sent_now();
  }
  return {};
}

}  // namespace foggate::protocols
