// A loopback port no socket holds now, for a test's server to bind.
//
// Ask the kernel through a socket without SO_REUSEADDR: its choice avoids
// every port in use. Binding port 0 with SO_REUSEADDR (libcoap sets it on
// every UDP endpoint) does not: Linux may then hand out a port another
// such socket holds, and two tests' servers share it.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>

namespace foggate::testing_support {

// type: SOCK_STREAM or SOCK_DGRAM. 0 when the kernel gives none.
inline uint16_t free_loopback_port(int type) {
  const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

}  // namespace foggate::testing_support
