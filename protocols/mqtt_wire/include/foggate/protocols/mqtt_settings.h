// The connection settings both MQTT clients of foggate share: Paho's
// MqttClient (what foggate publishes, the tools) and foggate's own ingest
// connection (MqttIngestConnection). Plain values, no library behind them.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "foggate/base/result.h"

namespace foggate::protocols {

// TLS for ssl:// and mqtts:// URIs. Files are read at every connect
// attempt, so replacing them and reconnecting rotates them.
struct MqttTls {
  std::string ca_file;        // Default: none = the system trust store
  std::string cert_file;      // Default: none; with key_file = mutual TLS
  std::string key_file;       // Default: none; never logged
  bool verify_hostname = true;  // Default: true (the URI host must match the certificate)
};

struct MqttSubscription {
  std::string filter;
  int qos = 1;
};

// True for URIs that need TLS (ssl://, mqtts://).
bool is_tls_uri(std::string_view uri);

// tcp://host[:port], mqtt://, ssl://, mqtts://; an IPv6 host in brackets.
// Default port 1883, or 8883 with TLS.
struct BrokerAddress {
  std::string host;
  uint16_t port = 1883;
  bool tls = false;
};
Result<BrokerAddress> parse_broker_uri(std::string_view uri);

// Capped full-jitter backoff between connect attempts: after the n-th
// failure in a row the delay is uniform in [0, min(max, min * 2^n)]; a
// success starts over. One owner thread.
class ReconnectBackoff {
 public:
  ReconnectBackoff(int64_t min_ms, int64_t max_ms) : min_ms_(min_ms), max_ms_(max_ms) {}
  // The delay before the next attempt after one more failure.
  int64_t next_delay_ms();
  void reset() { failures_ = 0; }
  int failures_in_row() const { return failures_; }

 private:
  int64_t min_ms_;
  int64_t max_ms_;
  int failures_ = 0;
  std::minstd_rand rng_{std::random_device{}()};
};

}  // namespace foggate::protocols
