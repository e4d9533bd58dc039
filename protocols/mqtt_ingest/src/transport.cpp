#include "transport.h"

#include <algorithm>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>

#include "foggate/protocols/mbedtls_handles.h"
#include "tcp_socket.h"

namespace foggate::protocols {
namespace {

class PlainTransport final : public Transport {
 public:
  explicit PlainTransport(TcpSocket s) : socket_(std::move(s)) {}
  Result<std::size_t> read(char* buf, std::size_t n) override { return socket_.read(buf, n); }
  Result<std::size_t> write(const char* buf, std::size_t n) override { return socket_.write(buf, n); }
  int fd() const override { return socket_.fd(); }

 private:
  TcpSocket socket_;
};

// One TLS session: the socket and every mbedTLS context it uses, freed
// together (the ssl context points into the others, so it goes first).
class TlsTransport final : public Transport {
 public:
  explicit TlsTransport(TcpSocket s) : socket_(std::move(s)) {
    mbedtls_ssl_init(&ssl_);
    mbedtls_ssl_config_init(&conf_);
  }
  ~TlsTransport() override {
    mbedtls_ssl_free(&ssl_);
    mbedtls_ssl_config_free(&conf_);
  }
  TlsTransport(const TlsTransport&) = delete;
  TlsTransport& operator=(const TlsTransport&) = delete;

  Result<void> handshake(const BrokerAddress& to, const MqttTls& tls, int64_t deadline);

  Result<std::size_t> read(char* buf, std::size_t n) override {
    const int rc = mbedtls_ssl_read(&ssl_, reinterpret_cast<unsigned char*>(buf), n);
    if (rc > 0) return static_cast<std::size_t>(rc);
    return io_outcome(rc, "receive");
  }
  // A write mbedTLS could not finish (WANT_WRITE) has its record built
  // already: it must be called again with the same length, and then
  // reports that length written. The caller's buffer may have grown
  // meanwhile (it only ever appends), so the retry takes the same prefix.
  Result<std::size_t> write(const char* buf, std::size_t n) override {
    const std::size_t len = pending_write_ > 0 ? std::min(pending_write_, n) : n;
    const int rc = mbedtls_ssl_write(&ssl_, reinterpret_cast<const unsigned char*>(buf), len);
    if (rc > 0) {
      pending_write_ = 0;
      return static_cast<std::size_t>(rc);
    }
    if (rc == MBEDTLS_ERR_SSL_WANT_WRITE || rc == MBEDTLS_ERR_SSL_WANT_READ) pending_write_ = len;
    return io_outcome(rc, "send");
  }
  bool has_buffered_input() const override { return mbedtls_ssl_get_bytes_avail(&ssl_) > 0; }
  void shutdown() override { (void)mbedtls_ssl_close_notify(&ssl_); }
  int fd() const override { return socket_.fd(); }

 private:
  static Result<std::size_t> io_outcome(int rc, const char* what) {
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) return std::size_t{0};
    if (rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
      return unexpected(Error::transient("mqtt_closed", "the broker closed the connection"));
    return unexpected(Error::transient("mqtt_io", std::string("TLS ") + what + ": " + mbedtls_text(rc)));
  }
  // mbedTLS's BIO callbacks over the non-blocking socket.
  static int send_cb(void* ctx, const unsigned char* buf, std::size_t n) {
    auto r = static_cast<TcpSocket*>(ctx)->write(reinterpret_cast<const char*>(buf), n);
    if (!r) return MBEDTLS_ERR_NET_SEND_FAILED;
    return *r == 0 ? MBEDTLS_ERR_SSL_WANT_WRITE : static_cast<int>(*r);
  }
  static int recv_cb(void* ctx, unsigned char* buf, std::size_t n) {
    auto r = static_cast<TcpSocket*>(ctx)->read(reinterpret_cast<char*>(buf), n);
    if (!r) return r.error().reason == "mqtt_closed" ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_RECV_FAILED;
    return *r == 0 ? MBEDTLS_ERR_SSL_WANT_READ : static_cast<int>(*r);
  }

