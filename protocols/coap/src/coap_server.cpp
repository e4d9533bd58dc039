// CoapServer on libcoap 4.3.1; the contract is in coap_server.h.
//
// Block1 bodies and memory. libcoap's COAP_BLOCK_SINGLE_BODY mode would
// reassemble for us, but 4.3.1 calls no application code until the last
// block has arrived: it preallocates whatever Size1 the client announces (a
// 32-bit value, so up to 4 GiB) or else grows the buffer block by block (up to
// 2^20 blocks of 1 KiB), and keeps it until the transfer idles out. Nothing
// can refuse such a body before it has been buffered. So libcoap runs only the
// Block1 protocol (COAP_BLOCK_USE_LIBCOAP without SINGLE_BODY: Request-Tag
// matching, 2.31 Continue with the Block1 echo), hands us every block with its
// offset, and we reassemble here:
//   - a Size1 over max_body_bytes, or a block ending past it, is answered 4.13
//     at once; coap-client announces Size1, so a large body dies at block 0;
//   - at most kMaxPartialBodies transfers are in progress at a time, each one
//     at most max_body_bytes, and one idle for kPartialIdle is dropped.
// Reassembly therefore holds at most kMaxPartialBodies * max_body_bytes
// (1 MiB with the defaults). libcoap itself keeps only a small record per
// transfer (coap_lg_srcv_t, no body in this mode) until it times out.
//
// Counting: stats_.requests counts final answers, so a block-wise body counts
// once, not once per block; 2.31 Continue answers are not counted.
//
// Socket buffers: libcoap opens each endpoint's socket with the kernel's
// default receive buffer, about 256 small requests. open() sizes it to
// receive_buffer_bytes (receive_buffer.h) right after binding, before the
// first poll().
#include "foggate/protocols/coap_server.h"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <exception>
#include <mutex>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

#include "coap_context.h"
#include "coap_pdu.h"
#include "foggate/base/log.h"
#include "receive_buffer.h"
#include "udp_drops.h"

namespace foggate::protocols {
namespace {

constexpr std::string_view kModule = "coap";
constexpr std::size_t kMaxSegmentBytes = 128;
constexpr std::size_t kMaxPartialBodies = 16;
// Shorter than libcoap's own per-transfer lifetime (MAX_TRANSMIT_WAIT, 93 s),
// so whenever we still hold a body libcoap still tracks its transfer.
constexpr auto kPartialIdle = std::chrono::seconds(60);

using Clock = std::chrono::steady_clock;

}  // namespace

struct CoapServer::Impl {
  // One Block1 body being reassembled.
  struct PartialBody {
    std::string key;  // peer address, Request-Tag and path
    PayloadFormat format = PayloadFormat::kAuto;
    std::string body;
    Clock::time_point last_used;
  };

  Impl(CoapOptions options, CoapHandler handler, CoapStats& stats)
      : options_(std::move(options)), handler_(std::move(handler)), stats_(stats) {}

  static void on_request(coap_resource_t* resource, coap_session_t* session,
                         const coap_pdu_t* request, const coap_string_t* query,
                         coap_pdu_t* response);
  bool add_resources(coap_context_t* ctx);
  void handle(coap_session_t* session, const coap_pdu_t* request, coap_pdu_t* response);
  void receive_body(coap_session_t* session, const coap_pdu_t* request, coap_pdu_t* response,
                    const UriPath& path, PayloadFormat format);
  void deliver(CoapRequest&& request, coap_pdu_t* response);

  void answer(coap_pdu_t* response, int code, Counter& outcome, std::string_view diagnostic = {});
  void too_large(coap_pdu_t* response);
  void overloaded(coap_pdu_t* response);
  void failed(coap_pdu_t* response, std::string_view reason, const char* what) noexcept;

  PartialBody* find_partial(const std::string& key);
  PartialBody* start_partial(std::string key, Clock::time_point now);
  void drop_partial(const std::string& key);

