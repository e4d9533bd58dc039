// Transport: the byte stream under an MqttIngestConnection, plain TCP or
// TLS (mbedTLS 2.28, TLS 1.2) over a non-blocking socket with TCP_NODELAY.
//
// open_transport() connects, and for TLS completes the handshake, within
// timeout_ms; a refused TLS handshake comes back in words ("server
// certificate: The certificate validity has expired", "the broker refused
// our client certificate"), as MqttClient explains its own. The TLS files
// are read at every call, so replaced files take effect at the next
// connect.
//
// Threads: one owner (the connection's thread).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "foggate/base/result.h"
#include "foggate/protocols/mqtt_settings.h"

namespace foggate::protocols {

class Transport {
 public:
  virtual ~Transport() = default;
  // > 0: bytes moved; 0: would block (poll fd() and try again);
  // Error: the connection is gone (detail says why).
  virtual Result<std::size_t> read(char* buf, std::size_t n) = 0;
  virtual Result<std::size_t> write(const char* buf, std::size_t n) = 0;
  // Decrypted bytes already buffered (poll on fd() would not show them).
  virtual bool has_buffered_input() const { return false; }
  // Best effort, bounded: a TLS close_notify; the socket closes in the destructor.
  virtual void shutdown() {}
  virtual int fd() const = 0;
};

Result<std::unique_ptr<Transport>> open_transport(const BrokerAddress& to, const MqttTls& tls, int timeout_ms);

}  // namespace foggate::protocols
