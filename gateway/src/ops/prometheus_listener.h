// PrometheusListener: the optional HTTP endpoint for Prometheus
// (metrics.prometheus). A minimal HTTP/1.1 responder: GET or HEAD /metrics
// answers 200 with the text `render()` returns; any other path 404, any
// other method 405, an unparsable request 400, a request head over
// max_request_bytes 431. One response per connection, then close.
//
// Hostile clients: one connection is served at a time, on this listener's
// own thread, under a hard deadline (request_timeout_ms for the whole
// request head, the same again for writing the response), so a slow or
// silent client (slowloris) is dropped and costs later scrapers at most
// that long; nothing a client sends is kept beyond max_request_bytes. Every
// refusal is counted (prometheus_requests_total{outcome}). The gateway's
// other threads never wait for this one.
//
// Threads: start()/stop() from the gateway's controlling thread; render()
// runs on the listener thread ("prometheus") and must be safe there;
// collect() and port() from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "foggate/base/counter.h"
#include "foggate/base/result.h"
#include "foggate/gateway/config.h"

namespace foggate::gateway {

struct PrometheusLimits {
  int64_t request_timeout_ms = 2000;    // Default: 2 s to send the request head (and to take the response)
  std::size_t max_request_bytes = 8192; // Default: 8 KiB request line + headers
};

struct PrometheusListenerStats {
  Counter ok;
  Counter not_found;
  Counter method_not_allowed;
  Counter bad_request;
  Counter too_large;
  Counter timeout;   // request head not complete in time, or response not taken in time
  Counter closed;    // the client went away before a complete request
  Counter errors;    // accept or socket errors, render failures
};

class PrometheusListener {
 public:
  using Render = std::function<std::string()>;
  // `options.port` 0 binds an ephemeral port (tests); see port().
  PrometheusListener(PrometheusOptions options, Render render, PrometheusLimits limits = {});
  ~PrometheusListener();
  PrometheusListener(const PrometheusListener&) = delete;
  PrometheusListener& operator=(const PrometheusListener&) = delete;

  // Binds and starts the thread. Error "prometheus_bind" when the address
  // cannot be bound (in use, not local).
  Result<void> start();
  // Stops the thread within about 100 ms and closes the socket. Idempotent.
  void stop();

  uint16_t port() const { return port_.load(); }
  const PrometheusListenerStats& stats() const { return stats_; }
  void collect(MetricSink& out) const;

 private:
  void run(std::stop_token stop);
  void serve(int fd, const std::stop_token& stop);

  const PrometheusOptions options_;
  const Render render_;
  const PrometheusLimits limits_;
  int listen_fd_ = -1;  // owned; closed by stop()
  std::atomic<uint16_t> port_{0};
  PrometheusListenerStats stats_;
  std::jthread thread_;
};

}  // namespace foggate::gateway
