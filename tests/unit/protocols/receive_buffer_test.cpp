// The receive buffer of the CoAP server's sockets: the helpers in
// receive_buffer.h, then CoapServer sizing its endpoints with them and a
// burst that fits. No test depends on the machine's speed: the burst is
// sent while the server is not polled, and its datagrams are counted in
// the socket's queue before the server reads them.
#include "receive_buffer.h"

#include <arpa/inet.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "eventually.h"
#include "foggate/protocols/coap_server.h"
#include "free_port.h"

namespace foggate::protocols {
namespace {

struct Fd {
  int fd;
  explicit Fd(int f) : fd(f) {}
  Fd(Fd&& other) noexcept : fd(std::exchange(other.fd, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    std::swap(fd, other.fd);
    return *this;
  }
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

sockaddr_in loopback4(uint16_t port = 0) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// Binds `fd` to `addr` (port 0: any) and returns the port bound, 0 on failure.
template <typename Addr>
uint16_t bind_any_port(int fd, Addr addr) {
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return 0;
  socklen_t len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  if constexpr (std::is_same_v<Addr, sockaddr_in>) return ntohs(addr.sin_port);
  else return ntohs(addr.sin6_port);
}

const sockaddr& as_sockaddr(const auto& a) { return *reinterpret_cast<const sockaddr*>(&a); }

TEST(UdpSocketsBoundTo, FindsTheUdpSocketByAddressAndPortOnly) {
  Fd udp(-1);
  Fd tcp(-1);
  uint16_t port = 0;
  // A UDP port whose TCP twin is free too: other tests (and processes) may
  // hold the TCP one, so a few ports are tried.
  for (int attempt = 0; attempt < 50 && tcp.fd < 0; ++attempt) {
    udp = Fd(socket(AF_INET, SOCK_DGRAM, 0));
    port = bind_any_port(udp.fd, loopback4());
    ASSERT_NE(port, 0);
    Fd candidate(socket(AF_INET, SOCK_STREAM, 0));
    // A TCP socket on the same port is not a CoAP endpoint.
    if (bind_any_port(candidate.fd, loopback4(port)) == port) tcp = std::move(candidate);
  }
  ASSERT_GE(tcp.fd, 0) << "no UDP port with a free TCP twin in 50 tries";
  Fd other_udp(socket(AF_INET, SOCK_DGRAM, 0));
  ASSERT_NE(bind_any_port(other_udp.fd, loopback4()), 0);

  EXPECT_EQ(udp_sockets_bound_to(as_sockaddr(loopback4()), port), std::vector<int>{udp.fd});
  sockaddr_in wildcard = loopback4();
  wildcard.sin_addr.s_addr = htonl(INADDR_ANY);
  EXPECT_TRUE(udp_sockets_bound_to(as_sockaddr(wildcard), port).empty());
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  v6.sin6_addr = in6addr_loopback;
  EXPECT_TRUE(udp_sockets_bound_to(as_sockaddr(v6), port).empty());
}

TEST(UdpSocketsBoundTo, FindsAnIpv6Socket) {
  Fd udp(socket(AF_INET6, SOCK_DGRAM, 0));
  if (udp.fd < 0) GTEST_SKIP() << "no IPv6 sockets here";
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  v6.sin6_addr = in6addr_loopback;
  const uint16_t port = bind_any_port(udp.fd, v6);
  if (port == 0) GTEST_SKIP() << "cannot bind ::1 here";
  EXPECT_EQ(udp_sockets_bound_to(as_sockaddr(v6), port), std::vector<int>{udp.fd});
}

// What SO_RCVBUF alone may grant: twice net.core.rmem_max.
std::size_t kernel_cap() {
  std::size_t rmem_max = 0;
  std::ifstream("/proc/sys/net/core/rmem_max") >> rmem_max;
  return 2 * rmem_max;
}

TEST(SetReceiveBuffer, GrantsTheSizeAskedOrTheKernelsCap) {
  const std::size_t cap = kernel_cap();
  if (cap == 0) GTEST_SKIP() << "net.core.rmem_max unreadable";
  for (const std::size_t asked : {std::size_t{100001}, std::size_t{1} << 20, std::size_t{64} << 20}) {
    Fd udp(socket(AF_INET, SOCK_DGRAM, 0));
    auto granted = set_receive_buffer(udp.fd, asked);
    ASSERT_TRUE(granted) << granted.error().detail;
    // FORCE (CAP_NET_ADMIN) grants it all; SO_RCVBUF up to the cap.
    EXPECT_GE(*granted, std::min(asked, cap)) << "asked " << asked;
    EXPECT_LE(*granted, asked + 1) << "asked " << asked;  // +1: an odd size is rounded up
    int reported = 0;
    socklen_t len = sizeof reported;
    ASSERT_EQ(getsockopt(udp.fd, SOL_SOCKET, SO_RCVBUF, &reported, &len), 0);
    EXPECT_EQ(static_cast<std::size_t>(reported), *granted);
  }
}

TEST(SetReceiveBuffer, ABadDescriptorIsAnErrorNamingTheCall) {
  auto granted = set_receive_buffer(-1, 1 << 20);
  ASSERT_FALSE(granted);
  EXPECT_EQ(granted.error().reason, "receive_buffer");
  EXPECT_NE(granted.error().detail.find("setsockopt"), std::string::npos) << granted.error().detail;
}

using namespace std::chrono_literals;
using testing_support::eventually;

// What the kernel holds for a socket: bytes charged for queued datagrams,
// and datagrams dropped because that charge would pass the buffer.
struct SocketMemory {
  uint32_t queued_bytes = 0;
  uint32_t drops = 0;
  // False where SO_MEMINFO gives less than the whole array: qemu-user (the
  // arm64 unit tests in scripts/package.sh) copies back only its first word.
  bool complete = false;
};

SocketMemory socket_memory(int fd) {
  std::array<uint32_t, SK_MEMINFO_VARS> info{};
  socklen_t len = sizeof info;
  if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, info.data(), &len) != 0) return {};
  return {info[SK_MEMINFO_RMEM_ALLOC], info[SK_MEMINFO_DROPS], len == sizeof info};
}

std::size_t receive_buffer(int fd) {
  int v = 0;
  socklen_t len = sizeof v;
  return getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &len) == 0 ? static_cast<std::size_t>(v) : 0;
}

// A NON POST /sensors/dev-<i>/t with a JSON body; every one the same size.
std::string non_post(uint16_t mid, uint32_t i) {
  char device[16];
  std::snprintf(device, sizeof device, "dev-%05u", i % 100000);
  std::string m = {0x50, 0x02, static_cast<char>(mid >> 8), static_cast<char>(mid & 0xff)};
  m += static_cast<char>(0xb7);  // Uri-Path (11), 7 bytes
  m += "sensors";
  m += static_cast<char>(0x09);  // Uri-Path again, 9 bytes
  m += device;
  m += static_cast<char>(0x01);  // Uri-Path again, 1 byte
  m += "t";
  m += static_cast<char>(0x11);  // Content-Format (12), 1 byte: 50, JSON
  m += static_cast<char>(50);
  m += static_cast<char>(0xff);
  m += R"({"t":21.5,"seq":12345})";
  return m;
}

class CoapServerReceiveBuffer : public ::testing::Test {
 protected:
  // Opened on this thread and polled only when a test says so: while it is
  // not polled, whatever arrives stays in its socket's queue.
  void open(std::size_t receive_buffer_bytes) {
    CoapOptions options;
    options.bind = "127.0.0.1";
    options.port = testing_support::free_loopback_port(SOCK_DGRAM);  // not 0: see free_port.h
    options.receive_buffer_bytes = receive_buffer_bytes;
    server_ = std::make_unique<CoapServer>(options, [this](CoapRequest&&) {
      handled_.fetch_add(1);
      return CoapReply{};
    });
    ASSERT_TRUE(server_->open());
    const auto fds = udp_sockets_bound_to(as_sockaddr(loopback4()), server_->port());
    ASSERT_EQ(fds.size(), 1u);
    server_fd_ = fds[0];
    sender_ = Fd(socket(AF_INET, SOCK_DGRAM, 0));
    sockaddr_in to = loopback4(server_->port());
    ASSERT_EQ(connect(sender_.fd, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  }

  void send_requests(uint32_t n) {
    for (uint32_t i = 0; i < n; ++i, ++sent_) {
      const std::string m = non_post(static_cast<uint16_t>(sent_), sent_);
      ASSERT_EQ(send(sender_.fd, m.data(), m.size(), 0), static_cast<ssize_t>(m.size()));
    }
  }

  // Polls until the handler has seen `n` requests (bounded by a deadline).
  bool handled_eventually(uint32_t n) {
    return eventually(
        [&] {
          server_->poll(10);
          return handled_.load() >= n;
        },
        30s, 0ms);
  }

  std::unique_ptr<CoapServer> server_;
  int server_fd_ = -1;
  Fd sender_{-1};
  uint32_t sent_ = 0;
  std::atomic<uint32_t> handled_{0};
};

TEST_F(CoapServerReceiveBuffer, TheSocketGetsWhatTheKernelAllowsAndTheGaugeSaysSo) {
  const std::size_t cap = kernel_cap();
  if (cap == 0) GTEST_SKIP() << "net.core.rmem_max unreadable";
  constexpr std::size_t kAsked = 3 << 20;
  open(kAsked);
  const std::size_t granted = receive_buffer(server_fd_);
  EXPECT_GE(granted, std::min(kAsked, cap));
  EXPECT_EQ(static_cast<std::size_t>(server_->stats().receive_buffer_bytes.value()), granted);
  MetricSink metrics;
  server_->stats().collect(metrics);
  const auto gauge = std::find_if(metrics.begin(), metrics.end(),
                                  [](const MetricSample& m) { return m.name == "coap_receive_buffer_bytes"; });
  ASSERT_NE(gauge, metrics.end());
  EXPECT_EQ(gauge->value, static_cast<double>(granted));
}

TEST_F(CoapServerReceiveBuffer, ABurstThatFitsTheBufferLosesNothing) {
  constexpr uint32_t kBurst = 2000;
  open(4 << 20);
  if (!socket_memory(server_fd_).complete) GTEST_SKIP() << "SO_MEMINFO returns a short array here (qemu-user)";
  // The first request tells what the kernel charges for one.
  send_requests(1);
  ASSERT_TRUE(eventually([&] { return socket_memory(server_fd_).queued_bytes > 0; }, 10s));
  const uint32_t per_request = socket_memory(server_fd_).queued_bytes;
  const std::size_t granted = receive_buffer(server_fd_);
  if (std::size_t{per_request} * kBurst * 2 > granted)
    GTEST_SKIP() << "the kernel granted " << granted << " bytes; " << kBurst << " requests of " << per_request
                 << " need twice that here (raise net.core.rmem_max)";
  // In chunks, each once the last has reached the socket: a chunk stays
  // below the kernel's per-CPU backlog (net.core.netdev_max_backlog, 1000),
  // which on a busy machine could drop datagrams before any socket sees them.
  while (sent_ < kBurst) {
    send_requests(std::min(250u, kBurst - sent_));
    ASSERT_TRUE(eventually(
        [&] {
          const auto m = socket_memory(server_fd_);
          return m.drops > 0 || m.queued_bytes >= sent_ * per_request;
        },
        10s))
        << "queued " << socket_memory(server_fd_).queued_bytes << " of " << sent_ * per_request;
  }
  EXPECT_EQ(socket_memory(server_fd_).drops, 0u);
  EXPECT_EQ(socket_memory(server_fd_).queued_bytes, kBurst * per_request);  // all of it, unread
  EXPECT_TRUE(handled_eventually(kBurst)) << handled_.load() << " of " << kBurst;
  EXPECT_EQ(server_->stats().receive_drops.value(), 0u);  // the first poll sampled the kernel's count
}

TEST_F(CoapServerReceiveBuffer, ABurstOverASmallBufferIsCountedAsDrops) {
  open(64 * 1024);  // ~80 requests
  if (!socket_memory(server_fd_).complete) GTEST_SKIP() << "SO_MEMINFO returns a short array here (qemu-user)";
  send_requests(2000);
  ASSERT_TRUE(eventually([&] { return socket_memory(server_fd_).drops > 0; }, 10s));
  // The first poll samples the kernel's drop count into the stats.
  server_->poll(0);
  EXPECT_GT(server_->stats().receive_drops.value(), 0u);
  EXPECT_LE(server_->stats().receive_drops.value(), socket_memory(server_fd_).drops);
}

}  // namespace
}  // namespace foggate::protocols
