#include "loadgen_publisher.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "loadgen_receiver.h"  // now_us()

namespace foggate::bench {
namespace {

// Packet ids are 16 bits; staying well below keeps an id from being reused
// while the broker may still acknowledge its previous use.
constexpr uint64_t kMaxInflight = 20000;

void put_u16(std::string& out, std::size_t v) {
  out += static_cast<char>((v >> 8) & 0xff);
  out += static_cast<char>(v & 0xff);
}

void put_remaining_length(std::string& out, std::size_t n) {
  do {
    auto byte = static_cast<unsigned char>(n % 128);
    n /= 128;
    if (n > 0) byte |= 0x80;
    out += static_cast<char>(byte);
  } while (n > 0);
}

void append_publish(std::string& out, int qos, std::string_view topic, uint16_t packet_id, std::string_view payload) {
  out += static_cast<char>(0x30 | (qos << 1));
  put_remaining_length(out, 2 + topic.size() + (qos > 0 ? 2 : 0) + payload.size());
  put_u16(out, topic.size());
  out += topic;
  if (qos > 0) put_u16(out, packet_id);
  out += payload;
}

}  // namespace

Publisher::Publisher(PublisherSettings s, SendTable& sent_at, std::atomic<uint64_t>& sent_total)
    : s_(std::move(s)), sent_at_(sent_at), sent_total_(sent_total) {}

Publisher::~Publisher() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);  // wakes the reader
  if (reader_.joinable()) reader_.join();
  if (fd_ >= 0) ::close(fd_);
}

void Publisher::connect() {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(s_.port);
  if (::inet_pton(AF_INET, s_.host.c_str(), &addr.sin_addr) != 1) throw std::runtime_error("not an IPv4 address: " + s_.host);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
  // A millisecond's publishes go out in one write(); Nagle would only hold
  // the tail of it back for the broker's delayed ACK.
  const int one = 1;
  (void)::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  std::string pkt;
  std::string body;
  put_u16(body, 4);
  body += "MQTT";
  body += '\x04';  // protocol level: 3.1.1
  body += '\x02';  // clean session, no will, no credentials
  put_u16(body, 0);  // keep-alive off: runs are short and we never idle
  put_u16(body, s_.client_id.size());
  body += s_.client_id;
  pkt += '\x10';
  put_remaining_length(pkt, body.size());
  pkt += body;
  write_all(pkt);

  unsigned char connack[4];
  std::size_t got = 0;
  while (got < sizeof connack) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 10'000) <= 0) throw std::runtime_error("no CONNACK within 10 s");
    const ssize_t n = ::read(fd_, connack + got, sizeof connack - got);
    if (n <= 0) throw std::runtime_error("connection closed before CONNACK");
    got += static_cast<std::size_t>(n);
  }
  if (connack[0] != 0x20 || connack[3] != 0)
    throw std::runtime_error("broker refused the connection, code " + std::to_string(connack[3]));
  reader_ = std::jthread([this] { read_acks(); });
}

