#include "tcp_socket.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>

namespace foggate::protocols {

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

TcpSocket::~TcpSocket() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::size_t> TcpSocket::read(char* buf, std::size_t n) {
  while (true) {
    const ssize_t got = ::recv(fd_, buf, n, 0);
    if (got > 0) return static_cast<std::size_t>(got);
    if (got == 0) return unexpected(Error::transient("mqtt_closed", "the broker closed the connection"));
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return std::size_t{0};
    return unexpected(Error::transient("mqtt_io", std::string("receive: ") + std::strerror(errno)));
  }
}

Result<std::size_t> TcpSocket::write(const char* buf, std::size_t n) {
  while (true) {
    const ssize_t put = ::send(fd_, buf, n, MSG_NOSIGNAL);
    if (put >= 0) return static_cast<std::size_t>(put);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return std::size_t{0};
    return unexpected(Error::transient("mqtt_io", std::string("send: ") + std::strerror(errno)));
  }
}

bool TcpSocket::wait(bool for_write, int64_t deadline_mono_ms) const { return wait_fd(fd_, for_write, deadline_mono_ms); }

bool wait_fd(int fd, bool for_write, int64_t deadline_mono_ms) {
  pollfd p{fd, static_cast<short>(for_write ? POLLOUT : POLLIN), 0};
  while (true) {
    const int64_t left = deadline_mono_ms - steady_ms();
    if (left <= 0) return false;
    const int rc = ::poll(&p, 1, static_cast<int>(left));
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) return false;
  }
}

namespace {

Result<TcpSocket> connect_one(const addrinfo& ai, int64_t deadline) {
  TcpSocket s(::socket(ai.ai_family, ai.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai.ai_protocol));
  if (s.fd() < 0) return unexpected(Error::transient("mqtt_connect", std::string("socket: ") + std::strerror(errno)));
  // Small packets (PUBACK batches, PINGREQ) go out at once.
  const int one = 1;
  (void)::setsockopt(s.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(s.fd(), ai.ai_addr, ai.ai_addrlen) != 0 && errno != EINPROGRESS)
    return unexpected(Error::transient("mqtt_connect", std::strerror(errno)));
  if (!s.wait(true, deadline)) return unexpected(Error::transient("mqtt_connect", "connect timed out"));
  int err = 0;
  socklen_t len = sizeof err;
  (void)::getsockopt(s.fd(), SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) return unexpected(Error::transient("mqtt_connect", std::strerror(err)));
  return s;
}

}  // namespace

Result<TcpSocket> connect_tcp(const std::string& host, uint16_t port, int timeout_ms) {
  const int64_t deadline = steady_ms() + timeout_ms;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0)
    return unexpected(Error::transient("mqtt_connect", "cannot resolve " + host + ": " + gai_strerror(rc)));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, &::freeaddrinfo);
  Error last = Error::transient("mqtt_connect", "no address for " + host);
  for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
    auto s = connect_one(*ai, deadline);
    if (s) return s;
    last = s.error();
  }
  last.detail = "cannot reach " + host + ":" + service + ": " + last.detail;
  return unexpected(std::move(last));
}

}  // namespace foggate::protocols
