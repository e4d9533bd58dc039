// The receive buffer of the CoAP server's UDP sockets.
//
// A burst of requests (many devices waking at once, a fleet retrying after
// an outage) arrives faster than the CoAP thread reads it; what does not fit
// in the socket's receive buffer is dropped by the kernel (udp_drops.h counts
// it). The kernel's default buffer (net.core.rmem_default, 212992 bytes)
// holds about 256 small requests: on Linux each queued datagram is charged
// its skb's truesize, 832 bytes on loopback for a 60-100-byte CoAP request
// and 2 KiB or more through most NIC drivers, not its payload.
//
// libcoap 4.3.1 opens the endpoints' sockets itself and has no call that
// returns their descriptors, so udp_sockets_bound_to() finds them among the
// process's descriptors (foggate/base/process_sockets.h) by their bound
// address. Private to the coap module.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "foggate/base/result.h"

namespace foggate::protocols {

// This process's UDP sockets bound to `address` (its family and IP address;
// its port is ignored) and `port`. `address` must be the whole sockaddr of
// its family (a sockaddr_in6 for AF_INET6), as in coap_address_t. Descriptors another thread closes
// meanwhile are skipped; an empty list when /proc/self/fd is unreadable. Any
// thread.
std::vector<int> udp_sockets_bound_to(const sockaddr& address, uint16_t port);

// Asks for a receive buffer of `bytes` on `fd` and returns the size the
// kernel granted, as getsockopt(SO_RCVBUF) reports it. Both are the budget
// the kernel charges queued datagrams against (what `ss -m` shows as rb),
// not payload bytes: Linux doubles what setsockopt is given, so half of
// `bytes` is asked. SO_RCVBUFFORCE is tried first, which only a process with
// CAP_NET_ADMIN may use and which ignores net.core.rmem_max; SO_RCVBUF
// otherwise, which the kernel caps at twice net.core.rmem_max without an
// error. Error reason "receive_buffer" (detail: the failing call and errno).
Result<std::size_t> set_receive_buffer(int fd, std::size_t bytes);

}  // namespace foggate::protocols
