#include "tls_probe.h"

#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>

#include <charconv>
#include <cstring>

#include "foggate/protocols/mbedtls_handles.h"

namespace foggate::protocols {
namespace {

// The socket, TLS session and configuration of one probe, freed together.
struct Probe {
  mbedtls_net_context net;
  mbedtls_ssl_context ssl;
  mbedtls_ssl_config conf;
  Probe() {
    mbedtls_net_init(&net);
    mbedtls_ssl_init(&ssl);
    mbedtls_ssl_config_init(&conf);
  }
  ~Probe() {
    mbedtls_ssl_free(&ssl);
    mbedtls_ssl_config_free(&conf);
    mbedtls_net_free(&net);
  }
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;
};

}  // namespace

bool tls_host_port(const std::string& uri, std::string& host, uint16_t& port) {
  std::string_view rest = uri;
  if (rest.starts_with("ssl://")) rest.remove_prefix(6);
  else if (rest.starts_with("mqtts://")) rest.remove_prefix(8);
  else return false;
  port = 8883;
  std::string_view h = rest;
  if (auto colon = rest.rfind(':'); colon != std::string_view::npos && rest.find(']', colon) == std::string_view::npos) {
    h = rest.substr(0, colon);
    unsigned p = 0;
    auto digits = rest.substr(colon + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), p);
    if (ec != std::errc{} || end != digits.data() + digits.size() || p == 0 || p > 65535) return false;
    port = static_cast<uint16_t>(p);
  }
  if (h.starts_with('[') && h.ends_with(']')) h = h.substr(1, h.size() - 2);
  host = std::string(h);
  return !host.empty();
}

std::string probe_tls(const std::string& host, uint16_t port, const MqttTls& tls, uint32_t timeout_ms) {
  Probe p;
  Drbg rng;
  if (int rc = rng.seed("foggate tls probe"); rc != 0) return "cannot seed a random generator: " + mbedtls_text(rc);
  X509Crt ca, own;
  PkContext key;
  if (!tls.ca_file.empty()) {
    if (int rc = mbedtls_x509_crt_parse_file(ca.get(), tls.ca_file.c_str()); rc < 0)
      return "CA file " + tls.ca_file + ": " + mbedtls_text(rc);
  } else if (int rc = mbedtls_x509_crt_parse_path(ca.get(), "/etc/ssl/certs"); rc < 0) {
    return "system trust store: " + mbedtls_text(rc);
  }
  if (!tls.cert_file.empty()) {
    if (int rc = mbedtls_x509_crt_parse_file(own.get(), tls.cert_file.c_str()); rc < 0)
      return "certificate file " + tls.cert_file + ": " + mbedtls_text(rc);
    if (int rc = mbedtls_pk_parse_keyfile(key.get(), tls.key_file.c_str(), nullptr); rc != 0)
      return "key file " + tls.key_file + ": " + mbedtls_text(rc);
  }

  const std::string port_text = std::to_string(port);
  if (int rc = mbedtls_net_connect(&p.net, host.c_str(), port_text.c_str(), MBEDTLS_NET_PROTO_TCP); rc != 0)
    return "cannot reach " + host + ":" + port_text + ": " + mbedtls_text(rc);
  if (int rc = mbedtls_ssl_config_defaults(&p.conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                           MBEDTLS_SSL_PRESET_DEFAULT);
      rc != 0)
    return "TLS setup: " + mbedtls_text(rc);
  // OPTIONAL: the handshake completes despite a bad certificate, so the
  // verification result can be read afterwards; nothing is sent on it.
  mbedtls_ssl_conf_authmode(&p.conf, MBEDTLS_SSL_VERIFY_OPTIONAL);
  mbedtls_ssl_conf_ca_chain(&p.conf, ca.get(), nullptr);
  mbedtls_ssl_conf_rng(&p.conf, &Drbg::random, rng.context());
  mbedtls_ssl_conf_read_timeout(&p.conf, timeout_ms);
  if (!tls.cert_file.empty()) {
    if (int rc = mbedtls_ssl_conf_own_cert(&p.conf, own.get(), key.get()); rc != 0)
      return "client certificate and key do not match: " + mbedtls_text(rc);
  }
  if (int rc = mbedtls_ssl_setup(&p.ssl, &p.conf); rc != 0) return "TLS setup: " + mbedtls_text(rc);
  if (tls.verify_hostname) {
    if (int rc = mbedtls_ssl_set_hostname(&p.ssl, host.c_str()); rc != 0) return "TLS setup: " + mbedtls_text(rc);
  }
  mbedtls_ssl_set_bio(&p.ssl, &p.net, mbedtls_net_send, nullptr, mbedtls_net_recv_timeout);

  int rc = 0;
  for (int turns = 0; turns < 64; ++turns) {
    rc = mbedtls_ssl_handshake(&p.ssl);
    if (rc != MBEDTLS_ERR_SSL_WANT_READ && rc != MBEDTLS_ERR_SSL_WANT_WRITE) break;
  }
  uint32_t flags = mbedtls_ssl_get_verify_result(&p.ssl);
  if (!tls.verify_hostname) flags &= ~static_cast<uint32_t>(MBEDTLS_X509_BADCERT_CN_MISMATCH);
  if (flags != 0 && flags != static_cast<uint32_t>(-1)) {
    return "server certificate: " + verify_failure_text(flags);
  }
  if ((rc == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE || rc == MBEDTLS_ERR_NET_CONN_RESET) && flags == 0)
    return "the server certificate is fine, but the broker ended the handshake: it refused " +
           (tls.cert_file.empty() ? std::string("to go on without a client certificate")
                                  : "our client certificate " + tls.cert_file);
  if (rc != 0) return "TLS handshake: " + mbedtls_text(rc);
  // The broker may still refuse the client certificate after the
  // handshake (TLS 1.3 style); one read shows an alert if so.
  unsigned char byte = 0;
  rc = mbedtls_ssl_read(&p.ssl, &byte, 1);
  if (rc == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) return "the broker refused our client certificate";
  mbedtls_ssl_close_notify(&p.ssl);
  return "";
}

}  // namespace foggate::protocols
