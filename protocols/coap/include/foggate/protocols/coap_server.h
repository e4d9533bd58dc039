// CoapServer: the gateway's CoAP endpoint, built on libcoap.
//
// Resources: POST /sensors/{device}[/{metric}] (CON or NON, Block1 bodies
// reassembled up to max_body_bytes) and GET /.well-known/core, over plain
// UDP and/or DTLS-PSK. Over DTLS the device must be the PSK identity the
// peer authenticated with, or the answer is 4.03 Forbidden.
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
#include <vector>

#include "foggate/base/counter.h"
#include "foggate/base/result.h"
#include "foggate/message/message.h"

namespace foggate::protocols {

// One device's pre-shared key for coaps://. The identity is the device id:
// a DTLS session may only post under /sensors/<identity>/.
struct CoapPsk {
  std::string identity;
  std::string key;  // raw bytes; never logged

  bool operator==(const CoapPsk&) const = default;
};

// coaps:// (DTLS 1.2 with pre-shared keys, through libcoap's OpenSSL backend)
// on its own UDP port, served by the same context and thread as plain CoAP.
struct CoapDtlsOptions {
  bool enabled = false;                 // Default: off
  std::string bind = "0.0.0.0";         // Default: all IPv4 interfaces
  uint16_t port = 5684;                 // Default: 5684 (0 = pick a free port)
  std::vector<CoapPsk> keys;            // identities that may connect; others fail the handshake

  bool operator==(const CoapDtlsOptions&) const = default;
};

struct CoapOptions {
  bool plain = true;                    // Default: true; false serves coaps:// only
  std::string bind = "0.0.0.0";         // Default: all IPv4 interfaces
  uint16_t port = 5683;                 // Default: 5683 (0 = pick a free port)
  std::size_t max_body_bytes = 64 * 1024;  // Default: 64 KiB after Block1 reassembly
  uint32_t overload_max_age_s = 2;      // Default: 2 s, the Max-Age on 5.03 answers
  // Receive buffer of each endpoint's UDP socket (plain and DTLS), as the
  // kernel accounts it: about 830 bytes per small queued request on
  // loopback, 2 KiB or more from most NICs. The kernel may grant less (twice
  // net.core.rmem_max unless the process has CAP_NET_ADMIN); the server
  // then warns once, and stats().receive_buffer_bytes says what it got.
  std::size_t receive_buffer_bytes = 4 * 1024 * 1024;  // Default: 4 MiB, ~5000 queued requests on loopback
  CoapDtlsOptions dtls;

  bool operator==(const CoapOptions&) const = default;
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
  Counter forbidden;       // answered 4.03: a DTLS identity posting for another device
  Counter dtls_unknown_identity;  // handshakes refused: identity not in the key list
  Counter dtls_errors;     // DTLS handshake or record errors (wrong key, garbage)
  Counter receive_drops;   // datagrams the kernel dropped: the socket's buffer was full (sampled each second)
  Gauge receive_buffer_bytes;  // the smallest receive buffer the kernel granted an endpoint's socket; 0 if none was set

  void collect(MetricSink& out) const;
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

  // Creates the libcoap context, binds the UDP endpoint(s) and sizes their
  // receive buffers (a smaller buffer than asked is a warning, not an error).
  // Error reasons: "coap_context", "coap_bind" (detail names the address),
  // "coap_dtls" (DTLS unavailable in this libcoap or no keys).
  Result<void> open();
  // The UDP ports actually bound (useful with port 0); 0 when that endpoint
  // is off. Valid after open().
  uint16_t port() const;
  uint16_t dtls_port() const;
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
