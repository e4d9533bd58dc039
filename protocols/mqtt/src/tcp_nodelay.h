// Turns off Nagle's algorithm on the process's TCP sockets.
//
// Paho C opens its sockets without TCP_NODELAY and has no hook to set it.
// With Nagle on, a small publish (an alert) that follows a larger one (a
// metrics document, QoS 0, so no PUBACK comes back to carry the ACK) waits
// for the broker's delayed ACK: 40 ms on Linux, measured as the alert p99
// in docs/benchmarks.md. MQTT writes whole packets, so there is nothing to
// gain from coalescing. Called after each connect; every TCP socket of the
// process is fair game (foggate writes only whole messages on any of them).
// Private to the mqtt module.
#pragma once

namespace foggate::protocols {

// Sets TCP_NODELAY on every IPv4/IPv6 stream socket of this process that
// does not have it yet; returns how many it changed. Errors (a socket closed
// meanwhile, /proc not mounted) are skipped. Any thread.
int set_tcp_nodelay_on_all_sockets();

}  // namespace foggate::protocols
