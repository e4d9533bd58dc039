// Datagrams the kernel dropped before foggate could read them.
//
// When CoAP requests arrive faster than the CoAP thread reads them, the
// socket's receive buffer fills and the kernel drops the rest: NON requests
// are then lost without any answer, and foggate never sees them. Linux
// counts these drops per socket (the last column of /proc/net/udp); the
// CoAP server adds them to its stats so the loss is visible in metrics.
// Private to the coap module.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace foggate::protocols {

// Sum of the kernel's drop counters of this process's UDP sockets (IPv4 and
// IPv6) bound to one of `ports`; 0 when /proc is unreadable.
uint64_t udp_receive_drops(const std::vector<uint16_t>& ports);

// The same over one /proc/net/udp-format text (for tests).
uint64_t udp_receive_drops_in(std::string_view proc_net_udp, const std::vector<uint16_t>& ports);

}  // namespace foggate::protocols
