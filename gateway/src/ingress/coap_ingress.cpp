#include "ingress/coap_ingress.h"

#include "config/secrets.h"
#include "foggate/base/log.h"
#include "foggate/base/this_thread.h"

namespace foggate::gateway {

Result<void> CoapIngress::start(const IngestSection& in) {
  if (!CoapEndpoints(in).wanted()) return {};
  protocols::CoapOptions options = in.coap;
  // Read here, so a restart picks up a rotated key file.
  if (options.dtls.enabled) {
    auto keys = read_psk_file(in.coaps_psk_file);
    if (!keys) return unexpected(keys.error());
    options.dtls.keys = std::move(*keys);
  }
  stop_ = false;
  std::promise<Result<void>> opened;
  auto bound = opened.get_future();
  thread_ = std::jthread([this, options, p = std::move(opened)]() mutable { run(options, std::move(p)); });
  auto r = bound.get();
  if (r) served_keys_ = std::move(options.dtls.keys);
  return r;
}

void CoapIngress::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  port_ = 0;
}

void CoapIngress::run(protocols::CoapOptions options, std::promise<Result<void>> opened) {
  name_this_thread("coap");
  protocols::CoapServer server(
      options, [this](protocols::CoapRequest&& r) { return on_request(std::move(r)); }, stats_);
  auto r = server.open();
  if (r) port_ = server.port();
  const bool ok = r.has_value();
  opened.set_value(std::move(r));
  if (!ok) return;
  log::info("coap", "listening",
            {{"bind", options.plain ? options.bind : "-"}, {"port", std::to_string(port_.load())},
             {"dtls_bind", options.dtls.enabled ? options.dtls.bind : "-"},
             {"dtls_port", std::to_string(server.dtls_port())},
             {"dtls_identities", std::to_string(options.dtls.keys.size())}});
  while (!stop_) server.poll(100);
}

protocols::CoapReply CoapIngress::on_request(protocols::CoapRequest&& req) {
  Message m;
  m.source = Source::kCoap;
  m.device = std::move(req.device);
  m.metric = std::move(req.metric);
  m.topic = "sensors/" + m.device + (m.metric.empty() ? "" : "/" + m.metric);
  m.format = req.format;
  m.payload = std::move(req.body);
  auto v = ingest_.accept(std::move(m), Ingest::WhenFull::kRefuse);
  switch (v.outcome) {
    case Ingest::Outcome::kAccepted: return {};
    case Ingest::Outcome::kMalformed: return {protocols::CoapReply::Code::kBadRequest, std::move(v.reason)};
    case Ingest::Outcome::kOverloaded: return {protocols::CoapReply::Code::kServiceUnavailable, {}};
  }
  return {};
}

void CoapIngress::apply(const IngestSection& before, const IngestSection& next) {
  if (CoapEndpoints(before) != CoapEndpoints(next)) restart(before, next);
}

void CoapIngress::reload_keys(const IngestSection& in) {
  if (!in.coap.dtls.enabled) return;
  // Check the new key file first: a bad one must not take CoAP down.
  auto keys = read_psk_file(in.coaps_psk_file);
  if (!keys) {
    rebind_failures_.add();
    log::error("coap", "reload: key file unusable; keeping the current keys", {{"detail", keys.error().detail}});
    return;
  }
  if (*keys == served_keys_) {
    log::info("coap", "reload: key file unchanged; CoAP keeps serving");
    return;
  }
  restart(in, in);
}

// Serves `next` instead; when that fails, goes back to `before` (which
// worked) so devices keep being served.
void CoapIngress::restart(const IngestSection& before, const IngestSection& next) {
  stop();
  if (auto r = start(next); !r) {
    rebind_failures_.add();
    log::error("coap", "cannot serve with the new settings; keeping the old ones", {{"detail", r.error().detail}});
    (void)start(before);
  }
}

void CoapIngress::collect(MetricSink& out) const {
  stats_.collect(out);
  out.push_back({"coap_rebind_failures_total", {}, static_cast<double>(rebind_failures_.value())});
}

}  // namespace foggate::gateway