  CoapOptions options_;
  CoapHandler handler_;
  CoapStats& stats_;  // CoapServer::stats_, which outlives the context
  static const coap_bin_const_t* psk_for(coap_bin_const_t* identity, coap_session_t*, void* arg);
  static int on_event(coap_session_t* session, coap_event_t event);
  Result<void> open_dtls(coap_context_t* ctx);
  void size_receive_buffer(const coap_address_t& addr, uint16_t port, const std::string& where);

  CoapContext ctx_;
  uint16_t port_ = 0;
  uint16_t dtls_port_ = 0;
  std::vector<coap_bin_const_t> key_views_;  // into options_.dtls.keys, same order
  std::vector<PartialBody> partial_;  // at most kMaxPartialBodies
  uint64_t kernel_drops_seen_ = 0;    // the sockets' drop counters at the last sample
  std::optional<std::size_t> smallest_buffer_;  // granted to the endpoints opened so far
  Clock::time_point next_drop_sample_{};
};

void CoapServer::Impl::on_request(coap_resource_t*, coap_session_t* session,
                                  const coap_pdu_t* request, const coap_string_t*,
                                  coap_pdu_t* response) {
  auto* self = static_cast<Impl*>(coap_get_app_data(coap_session_get_context(session)));
  // libcoap is C: nothing may unwind through it. The handler's own exceptions
  // are caught in deliver(); this catches ours (e.g. bad_alloc).
  try {
    self->handle(session, request, response);
  } catch (const std::exception& e) {
    self->failed(response, "internal_error", e.what());
  } catch (...) {
    self->failed(response, "internal_error", "unknown exception");
  }
}

bool CoapServer::Impl::add_resources(coap_context_t* ctx) {
  static constexpr coap_request_t kMethods[] = {
      COAP_REQUEST_GET,   COAP_REQUEST_POST,  COAP_REQUEST_PUT,   COAP_REQUEST_DELETE,
      COAP_REQUEST_FETCH, COAP_REQUEST_PATCH, COAP_REQUEST_IPATCH};
  // Every method is routed to on_request so that every request is counted
  // and other methods get our 4.05 rather than libcoap's defaults.
  // "sensors" itself is a real resource so /.well-known/core lists </sensors>;
  // the paths beneath it reach the unknown-resource handler, which libcoap
  // does not list. Each resource is added at once, so the context frees it
  // even if a later step fails.
  static constexpr std::string_view kSensors = "sensors";
  coap_str_const_t name{kSensors.size(), reinterpret_cast<const uint8_t*>(kSensors.data())};
  coap_resource_t* sensors = coap_resource_init(&name, 0);  // libcoap copies the name
  if (!sensors) return false;
  for (auto method : kMethods) coap_register_request_handler(sensors, method, &on_request);
  coap_add_resource(ctx, sensors);

  coap_resource_t* other = coap_resource_unknown_init2(&on_request, 0);
  if (!other) return false;
  for (auto method : kMethods) coap_register_request_handler(other, method, &on_request);
  coap_add_resource(ctx, other);
  return true;
}

void CoapServer::Impl::handle(coap_session_t* session, const coap_pdu_t* request,
                              coap_pdu_t* response) {
  const UriPath path = uri_path(request);
  if (path.count == 0 || path.segments[0] != "sensors")
    return answer(response, 404, stats_.not_found);
  if (coap_pdu_get_code(request) != COAP_REQUEST_CODE_POST)
    return answer(response, 405, stats_.bad_request);
  if (path.count < 2 || path.too_deep) return answer(response, 404, stats_.not_found);
  if (coap_session_get_proto(session) == COAP_PROTO_DTLS) {
    // The key proves the identity; the path only claims a device.
    const coap_bin_const_t* id = coap_session_get_psk_identity(session);
    const std::string_view identity =
        id ? std::string_view(reinterpret_cast<const char*>(id->s), id->length) : std::string_view{};
    if (identity.empty() || identity != path.segments[1])
      return answer(response, 403, stats_.forbidden, "device does not match the DTLS identity");
  }
  for (std::size_t i = 1; i < path.count; ++i) {
    if (path.segments[i].empty())
      return answer(response, 400, stats_.bad_request, "empty path segment");
    if (path.segments[i].size() > kMaxSegmentBytes)
      return answer(response, 400, stats_.bad_request, "path segment over 128 bytes");
  }
  const std::optional<PayloadFormat> format = payload_format(request);
  if (!format) return answer(response, 415, stats_.bad_request);
  receive_body(session, request, response, path, *format);
}

void CoapServer::Impl::receive_body(coap_session_t* session, const coap_pdu_t* request,
                                    coap_pdu_t* response, const UriPath& path,
                                    PayloadFormat format) {
  // For one block of a Block1 transfer libcoap reports its offset and a total
  // that exceeds offset + len while more blocks follow (Size1 when the client
  // sent it); for a plain request offset is 0 and total is len.
  std::size_t len = 0, offset = 0, total = 0;
  const uint8_t* data = nullptr;
  if (!coap_get_data_large(request, &len, &data, &offset, &total)) {
    len = 0;
    total = offset;
  }
  const std::string_view chunk(reinterpret_cast<const char*>(data), data ? len : 0);
  const bool more = offset + len < total;

  std::string key;
  if (const coap_address_t* peer = coap_session_get_addr_remote(session)) {
    unsigned char buf[64];
    key.append(reinterpret_cast<const char*>(buf), coap_print_addr(peer, buf, sizeof buf));
  }
  coap_opt_iterator_t it;
  if (const coap_opt_t* tag = coap_check_option(request, COAP_OPTION_RTAG, &it)) {
    key += '#';
    key.append(reinterpret_cast<const char*>(coap_opt_value(tag)), coap_opt_length(tag));
  }
  key += '/';
  key += path.segments[1];
  key += '/';
  key += path.segments[2];

  const std::size_t max = options_.max_body_bytes;
  const std::size_t size1 = uint_option(request, COAP_OPTION_SIZE1).value_or(0);
  if (size1 > max || offset + len > max || total > max) {
    drop_partial(key);
    return too_large(response);
  }
  auto make_request = [&](std::string body) {
    return CoapRequest{std::string(path.segments[1]), std::string(path.segments[2]), format,
                       std::move(body)};
  };
  if (offset == 0 && !more) {
    drop_partial(key);
    return deliver(make_request(std::string(chunk)), response);
  }

  const auto now = Clock::now();
  PartialBody* partial = find_partial(key);
  if (offset == 0) {
    if (!partial) partial = start_partial(std::move(key), now);
    if (!partial) return overloaded(response);
    partial->format = format;
    partial->body.assign(chunk);
    partial->last_used = now;
    return set_code(response, 231);
  }
  if (!partial || offset > partial->body.size()) {
    // Block 0 never came, we dropped the transfer, or a block is missing.
    drop_partial(key);
    return answer(response, 408, stats_.bad_request, "incomplete Block1 body");
  }
  partial->body.resize(offset);  // a retransmitted block replaces its first copy
  partial->body.append(chunk);
  partial->last_used = now;
  if (more) return set_code(response, 231);
  CoapRequest complete = make_request(std::move(partial->body));
  complete.format = partial->format;
  drop_partial(key);
  deliver(std::move(complete), response);
}

void CoapServer::Impl::deliver(CoapRequest&& request, coap_pdu_t* response) {
  CoapReply reply;
  try {
    reply = handler_(std::move(request));
  } catch (const std::exception& e) {
    return failed(response, "handler_threw", e.what());
  } catch (...) {
    return failed(response, "handler_threw", "unknown exception");
  }
  switch (reply.code) {
    case CoapReply::Code::kChanged: return answer(response, 204, stats_.accepted);
    case CoapReply::Code::kBadRequest:
      return answer(response, 400, stats_.bad_request, reply.diagnostic);
    case CoapReply::Code::kServiceUnavailable: return overloaded(response);
  }
  failed(response, "handler_reply", "reply code out of range");
}

void CoapServer::Impl::answer(coap_pdu_t* response, int code, Counter& outcome,
                              std::string_view diagnostic) {
  stats_.requests.add();
  outcome.add();
  set_code(response, code);
  add_diagnostic(response, diagnostic);
}

void CoapServer::Impl::too_large(coap_pdu_t* response) {
  add_uint_option(response, COAP_OPTION_SIZE1,
                  static_cast<uint32_t>(std::min<std::size_t>(options_.max_body_bytes, UINT32_MAX)));
  answer(response, 413, stats_.too_large);
}

void CoapServer::Impl::overloaded(coap_pdu_t* response) {
  add_uint_option(response, COAP_OPTION_MAXAGE, options_.overload_max_age_s);
  answer(response, 503, stats_.overloaded);
}

void CoapServer::Impl::failed(coap_pdu_t* response, std::string_view reason,
                              const char* what) noexcept {
  stats_.requests.add();
  stats_.handler_errors.add();
  set_code(response, 500);
  try {
    log::warn_once(kModule, reason, "request failed; answered 5.00",
                   {{"reason", reason}, {"what", what ? what : ""}});
  } catch (...) {
    // Counted above; the log line is best effort.
  }
}

// Called by libcoap during a handshake: the key for this identity, or null
// to refuse it. Linear: key lists are per site, tens to hundreds of devices.
const coap_bin_const_t* CoapServer::Impl::psk_for(coap_bin_const_t* identity, coap_session_t*, void* arg) {
  auto* self = static_cast<Impl*>(arg);
  if (identity == nullptr) return nullptr;
  const std::string_view id(reinterpret_cast<const char*>(identity->s), identity->length);
  const auto& keys = self->options_.dtls.keys;
  for (std::size_t i = 0; i < keys.size(); ++i)
    if (keys[i].identity == id) return &self->key_views_[i];
  self->stats_.dtls_unknown_identity.add();
  return nullptr;
}

int CoapServer::Impl::on_event(coap_session_t* session, coap_event_t event) {
  if (event == COAP_EVENT_DTLS_ERROR) {
    auto* self = static_cast<Impl*>(coap_get_app_data(coap_session_get_context(session)));
    self->stats_.dtls_errors.add();
  }
  return 0;
}

Result<void> CoapServer::Impl::open_dtls(coap_context_t* ctx) {
  const auto& d = options_.dtls;
  if (!coap_dtls_is_supported())
    return unexpected(Error::permanent("coap_dtls", "this libcoap has no DTLS support"));
  if (d.keys.empty()) return unexpected(Error::permanent("coap_dtls", "no pre-shared keys"));
  key_views_.clear();
  for (const auto& k : d.keys)
    key_views_.push_back({k.key.size(), reinterpret_cast<const uint8_t*>(k.key.data())});
  coap_dtls_spsk_t setup{};
  setup.version = COAP_DTLS_SPSK_SETUP_VERSION;
  setup.validate_id_call_back = &Impl::psk_for;
  setup.id_call_back_arg = this;
  if (!coap_context_set_psk2(ctx, &setup))
    return unexpected(Error::permanent("coap_dtls", "cannot set up pre-shared keys"));
  coap_address_t addr;
  if (auto resolved = resolve(d.bind, d.port, addr); !resolved) return resolved;
  const std::string where = d.bind + ":" + std::to_string(d.port);
  errno = 0;
  coap_endpoint_t* endpoint = coap_new_endpoint(ctx, &addr, COAP_PROTO_DTLS);
  if (!endpoint) {
    const int err = errno;
    return unexpected(Error::permanent(
        "coap_bind", where + " (DTLS): " + (err ? std::system_category().message(err) : "failed")));
  }
  dtls_port_ = bound_port(endpoint);
  if (dtls_port_ == 0)
    return unexpected(Error::permanent("coap_bind", where + " (DTLS): cannot read the bound port"));
  size_receive_buffer(addr, dtls_port_, where + " (DTLS)");
  return {};
}

// Nothing here fails open(): a smaller buffer only loses longer bursts,
// which coap_receive_drops_total counts. The warnings are once per process,
// as a configuration change reopens the sockets with the same outcome.
void CoapServer::Impl::size_receive_buffer(const coap_address_t& addr, uint16_t port, const std::string& where) {
  const std::size_t asked = options_.receive_buffer_bytes;
  const std::vector<int> fds = udp_sockets_bound_to(addr.addr.sa, port);
  if (fds.empty()) {
    log::warn_once(kModule, "receive_buffer_unset",
                   "cannot find the CoAP socket to size its receive buffer; it keeps the kernel's default",
                   {{"endpoint", where}});
    smallest_buffer_ = 0;
    return;
  }
  for (int fd : fds) {
    auto granted = set_receive_buffer(fd, asked);
    if (!granted) {
      log::warn_once(kModule, "receive_buffer_unset",
                     "cannot size the CoAP socket's receive buffer; it keeps the kernel's default",
                     {{"endpoint", where}, {"detail", granted.error().detail}});
      smallest_buffer_ = 0;
      continue;
    }
    if (*granted < asked)
      log::warn_once(kModule, "receive_buffer_capped",
                     "the kernel granted the CoAP socket a smaller receive buffer than configured, so "
                     "longer bursts are dropped; raise the sysctl net.core.rmem_max",
                     {{"endpoint", where}, {"granted_bytes", std::to_string(*granted)},
                      {"asked_bytes", std::to_string(asked)},
                      {"sysctl", "net.core.rmem_max=" + std::to_string((asked + 1) / 2)}});
    smallest_buffer_ = std::min(smallest_buffer_.value_or(*granted), *granted);
  }
}

CoapServer::Impl::PartialBody* CoapServer::Impl::find_partial(const std::string& key) {
  auto it = std::find_if(partial_.begin(), partial_.end(),
                         [&](const PartialBody& p) { return p.key == key; });
  return it == partial_.end() ? nullptr : &*it;
}

CoapServer::Impl::PartialBody* CoapServer::Impl::start_partial(std::string key,
                                                               Clock::time_point now) {
  std::erase_if(partial_, [&](const PartialBody& p) { return now - p.last_used > kPartialIdle; });
  if (partial_.size() >= kMaxPartialBodies) return nullptr;
  partial_.push_back(PartialBody{std::move(key), PayloadFormat::kAuto, {}, now});
  return &partial_.back();
}

void CoapServer::Impl::drop_partial(const std::string& key) {
  std::erase_if(partial_, [&](const PartialBody& p) { return p.key == key; });
}

// stats_ is constructed after impl_, but Impl only stores the reference until
// a request arrives, long after construction.
CoapServer::CoapServer(CoapOptions options, CoapHandler handler)
    : stats_(&own_stats_), impl_(std::make_unique<Impl>(std::move(options), std::move(handler), *stats_)) {}

CoapServer::CoapServer(CoapOptions options, CoapHandler handler, CoapStats& stats)
    : stats_(&stats), impl_(std::make_unique<Impl>(std::move(options), std::move(handler), *stats_)) {}

// Free the context (and with it any callback source) while stats_ still exists.
CoapServer::~CoapServer() { impl_.reset(); }

Result<void> CoapServer::open() {
  if (impl_->ctx_) return unexpected(Error::permanent("coap_context", "already open"));
  coap_library_init();
  const auto& o = impl_->options_;
  if (!o.plain && !o.dtls.enabled)
    return unexpected(Error::permanent("coap_context", "neither plain CoAP nor DTLS is enabled"));

  CoapContext ctx(coap_new_context(nullptr));
  if (!ctx) return unexpected(Error::permanent("coap_context", "coap_new_context failed"));
  coap_set_app_data(ctx.get(), impl_.get());
  // Must precede the endpoints: sessions copy the block mode when created.
  coap_context_set_block_mode(ctx.get(), COAP_BLOCK_USE_LIBCOAP);
  coap_register_event_handler(ctx.get(), &Impl::on_event);
  if (!impl_->add_resources(ctx.get()))
    return unexpected(Error::permanent("coap_context", "cannot create resources"));
  impl_->smallest_buffer_.reset();

  if (o.plain) {
    coap_address_t addr;
    if (auto resolved = resolve(o.bind, o.port, addr); !resolved) return resolved;
    const std::string where = o.bind + ":" + std::to_string(o.port);
    errno = 0;
    coap_endpoint_t* endpoint = coap_new_endpoint(ctx.get(), &addr, COAP_PROTO_UDP);
    if (!endpoint) {
      const int err = errno;
      return unexpected(Error::permanent(
          "coap_bind", where + ": " + (err ? std::system_category().message(err) : "failed")));
    }
    impl_->port_ = bound_port(endpoint);
    if (impl_->port_ == 0)
      return unexpected(Error::permanent("coap_bind", where + ": cannot read the bound port"));
    impl_->size_receive_buffer(addr, impl_->port_, where);
  }
  if (o.dtls.enabled)
    if (auto r = impl_->open_dtls(ctx.get()); !r) return r;
  impl_->stats_.receive_buffer_bytes.set(static_cast<int64_t>(impl_->smallest_buffer_.value_or(0)));
  impl_->ctx_ = std::move(ctx);
  return {};
}

uint16_t CoapServer::port() const { return impl_->port_; }
uint16_t CoapServer::dtls_port() const { return impl_->dtls_port_; }

void CoapServer::poll(uint32_t timeout_ms) {
  if (!impl_->ctx_) return;
  // The kernel counts what it dropped per socket; fold it into a counter
  // that survives a restart (new sockets count from zero again).
  if (const auto now = Clock::now(); now >= impl_->next_drop_sample_) {
    impl_->next_drop_sample_ = now + std::chrono::seconds(1);
    std::vector<uint16_t> ports;
    for (uint16_t p : {impl_->port_, impl_->dtls_port_})
      if (p != 0) ports.push_back(p);
    const uint64_t drops = udp_receive_drops(ports);
    if (drops > impl_->kernel_drops_seen_) {
      if (impl_->kernel_drops_seen_ == 0)
        log::warn(kModule, "the kernel is dropping CoAP datagrams: requests arrive faster than they are read",
                  {{"dropped", std::to_string(drops)}});
      impl_->stats_.receive_drops.add(drops - impl_->kernel_drops_seen_);
      impl_->kernel_drops_seen_ = drops;
    }
  }
  // One call reads at most one datagram per endpoint, and nothing here can
  // make it read more. libcoap 4.3.1 as Debian builds it (with epoll) answers
  // each readable socket with a single recvmsg in coap_io_do_epoll(), and its
  // read path (coap_read_endpoint, the context's network_read) is not public.
  // Calling coap_io_process(COAP_IO_NO_WAIT) in a loop until the socket is
  // empty would repeat exactly what the caller's loop repeats already:
  // epoll_wait returns at once while a datagram is queued, so each request
  // costs the same epoll_wait, two timerfd_settime, its recvmsg and its
  // answer's sendmsg either way (strace of a 2000-request burst). Reading in
  // batches (recvmmsg) would mean replacing libcoap's network layer; the
  // receive buffer (receive_buffer.h) absorbs bursts instead.
  // In libcoap 0 means "wait forever" and UINT32_MAX "do not wait".
  const uint32_t wait = timeout_ms == 0 ? COAP_IO_NO_WAIT : std::min(timeout_ms, COAP_IO_NO_WAIT - 1);
  if (coap_io_process(impl_->ctx_.get(), wait) < 0)
    log::warn_once(kModule, "io_process", "coap_io_process failed", {{"errno", std::to_string(errno)}});
}

}  // namespace foggate::protocols
