// CoapIngress: foggate's CoAP server (plain UDP and DTLS-PSK endpoints) and
// the CoAP hop of the message path: a POST to /sensors/<device>[/<metric>]
// becomes a Message handed to Ingest; a full queue answers 5.03.
//
// Threads: "coap" owns the libcoap context (CoapServer), created, polled
// and destroyed there only. start()/stop() from the gateway's controlling
// thread; apply() and reload_keys() from the supervisor (they restart the
// "coap" thread); port() and collect() from any thread. Counters outlive
// each server instance, so a rebind keeps them.
#pragma once

#include <atomic>
#include <cstdint>
#include <future>
#include <thread>
#include <vector>

#include "foggate/base/counter.h"
#include "foggate/base/result.h"
#include "foggate/gateway/config.h"
#include "foggate/protocols/coap_server.h"
#include "ingress/ingest.h"

namespace foggate::gateway {

// What the CoAP endpoints are served with: a change restarts them.
struct CoapEndpoints {
  bool plain_enabled = false;
  protocols::CoapOptions options;
  std::string psk_file;

  explicit CoapEndpoints(const IngestSection& in)
      : plain_enabled(in.coap_enabled), options(in.coap), psk_file(in.coaps_psk_file) {}
  bool wanted() const { return plain_enabled || options.dtls.enabled; }
  bool operator==(const CoapEndpoints&) const = default;
};

class CoapIngress {
 public:
  explicit CoapIngress(Ingest& ingest) : ingest_(ingest) {}
  ~CoapIngress() { stop(); }

  // Serves `in` when it asks for CoAP at all; waits until the endpoints are
  // bound. Errors: cannot bind, the coaps key file is unusable.
  Result<void> start(const IngestSection& in);
  void stop();
  // A new live ingest section: rebinds only when the endpoints changed;
  // when the new ones fail, serves the old ones again (counted, logged).
  void apply(const IngestSection& before, const IngestSection& next);
  // SIGHUP: re-reads the coaps key file; a bad one keeps the current keys,
  // and so does an unchanged one, without a restart (datagrams that arrive
  // while the endpoints are rebound are lost).
  void reload_keys(const IngestSection& in);

  uint16_t port() const { return port_.load(); }  // 0 when plain CoAP is off
  void collect(MetricSink& out) const;

 private:
  void run(protocols::CoapOptions options, std::promise<Result<void>> opened);
  void restart(const IngestSection& before, const IngestSection& next);
  protocols::CoapReply on_request(protocols::CoapRequest&& req);

  Ingest& ingest_;
  protocols::CoapStats stats_;  // outlives every CoapServer instance
  Counter rebind_failures_;
  std::atomic<uint16_t> port_{0};
  std::atomic<bool> stop_{false};
  std::vector<protocols::CoapPsk> served_keys_;  // coaps keys of the running server; start()'s caller only
  std::jthread thread_;
};

}  // namespace foggate::gateway
