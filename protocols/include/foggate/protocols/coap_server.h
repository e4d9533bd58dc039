// CoapServer: the gateway's CoAP endpoint, built on libcoap.
//
// Resources: POST /sensors/{device}[/{metric}] (CON or NON, Block1 bodies
// reassembled up to max_body_bytes) and GET /.well-known/core.
// The handler decides the answer for a complete body: 2.04 Changed on accept,
// 4.00 Bad Request with a diagnostic payload, 5.03 Service Unavailable with
// Max-Age when the gateway is overloaded. The server itself answers 4.13
// Request Entity Too Large (with Size1) for bodies over the limit, 4.04 for
// other paths and 4.05 for other methods.
//
// Threads: a libcoap context belongs to one thread. Construct, open() and
// poll() the server on the same thread (the gateway's CoAP thread); the
// handler runs on that thread and must not block. stats() may be read from
// any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "foggate/base/counter.h"
#include "foggate/base/result.h"
#include "foggate/message/message.h"

namespace foggate::protocols {

struct CoapOptions {
  std::string bind = "0.0.0.0";         // Default: all IPv4 interfaces
  uint16_t port = 5683;                 // Default: 5683 (0 = pick a free port)
  std::size_t max_body_bytes = 64 * 1024;  // Default: 64 KiB after Block1 reassembly
  uint32_t overload_max_age_s = 2;      // Default: 2 s, the Max-Age on 5.03 answers
};

struct CoapRequest {
  std::string device;   // first path segment after /sensors/
  std::string metric;   // second segment, may be empty
  PayloadFormat format = PayloadFormat::kAuto;  // from Content-Format: 50 json, 42 msgpack, 0 number, none auto
  std::string body;
};

struct CoapReply {
  enum class Code { kChanged, kBadRequest, kServiceUnavailable };
  Code code = Code::kChanged;
  std::string diagnostic;  // payload of a 4.00 answer
};

using CoapHandler = std::function<CoapReply(CoapRequest&&)>;

struct CoapStats {
  Counter requests;        // every request the server saw
  Counter accepted;        // answered 2.04
  Counter bad_request;     // answered 4.00 (malformed), 4.05, 4.08 (incomplete Block1) or 4.15
  Counter too_large;       // answered 4.13
  Counter overloaded;      // answered 5.03
  Counter not_found;       // answered 4.04
  Counter handler_errors;  // handler threw; answered 5.00
};

class CoapServer {
 public:
  // Counts into its own CoapStats.
  CoapServer(CoapOptions options, CoapHandler handler);
  // Counts into `stats`, which must outlive the server: the owner keeps its
  // counters across a restart of the server (a configuration change).
  CoapServer(CoapOptions options, CoapHandler handler, CoapStats& stats);
  ~CoapServer();
  CoapServer(const CoapServer&) = delete;
  CoapServer& operator=(const CoapServer&) = delete;

  // Creates the libcoap context and binds the UDP endpoint.
  // Error reasons: "coap_context", "coap_bind" (detail names the address).
  Result<void> open();
  // The UDP port actually bound (useful with port 0). Valid after open().
  uint16_t port() const;
  // Processes I/O for at most timeout_ms; call in a loop from the owning thread.
  void poll(uint32_t timeout_ms);

  const CoapStats& stats() const { return *stats_; }

 private:
  struct Impl;
  CoapStats own_stats_;
  CoapStats* stats_;  // own_stats_ or the owner's
  std::unique_ptr<Impl> impl_;
};

}  // namespace foggate::protocols
