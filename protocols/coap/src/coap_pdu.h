// Small helpers over libcoap PDUs and addresses for CoapServer: reading
// the request's path, options and Content-Format, writing the response's
// code, options and diagnostic payload, the bound port and bind address.
// Private to the coap module; the CoAP thread only.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "coap_context.h"
#include "foggate/base/result.h"
#include "foggate/message/message.h"

namespace foggate::protocols {

struct UriPath {
  std::array<std::string_view, 3> segments;  // sensors, device, metric
  std::size_t count = 0;
  bool too_deep = false;
};

// The first three Uri-Path segments (views into the PDU).
UriPath uri_path(const coap_pdu_t* request);
std::optional<uint32_t> uint_option(const coap_pdu_t* pdu, coap_option_num_t number);
// nullopt: a Content-Format we do not decode (4.15).
std::optional<PayloadFormat> payload_format(const coap_pdu_t* request);
void set_code(coap_pdu_t* response, int code);
void add_uint_option(coap_pdu_t* response, coap_option_num_t number, uint32_t value);
// At most kMaxDiagnosticBytes, cut at a UTF-8 boundary.
void add_diagnostic(coap_pdu_t* response, std::string_view text);
// The port an endpoint is bound to (0 when it cannot be told).
uint16_t bound_port(const coap_endpoint_t* endpoint);
// A numeric host and port to bind; error reason "coap_bind".
Result<void> resolve(const std::string& host, uint16_t port, coap_address_t& out);

}  // namespace foggate::protocols
