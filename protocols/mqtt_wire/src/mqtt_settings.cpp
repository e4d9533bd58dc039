#include "foggate/protocols/mqtt_settings.h"

#include <algorithm>
#include <charconv>

namespace foggate::protocols {

bool is_tls_uri(std::string_view uri) { return uri.starts_with("ssl://") || uri.starts_with("mqtts://"); }

Result<BrokerAddress> parse_broker_uri(std::string_view uri) {
  BrokerAddress a;
  std::string_view rest = uri;
  auto bad = [&](const char* why) {
    return unexpected(Error::permanent("mqtt_uri", std::string(uri) + ": " + why));
  };
  if (const auto scheme = rest.find("://"); scheme != std::string_view::npos) {
    const auto name = rest.substr(0, scheme);
    if (name == "ssl" || name == "mqtts") a.tls = true;
    else if (name != "tcp" && name != "mqtt") return bad("scheme must be tcp, mqtt, ssl or mqtts");
    rest.remove_prefix(scheme + 3);
  }
  if (a.tls) a.port = 8883;
  std::string_view host = rest;
  if (rest.starts_with('[')) {  // [::1]:1883
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return bad("unclosed '[' in the host");
    host = rest.substr(1, close - 1);
    rest.remove_prefix(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) return bad("text after the host");
  } else if (const auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    rest.remove_prefix(colon);
  } else {
    rest = {};
  }
  if (rest.starts_with(':')) {
    const auto digits = rest.substr(1);
    unsigned p = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), p);
    if (ec != std::errc{} || end != digits.data() + digits.size() || p == 0 || p > 65535)
      return bad("port must be 1-65535");
    a.port = static_cast<uint16_t>(p);
  }
  if (host.empty()) return bad("no host");
  a.host = std::string(host);
  return a;
}

int64_t ReconnectBackoff::next_delay_ms() {
  failures_ = std::min(failures_ + 1, 20);
  const int64_t cap = std::min<int64_t>(max_ms_, min_ms_ << std::min(failures_, 16));
  return std::uniform_int_distribution<int64_t>(0, std::max<int64_t>(cap, 0))(rng_);
}

}  // namespace foggate::protocols
