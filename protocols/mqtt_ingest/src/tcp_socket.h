// TcpSocket: the owned, non-blocking, TCP_NODELAY socket under a
// Transport. Private to mqtt_ingest.
#pragma once

#include <cstddef>
#include <string>

#include "foggate/base/result.h"
#include "foggate/protocols/mqtt_settings.h"

namespace foggate::protocols {

class TcpSocket {
 public:
  TcpSocket() = default;
  explicit TcpSocket(int fd) : fd_(fd) {}
  ~TcpSocket();
  TcpSocket(TcpSocket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  TcpSocket& operator=(TcpSocket&&) = delete;
  TcpSocket(const TcpSocket&) = delete;

  int fd() const { return fd_; }
  // > 0 bytes, 0 would block, Error when closed or failed.
  Result<std::size_t> read(char* buf, std::size_t n);
  Result<std::size_t> write(const char* buf, std::size_t n);
  // Waits until readable (or writable) or deadline; false on timeout.
  bool wait(bool for_write, int64_t deadline_mono_ms) const;

 private:
  int fd_ = -1;
};

// Resolves and connects within timeout_ms (every address of the host in
// turn); the socket comes back non-blocking with TCP_NODELAY.
Result<TcpSocket> connect_tcp(const std::string& host, uint16_t port, int timeout_ms);

int64_t steady_ms();
// Waits until `fd` is readable (or writable) or the deadline passes; false
// on timeout or error.
bool wait_fd(int fd, bool for_write, int64_t deadline_mono_ms);

}  // namespace foggate::protocols
