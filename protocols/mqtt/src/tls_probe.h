// probe_tls: says why a TLS connection to a broker fails, in words.
//
// Paho reports a refused handshake only as "connect failed, rc=-1" (its TLS
// error callback is unusable in Paho C++ 1.2, see mqtt_client.cpp), which
// leaves an operator guessing between a wrong CA, an expired certificate, a
// host-name mismatch and a broker refusing the client certificate. This
// does one handshake of its own with mbedTLS and the same files, completing
// it even when verification fails so the reason can be read, then closes.
// TLS 1.2 only (mbedTLS 2.28): a 1.3-only broker shows as a handshake error.
//
// Blocking, bounded by timeout_ms per network step: call it off the hot
// threads. Private to the mqtt module.
#pragma once

#include <cstdint>
#include <string>

#include "foggate/protocols/mqtt_client.h"

namespace foggate::protocols {

// "" when the handshake and verification succeed; otherwise one line such
// as "server certificate: The certificate validity has expired".
std::string probe_tls(const std::string& host, uint16_t port, const MqttTls& tls, uint32_t timeout_ms);

// Host and port of an ssl:// or mqtts:// URI (port 8883 when absent);
// false when the URI is not one of those.
bool tls_host_port(const std::string& uri, std::string& host, uint16_t& port);

}  // namespace foggate::protocols
