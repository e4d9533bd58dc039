#include "receive_buffer.h"

#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string>
#include <system_error>

#include "foggate/base/process_sockets.h"

namespace foggate::protocols {
namespace {

// Same family, IP address and port. The address is compared too, not only
// the port: with SO_REUSEADDR (libcoap sets it) two sockets may share a port
// on different addresses.
bool same_local_address(const sockaddr_storage& bound, const sockaddr& want, uint16_t port) {
  if (bound.ss_family != want.sa_family) return false;
  if (want.sa_family == AF_INET) {
    sockaddr_in b{}, w{};
    std::memcpy(&b, &bound, sizeof b);
    std::memcpy(&w, &want, sizeof w);
    return ntohs(b.sin_port) == port && b.sin_addr.s_addr == w.sin_addr.s_addr;
  }
  if (want.sa_family == AF_INET6) {
    sockaddr_in6 b{}, w{};
    std::memcpy(&b, &bound, sizeof b);
    std::memcpy(&w, &want, sizeof w);
    return ntohs(b.sin6_port) == port && std::memcmp(&b.sin6_addr, &w.sin6_addr, sizeof b.sin6_addr) == 0;
  }
  return false;
}

Error failed(const char* call) {
  return Error::permanent("receive_buffer", std::string(call) + ": " + std::system_category().message(errno));
}

}  // namespace

std::vector<int> udp_sockets_bound_to(const sockaddr& address, uint16_t port) {
  std::vector<int> found;
  for_each_socket([&](int fd) {
    int type = 0;
    socklen_t len = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_DGRAM) return;
    sockaddr_storage bound{};
    len = sizeof bound;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len) != 0) return;
    if (same_local_address(bound, address, port)) found.push_back(fd);
  });
  return found;
}

Result<std::size_t> set_receive_buffer(int fd, std::size_t bytes) {
  // Rounded up, so an odd size is not reported back one byte short.
  const int half = static_cast<int>(std::min<std::size_t>((bytes + 1) / 2, INT_MAX / 2));
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &half, sizeof half) != 0) {
    if (errno != EPERM) return unexpected(failed("setsockopt(SO_RCVBUFFORCE)"));
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &half, sizeof half) != 0)
      return unexpected(failed("setsockopt(SO_RCVBUF)"));
  }
  int granted = 0;
  socklen_t len = sizeof granted;
  if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &granted, &len) != 0) return unexpected(failed("getsockopt(SO_RCVBUF)"));
  return static_cast<std::size_t>(std::max(granted, 0));
}

}  // namespace foggate::protocols
