// The MQTT ingest connection inside the gateway against a broker that
// breaks the protocol (a scripted one on a loopback port): each violation
// is logged and counted, the connection starts over, and the rest of the
// gateway (its publisher connection) goes on untouched.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <thread>

#include "fixture.h"

namespace foggate::itest {
namespace {

// A scripted site broker on a free loopback port. It plays a broker for
// every connection (CONNACK, SUBACK, PUBACK, PINGRESP) and keeps what the
// gateway publishes; right after its SUBACK to the client `victim` it
// sends `bad`, bytes no broker may send. One thread polls the listening
// socket and every connection; the destructor stops and joins it.
class ScriptedBroker {
 public:
  ScriptedBroker(std::string victim, std::string bad) : victim_(std::move(victim)), bad_(std::move(bad)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(listen_fd_, 16) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      throw std::runtime_error("scripted broker: cannot listen");
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~ScriptedBroker() {
    stop_ = true;
    thread_.join();
    for (auto& c : conns_) ::close(c.fd);
    ::close(listen_fd_);
  }

  std::string uri() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
  int connects(const std::string& client_id) const {
    std::lock_guard lock(mu_);
    auto it = connects_.find(client_id);
    return it == connects_.end() ? 0 : it->second;
  }
  // The newest metrics document the gateway published here ("" if none).
  std::string last_published(const std::string& topic) const {
    std::lock_guard lock(mu_);
    auto it = published_.find(topic);
    return it == published_.end() ? "" : it->second;
  }

 private:
  struct Conn {
    int fd;
    std::string in;
    std::string client_id;
    int version = 4;
  };

  void run() {
    while (!stop_) {
      std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
      for (const auto& c : conns_) fds.push_back({c.fd, POLLIN, 0});
      if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd >= 0) conns_.push_back({fd, "", "", 4});
      }
      for (std::size_t i = 1; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        Conn& c = conns_[i - 1];
        char buf[4096];
        const ssize_t n = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) c.in.append(buf, static_cast<std::size_t>(n));
        if (n == 0 || !serve(c)) {
          ::close(c.fd);
          c.fd = -1;
        }
      }
      std::erase_if(conns_, [](const Conn& c) { return c.fd < 0; });
    }
  }

  // Answers every complete packet in c.in; false: close the connection.
  bool serve(Conn& c) {
    while (c.in.size() >= 2) {
      uint32_t remaining = 0;
      std::size_t at = 1;
      for (int shift = 0;; shift += 7, ++at) {
        if (at >= c.in.size()) return true;  // more to come
        if (at > 4) return false;
        remaining |= static_cast<uint32_t>(c.in[at] & 0x7F) << shift;
        if ((c.in[at] & 0x80) == 0) break;
      }
      ++at;
      if (c.in.size() < at + remaining) return true;
      const auto first = static_cast<uint8_t>(c.in[0]);
      const std::string body = c.in.substr(at, remaining);
      c.in.erase(0, at + remaining);
      if (!answer(c, first, body)) return false;
    }
    return true;
  }

