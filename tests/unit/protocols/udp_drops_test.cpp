#include "udp_drops.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace foggate::protocols {
namespace {

TEST(UdpDrops, SumsTheDropColumnOfTheSocketsOnTheGivenPorts) {
  // Two sockets on 5683 (0x1633, v4 and another address), one on 5684, one elsewhere.
  const char* text =
      "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
      "  1: 0100007F:1633 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 11 2 0000000000000000 7\n"
      "  2: 00000000:1633 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 12 2 0000000000000000 5\n"
      "  3: 0100007F:1634 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 13 2 0000000000000000 100\n"
      "  4: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 14 2 0000000000000000 9\n";
  EXPECT_EQ(udp_receive_drops_in(text, {5683}), 12u);
  EXPECT_EQ(udp_receive_drops_in(text, {5683, 5684}), 112u);
  EXPECT_EQ(udp_receive_drops_in(text, {9999}), 0u);
  EXPECT_EQ(udp_receive_drops_in("garbage\nmore garbage\n", {5683}), 0u);
}

TEST(UdpDrops, SeesTheKernelDropDatagramsForAFullSocket) {
  const int rx = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(rx, 0);
  const int small = 4096;
  setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(rx, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(rx, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const uint16_t port = ntohs(addr.sin_port);
  EXPECT_EQ(udp_receive_drops({port}), 0u);

  const int tx = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(tx, 0);
  const char datagram[512] = {};
  for (int i = 0; i < 1000; ++i)  // far more than a 4 KiB buffer holds; nobody reads
    (void)sendto(tx, datagram, sizeof datagram, 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  EXPECT_GT(udp_receive_drops({port}), 0u);
  close(tx);
  close(rx);
}

}  // namespace
}  // namespace foggate::protocols
