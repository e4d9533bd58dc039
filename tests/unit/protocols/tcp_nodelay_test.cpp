#include "tcp_nodelay.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace foggate::protocols {
namespace {

struct Fd {
  int fd;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

int nodelay(int fd) {
  int v = -1;
  socklen_t len = sizeof v;
  EXPECT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
  return v;
}

TEST(TcpNodelay, SetOnEveryConnectedTcpSocketOnce) {
  Fd listener(socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(listener.fd, 1), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(listener.fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  Fd client(socket(AF_INET, SOCK_STREAM, 0));
  ASSERT_EQ(connect(client.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  Fd accepted(accept(listener.fd, nullptr, nullptr));
  ASSERT_GE(accepted.fd, 0);
  ASSERT_EQ(nodelay(client.fd), 0);
  ASSERT_EQ(nodelay(accepted.fd), 0);

  EXPECT_GE(set_tcp_nodelay_on_all_sockets(), 2);
  EXPECT_EQ(nodelay(client.fd), 1);
  EXPECT_EQ(nodelay(accepted.fd), 1);
  // Nothing left to change: the second call finds every TCP socket done.
  EXPECT_EQ(set_tcp_nodelay_on_all_sockets(), 0);
}

}  // namespace
}  // namespace foggate::protocols
