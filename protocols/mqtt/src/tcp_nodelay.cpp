#include "tcp_nodelay.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "foggate/base/process_sockets.h"

namespace foggate::protocols {

int set_tcp_nodelay_on_all_sockets() {
  int changed = 0;
  for_each_socket([&](int fd) {
    int value = 0;
    socklen_t len = sizeof value;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &value, &len) != 0 || value != SOCK_STREAM) return;
    len = sizeof value;
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &value, &len) != 0 || (value != AF_INET && value != AF_INET6))
      return;
    len = sizeof value;
    if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &value, &len) != 0 || value != 0) return;
    const int on = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) == 0) ++changed;
  });
  return changed;
}

}  // namespace foggate::protocols
