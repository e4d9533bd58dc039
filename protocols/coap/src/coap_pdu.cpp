#include "coap_pdu.h"

#include <netdb.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>
#include <memory>
#include <mutex>
#include <system_error>

namespace foggate::protocols {
namespace {

// A diagnostic payload is meant to be short (RFC 7252 5.5.2) and must fit one
// datagram together with the header; the rest of a long one is dropped.
constexpr std::size_t kMaxDiagnosticBytes = 256;

}  // namespace

UriPath uri_path(const coap_pdu_t* request) {
  UriPath path;
  coap_opt_filter_t filter;
  coap_option_filter_clear(&filter);
  coap_option_filter_set(&filter, COAP_OPTION_URI_PATH);
  coap_opt_iterator_t it;
  if (!coap_option_iterator_init(request, &it, &filter)) return path;
  // Walking the Uri-Path options (rather than libcoap's joined path string)
  // keeps empty segments and segments containing '/' visible.
  while (const coap_opt_t* opt = coap_option_next(&it)) {
    if (path.count == path.segments.size()) {
      path.too_deep = true;
      break;
    }
    path.segments[path.count++] = {reinterpret_cast<const char*>(coap_opt_value(opt)),
                                   coap_opt_length(opt)};
  }
  return path;
}

std::optional<uint32_t> uint_option(const coap_pdu_t* pdu, coap_option_num_t number) {
  coap_opt_iterator_t it;
  const coap_opt_t* opt = coap_check_option(pdu, number, &it);
  if (!opt || coap_opt_length(opt) > 4) return std::nullopt;
  return coap_decode_var_bytes(coap_opt_value(opt), coap_opt_length(opt));
}

// nullopt: a Content-Format we do not decode (4.15).
std::optional<PayloadFormat> payload_format(const coap_pdu_t* request) {
  coap_opt_iterator_t it;
  if (!coap_check_option(request, COAP_OPTION_CONTENT_FORMAT, &it)) return PayloadFormat::kAuto;
  switch (uint_option(request, COAP_OPTION_CONTENT_FORMAT).value_or(UINT32_MAX)) {
    case 50: return PayloadFormat::kJson;
    case 42: return PayloadFormat::kMsgpack;
    case 0: return PayloadFormat::kNumber;
    default: return std::nullopt;
  }
}

void set_code(coap_pdu_t* response, int code) {
  coap_pdu_set_code(response, static_cast<coap_pdu_code_t>(COAP_RESPONSE_CODE(code)));
}

void add_uint_option(coap_pdu_t* response, coap_option_num_t number, uint32_t value) {
  uint8_t buf[4];
  coap_add_option(response, number, coap_encode_var_safe(buf, sizeof buf, value), buf);
}

void add_diagnostic(coap_pdu_t* response, std::string_view text) {
  if (text.size() > kMaxDiagnosticBytes) {
    std::size_t n = kMaxDiagnosticBytes;
    // Do not cut a UTF-8 sequence in half.
    while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
    text = text.substr(0, n);
  }
  if (!text.empty())
    coap_add_data(response, text.size(), reinterpret_cast<const uint8_t*>(text.data()));
}

// 4.3.1 keeps coap_endpoint_t opaque and has no getter for the bound address,
// but coap_endpoint_str() prints it ("127.0.0.1:40123 UDP", "[::]:5683 UDP")
// from the getsockname() result taken at bind time. It prints into a static
// buffer, hence the mutex; libcoap calls it itself only for log lines below
// LOG_ERR, which coap_library_init() never enables.
uint16_t bound_port(const coap_endpoint_t* endpoint) {
  static std::mutex mu;
  std::string text;
  {
    std::lock_guard lock(mu);
    const char* s = coap_endpoint_str(endpoint);
    text = s ? s : "";
  }
  if (auto space = text.rfind(' '); space != std::string::npos) text.resize(space);
  auto colon = text.rfind(':');
  if (colon == std::string::npos) return 0;
  unsigned value = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data() + colon + 1, end, value);
  if (ec != std::errc{} || p != end || value == 0 || value > UINT16_MAX) return 0;
  return static_cast<uint16_t>(value);
}

Result<void> resolve(const std::string& host, uint16_t port, coap_address_t& out) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner(found, &freeaddrinfo);
  if (rc != 0 || !found || found->ai_addrlen > sizeof out.addr)
    return unexpected(Error::permanent(
        "coap_bind", host + ":" + service + ": " + (rc ? gai_strerror(rc) : "no address")));
  coap_address_init(&out);
  std::memcpy(&out.addr, found->ai_addr, found->ai_addrlen);
  out.size = found->ai_addrlen;
  return {};
}

}  // namespace foggate::protocols
