// CoapStats as metrics: what the CoAP server answered, refused and lost.
#include "foggate/protocols/coap_server.h"

namespace foggate::protocols {

void CoapStats::collect(MetricSink& out) const {
  const std::pair<const char*, const Counter*> answered[] = {
      {"accepted", &accepted},   {"bad_request", &bad_request}, {"too_large", &too_large},
      {"overloaded", &overloaded}, {"not_found", &not_found},   {"handler_error", &handler_errors},
      {"forbidden", &forbidden}};
  for (const auto& [outcome, c] : answered)
    out.push_back({"coap_responses_total", {{"outcome", outcome}}, static_cast<double>(c->value())});
  out.push_back({"coap_dtls_refused_total", {{"reason", "unknown_identity"}},
                 static_cast<double>(dtls_unknown_identity.value())});
  out.push_back({"coap_dtls_refused_total", {{"reason", "handshake_error"}}, static_cast<double>(dtls_errors.value())});
  out.push_back({"coap_receive_drops_total", {}, static_cast<double>(receive_drops.value())});
  out.push_back({"coap_receive_buffer_bytes", {}, static_cast<double>(receive_buffer_bytes.value())});
}

}  // namespace foggate::protocols