  TcpSocket socket_;
  std::size_t pending_write_ = 0;  // the length of a write to repeat; 0: none
  Drbg rng_;
  X509Crt ca_, own_;
  PkContext key_;
  mbedtls_ssl_config conf_;
  mbedtls_ssl_context ssl_;
};

Result<void> TlsTransport::handshake(const BrokerAddress& to, const MqttTls& tls, int64_t deadline) {
  auto fail = [](std::string why) { return unexpected(Error::transient("mqtt_tls", std::move(why))); };
  if (int rc = rng_.seed("foggate mqtt ingest"); rc != 0) return fail("cannot seed a random generator: " + mbedtls_text(rc));
  if (!tls.ca_file.empty()) {
    if (int rc = mbedtls_x509_crt_parse_file(ca_.get(), tls.ca_file.c_str()); rc < 0)
      return fail("CA file " + tls.ca_file + ": " + mbedtls_text(rc));
  } else if (int rc = mbedtls_x509_crt_parse_path(ca_.get(), "/etc/ssl/certs"); rc < 0) {
    return fail("system trust store: " + mbedtls_text(rc));
  }
  if (!tls.cert_file.empty()) {
    if (int rc = mbedtls_x509_crt_parse_file(own_.get(), tls.cert_file.c_str()); rc < 0)
      return fail("certificate file " + tls.cert_file + ": " + mbedtls_text(rc));
    if (int rc = mbedtls_pk_parse_keyfile(key_.get(), tls.key_file.c_str(), nullptr); rc != 0)
      return fail("key file " + tls.key_file + ": " + mbedtls_text(rc));
  }
  if (int rc = mbedtls_ssl_config_defaults(&conf_, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                           MBEDTLS_SSL_PRESET_DEFAULT);
      rc != 0)
    return fail("TLS setup: " + mbedtls_text(rc));
  // OPTIONAL, then checked below: a refused certificate is explained
  // in words instead of a bare handshake error.
  mbedtls_ssl_conf_authmode(&conf_, MBEDTLS_SSL_VERIFY_OPTIONAL);
  // TLS 1.2 at least (mbedTLS 2.28's default range starts at 1.0).
  mbedtls_ssl_conf_min_version(&conf_, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_ca_chain(&conf_, ca_.get(), nullptr);
  mbedtls_ssl_conf_rng(&conf_, &Drbg::random, rng_.context());
  if (!tls.cert_file.empty()) {
    if (int rc = mbedtls_ssl_conf_own_cert(&conf_, own_.get(), key_.get()); rc != 0)
      return fail("client certificate and key do not match: " + mbedtls_text(rc));
  }
  if (int rc = mbedtls_ssl_setup(&ssl_, &conf_); rc != 0) return fail("TLS setup: " + mbedtls_text(rc));
  if (tls.verify_hostname) {
    if (int rc = mbedtls_ssl_set_hostname(&ssl_, to.host.c_str()); rc != 0) return fail("TLS setup: " + mbedtls_text(rc));
  }
  mbedtls_ssl_set_bio(&ssl_, &socket_, send_cb, recv_cb, nullptr);
  int rc = 0;
  while ((rc = mbedtls_ssl_handshake(&ssl_)) == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
    if (!socket_.wait(rc == MBEDTLS_ERR_SSL_WANT_WRITE, deadline)) return fail("TLS handshake timed out");
  }
  uint32_t flags = mbedtls_ssl_get_verify_result(&ssl_);
  if (!tls.verify_hostname) flags &= ~static_cast<uint32_t>(MBEDTLS_X509_BADCERT_CN_MISMATCH);
  if (flags != 0 && flags != static_cast<uint32_t>(-1)) return fail("server certificate: " + verify_failure_text(flags));
  if ((rc == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE || rc == MBEDTLS_ERR_NET_CONN_RESET) && flags == 0)
    return fail("the server certificate is fine, but the broker ended the handshake: it refused " +
                (tls.cert_file.empty() ? std::string("to go on without a client certificate")
                                       : "our client certificate " + tls.cert_file));
  if (rc != 0) return fail("TLS handshake: " + mbedtls_text(rc));
  return {};
}

}  // namespace

Result<std::unique_ptr<Transport>> open_transport(const BrokerAddress& to, const MqttTls& tls, int timeout_ms) {
  const int64_t deadline = steady_ms() + timeout_ms;
  auto socket = connect_tcp(to.host, to.port, timeout_ms);
  if (!socket) return unexpected(socket.error());
  if (!to.tls) return std::unique_ptr<Transport>(std::make_unique<PlainTransport>(std::move(socket.value())));
  auto t = std::make_unique<TlsTransport>(std::move(socket.value()));
  if (auto r = t->handshake(to, tls, deadline); !r) return unexpected(r.error());
  return std::unique_ptr<Transport>(std::move(t));
}

}  // namespace foggate::protocols