void Publisher::write_all(const std::string& buf) {
  std::size_t off = 0;
  while (off < buf.size()) {
    const ssize_t n = ::send(fd_, buf.data() + off, buf.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(std::string("send: ") + std::strerror(errno));
    off += static_cast<std::size_t>(n);
  }
}

// Counts PUBACKs; skips anything else the broker might send.
void Publisher::read_acks() {
  std::vector<unsigned char> buf(1 << 16);
  std::size_t have = 0;
  for (;;) {
    const ssize_t n = ::read(fd_, buf.data() + have, buf.size() - have);
    if (n <= 0) return;  // closed: finish() or the broker
    have += static_cast<std::size_t>(n);
    std::size_t at = 0;
    while (at + 2 <= have) {
      std::size_t len = 0, shift = 0, i = at + 1;
      bool complete = false;
      for (; i < have && i < at + 5; ++i) {
        len |= std::size_t{buf[i] & 0x7fu} << shift;
        shift += 7;
        if ((buf[i] & 0x80) == 0) {
          complete = true;
          ++i;
          break;
        }
      }
      if (!complete || i + len > have) break;
      if ((buf[at] & 0xf0) == 0x40) acked_.fetch_add(1, std::memory_order_relaxed);
      at = i + len;
    }
    have -= at;
    std::memmove(buf.data(), buf.data() + at, have);
  }
}

void Publisher::run(std::chrono::steady_clock::time_point start, std::chrono::steady_clock::time_point end) {
  std::vector<uint32_t> devices;
  std::vector<std::string> topics;
  const bool alert_only = s_.serve == PublisherSettings::Serve::kAlertOnly;
  for (uint32_t d = alert_only ? 0 : s_.index; d < (alert_only ? s_.alert_devices : s_.devices);
       d += alert_only ? 1 : s_.clients) {
    if (s_.serve == PublisherSettings::Serve::kNonAlert && d < s_.alert_devices) continue;
    devices.push_back(d);
    topics.push_back("sensors/dev-" + std::to_string(d) + "/temp");
  }
  if (devices.empty()) return;
  std::vector<uint32_t> seq(devices.size(), 0);
  const double per_us = s_.rate / 1e6;
  std::string payload, batch;
  uint16_t packet_id = 0;
  uint64_t k = 0;
  uint64_t rng = 0x9e3779b97f4a7c15ULL + s_.index;  // for pad_bytes
  std::this_thread::sleep_until(start);
  for (auto now = std::chrono::steady_clock::now(); now < end && !broken_; now = std::chrono::steady_clock::now()) {
    const auto due =
        static_cast<uint64_t>(std::chrono::duration<double, std::micro>(now - start).count() * per_us) + 1;
    batch.clear();
    uint64_t in_batch = 0, alerts_in_batch = 0, bytes_in_batch = 0;
    for (; k < due; ++k) {
      // QoS 1: never more than kMaxInflight unacknowledged (packet ids).
      auto window_full = [&] { return s_.qos > 0 && sent + in_batch - acked_.load() >= kMaxInflight; };
      if (window_full()) {
        if (!batch.empty()) break;  // send what is built; the rest is due next turn
        while (window_full() && !broken_ && std::chrono::steady_clock::now() < end)
          std::this_thread::sleep_for(std::chrono::microseconds(100));
        if (window_full()) break;
      }
      const std::size_t j = k % devices.size();
      const uint32_t d = devices[j];
      const uint32_t sq = seq[j]++;
      const bool alert = d < s_.alert_devices;
      const auto wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch()).count();
      encode_reading(s_.format, reading_value(alert, sq), sq, wall_ms, payload);
      if (s_.pad_bytes > 0 && s_.format == Format::kJson) {
        payload.pop_back();  // the closing brace
        payload += ",\"pad\":\"";
        for (uint32_t i = 0; i < s_.pad_bytes; ++i) {
          rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;  // xorshift64
          payload += "abcdefghijklmnopqrstuvwxyz0123456789"[rng % 36];
        }
        payload += "\"}";
      }
      if (++packet_id == 0) packet_id = 1;
      append_publish(batch, s_.qos, topics[j], packet_id, payload);
      sent_at_.put(d, sq, now_us());
      ++in_batch;
      alerts_in_batch += alert ? 1 : 0;
      bytes_in_batch += topics[j].size() + payload.size();
    }
    if (!batch.empty()) {
      try {
        write_all(batch);
      } catch (const std::exception&) {
        broken_ = true;
        failed += in_batch;
        break;
      }
      sent += in_batch;
      alert_sent += alerts_in_batch;
      bytes += bytes_in_batch;
      sent_total_.fetch_add(in_batch, std::memory_order_relaxed);
    }
    std::this_thread::sleep_until(std::min(now + std::chrono::milliseconds(1), end));
  }
}

void Publisher::finish(std::chrono::milliseconds wait) {
  if (fd_ < 0) return;
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (s_.qos > 0 && !broken_ && acked_.load() < sent && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  try {
    write_all(std::string("\xe0\x00", 2));  // DISCONNECT
  } catch (...) {
  }
  ::shutdown(fd_, SHUT_RDWR);
  if (reader_.joinable()) reader_.join();
}

}  // namespace foggate::bench