  bool answer(Conn& c, uint8_t first, const std::string& body) {
    std::size_t pos = 0;
    auto u16 = [&] {
      const auto v = static_cast<uint16_t>((static_cast<uint8_t>(body[pos]) << 8) | static_cast<uint8_t>(body[pos + 1]));
      pos += 2;
      return v;
    };
    auto str = [&] {
      const uint16_t n = u16();
      pos += n;
      return body.substr(pos - n, n);
    };
    auto skip_properties = [&] {  // MQTT 5 (lengths under 128 here)
      if (c.version == 5) pos += 1 + static_cast<uint8_t>(body[pos]);
    };
    switch (first >> 4) {
      case 1: {  // CONNECT
        (void)str();  // "MQTT"
        c.version = static_cast<uint8_t>(body[pos]);
        pos += 4;  // level, flags, keepalive
        skip_properties();
        c.client_id = str();
        {
          std::lock_guard lock(mu_);
          ++connects_[c.client_id];
        }
        return send(c, c.version == 5 ? std::string("\x20\x03\x00\x00\x00", 5) : std::string("\x20\x02\x00\x00", 4));
      }
      case 8: {  // SUBSCRIBE: every filter granted QoS 1
        const uint16_t id = u16();
        skip_properties();
        std::string codes;
        while (pos < body.size()) {
          (void)str();
          ++pos;  // options
          codes.push_back('\x01');
        }
        std::string ack{static_cast<char>(0x90), static_cast<char>(2 + (c.version == 5) + codes.size()),
                        static_cast<char>(id >> 8), static_cast<char>(id & 0xFF)};
        if (c.version == 5) ack.push_back('\0');
        if (!send(c, ack + codes)) return false;
        return c.client_id != victim_ || send(c, bad_);
      }
      case 3: {  // PUBLISH from the gateway's publisher
        const std::string topic = str();
        const int qos = (first >> 1) & 0x03;
        const uint16_t id = qos > 0 ? u16() : 0;
        skip_properties();
        {
          std::lock_guard lock(mu_);
          published_[topic] = body.substr(pos);
        }
        return qos == 0 || send(c, {'\x40', '\x02', static_cast<char>(id >> 8), static_cast<char>(id & 0xFF)});
      }
      case 12:  // PINGREQ
        return send(c, std::string("\xD0\x00", 2));
      case 14:  // DISCONNECT
        return false;
      default:
        return true;
    }
  }

  static bool send(const Conn& c, const std::string& bytes) {
    return ::send(c.fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  }

  const std::string victim_;
  const std::string bad_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::vector<Conn> conns_;  // the broker's thread only
  mutable std::mutex mu_;
  std::map<std::string, int> connects_;             // guarded by mu_
  std::map<std::string, std::string> published_;    // guarded by mu_
  std::thread thread_;
};

struct Violation {
  const char* name;
  std::string bytes;
  const char* detail;  // expected in the log
};
// Names the parameter in test output (and ctest's test names), not its bytes.
void PrintTo(const Violation& v, std::ostream* os) { *os << v.name; }

class MqttIngestViolationTest : public ::testing::TestWithParam<Violation> {};

TEST_P(MqttIngestViolationTest, IsLoggedCountedAndTheConnectionStartsOver) {
  TempDir dir;
  ScriptedBroker broker("foggate-gw1", GetParam().bytes);
  Mosquitto unused(dir, {.start = false});  // the gateway talks to the scripted broker only
  Foggate gw(dir, unused, "");
  gw.set_broker(R"({"uris":[")" + broker.uri() + R"("],"mqtt_version":"5"})");
  gw.start(false);
  ASSERT_TRUE(gw.log_shows("protocol violation from the broker; reconnecting", 15s)) << gw.log();
  EXPECT_TRUE(gw.log_shows(GetParam().detail)) << gw.log();
  EXPECT_TRUE(eventually([&] { return broker.connects("foggate-gw1") >= 2; }, 15s)) << gw.log();
  EXPECT_TRUE(eventually(
      [&] { return metric_in(broker.last_published("foggate/gw1/metrics"), "mqtt_protocol_errors_total{client=ingest}") >= 1; },
      15s))
      << broker.last_published("foggate/gw1/metrics");
  EXPECT_EQ(broker.connects("foggate-gw1-pub"), 1) << "the publisher's connection is not affected";
  EXPECT_TRUE(gw.running());
  EXPECT_EQ(gw.stop(), 0) << gw.log();
}

INSTANTIATE_TEST_SUITE_P(
    Packets, MqttIngestViolationTest,
    ::testing::Values(Violation{"PublishAtQos3", std::string("\x36\x00", 2), "QoS 3 does not exist"},
                      Violation{"RemainingLengthOf5Bytes", std::string("\x30\xFF\xFF\xFF\xFF\x01", 6),
                                "remaining length longer than 4 bytes"},
                      Violation{"SecondConnack", std::string("\x20\x03\x00\x00\x00", 5), "unexpected packet type 2"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace foggate::itest
