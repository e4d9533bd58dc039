#include "foggate/protocols/mqtt_client.h"

#include <mqtt/async_client.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <system_error>
#include <thread>

#include "foggate/base/log.h"
#include "tls_probe.h"
#include "tcp_nodelay.h"

namespace foggate::protocols {

struct MqttClient::TlsDiagnosis {
  std::mutex mu;
  std::string text;            // guarded by mu; the latest finding, "" = none
  std::atomic<bool> running{false};
  std::atomic<int64_t> last_ms{INT64_MIN / 2};
};

// Paho's listener interfaces forward into MqttClient. Every entry point
// catches everything: Paho C++ does not, and an exception unwinding into
// the C library's thread would abort the process.
class MqttClient::Callbacks final : public mqtt::callback, public mqtt::iaction_listener {
 public:
  explicit Callbacks(MqttClient& owner) : owner_(owner) {}

  void connected(const std::string&) override { guard([&] { owner_.handle_connected(); }); }
  void connection_lost(const std::string& cause) override {
    guard([&] {
      owner_.stats_.connection_lost.add();
      owner_.handle_failure(cause.empty() ? "connection lost" : cause);
    });
  }
  void message_arrived(mqtt::const_message_ptr msg) override {
    guard([&] {
      owner_.stats_.received.add();
      if (owner_.on_message_) owner_.on_message_(msg->get_topic(), msg->get_payload_str(), msg->is_retained());
    });
  }
  void delivery_complete(mqtt::delivery_token_ptr) override {}

  // Connect attempt outcome. Success is reported through connected().
  void on_failure(const mqtt::token& tok) override {
    // Paho fails a pending connect while the client is being destroyed:
    // nothing to report or diagnose then.
    if (owner_.stopping_) return;
    guard([&] {
      owner_.stats_.connect_failures.add();
      std::string why = "connect failed, rc=" + std::to_string(tok.get_return_code());
      if (owner_.uses_tls()) {
        owner_.diagnose_tls();
        why += " (TLS: " + owner_.tls_reason() + ")";
      }
      owner_.handle_failure(std::move(why));
    });
  }
  void on_success(const mqtt::token&) override {}

 private:
  template <typename F>
  void guard(F&& f) noexcept {
    try {
      f();
    } catch (const std::exception& e) {
      owner_.stats_.handler_errors.add();
      log::warn_once("mqtt", "handler_exception", "handler threw; message dropped", {{"what", e.what()}});
    } catch (...) {
      owner_.stats_.handler_errors.add();
      log::warn_once("mqtt", "handler_exception", "handler threw; message dropped");
    }
  }
  MqttClient& owner_;
};

// Outcome of the SUBACK: the client is ready only once its subscriptions
// hold, so "online" never precedes the first message we could receive.
class SubscribeListener final : public mqtt::iaction_listener {
 public:
  explicit SubscribeListener(std::function<void(bool, int)> done) : done_(std::move(done)) {}
  void on_success(const mqtt::token&) override { call(true, 0); }
  void on_failure(const mqtt::token& tok) override { call(false, tok.get_return_code()); }

 private:
  void call(bool ok, int rc) noexcept {
    try {
      done_(ok, rc);
    } catch (...) {
      log::warn_once("mqtt", "subscribe_handler", "subscribe handler threw");
    }
  }
  std::function<void(bool, int)> done_;
};

// Completion of one tracked publish; deletes itself after reporting.
class DeliveryListener final : public mqtt::iaction_listener {
 public:
  explicit DeliveryListener(MqttClient::DoneHandler done) : done_(std::move(done)) {}
  void on_success(const mqtt::token&) override { finish(true); }
  void on_failure(const mqtt::token&) override { finish(false); }

 private:
  void finish(bool ok) noexcept {
    try {
      done_(ok);
    } catch (...) {
      log::warn_once("mqtt", "delivery_handler", "delivery handler threw");
    }
    delete this;
  }
  MqttClient::DoneHandler done_;
};

struct MqttClient::Paho {
  std::unique_ptr<SubscribeListener> subscribed;
  // Declared before the client so it is destroyed after it: Paho may call
  // the callbacks until the client is gone.
  std::unique_ptr<Callbacks> callbacks;
  std::unique_ptr<mqtt::async_client> client;
  mqtt::connect_options connect_options;
};

// From Paho's thread after a failed connect. The first failure in a row and
// then one every 10 minutes get a probe: it is a full handshake, cheap next
// to a reconnect loop, but not worth repeating for an unchanged broker.
void MqttClient::diagnose_tls() {
  std::string host;
  uint16_t port = 0;
  const std::string uri = options_.uris.front();
  if (!tls_host_port(uri, host, port)) return;
  auto d = tls_diagnosis_;
  const int64_t now = clock_.mono_ms();
  if (d->running.exchange(true)) return;
  if (failures_in_row_.load() > 0 && now - d->last_ms.load() < 600'000) {
    d->running = false;
    return;
  }
  d->last_ms = now;
  MqttTls tls;
  {
    std::lock_guard lock(err_mu_);
    tls = options_.tls;
  }
  // Detached, holding copies: a broker that black-holes the probe cannot
  // hold up stop() (which waits for it only briefly).
  try {
    std::thread([d, host, port, tls = std::move(tls), client = options_.client_id, uri]() noexcept {
      try {
        std::string found = probe_tls(host, port, tls, 5000);
        if (!found.empty())
          log::warn("mqtt", "TLS connection refused", {{"client_id", client}, {"uri", uri}, {"why", found}});
        std::lock_guard lock(d->mu);
        d->text = std::move(found);
      } catch (...) {
      }
      d->running = false;
    }).detach();
  } catch (const std::system_error&) {
    d->running = false;  // no thread to be had: try again after the next failure
  }
}

bool MqttClient::uses_tls() const {
  return std::any_of(options_.uris.begin(), options_.uris.end(), [](const auto& u) { return is_tls_uri(u); });
}

// The latest probe's finding or, until there is one, what to check (Paho
// itself cannot say why a handshake failed).
std::string MqttClient::tls_reason() const {
  {
    std::lock_guard lock(tls_diagnosis_->mu);
    if (!tls_diagnosis_->text.empty()) return tls_diagnosis_->text;
  }
  std::lock_guard lock(err_mu_);
  const auto& t = options_.tls;
  return "handshake or broker refused; check that " +
         (t.ca_file.empty() ? std::string("the system trust store") : t.ca_file) +
         " signs the broker's certificate, that it is valid now" + (t.verify_hostname ? " and names the URI's host" : "") +
         (t.cert_file.empty() ? ", and whether the broker requires a client certificate"
                              : ", and that the broker trusts " + t.cert_file);
}


namespace {

// Paho reports an unreadable file only as a failed connect; checking at
// start names the file at once.
Result<void> check_readable(const std::string& path, const char* what) {
  if (path.empty()) return {};
  std::ifstream f(path);
  if (!f) return unexpected(Error::permanent("mqtt_tls", std::string(what) + " " + path + " cannot be read"));
  return {};
}

}  // namespace

MqttClient::MqttClient(MqttOptions options, const Clock& clock)
    : options_(std::move(options)), clock_(clock), tls_diagnosis_(std::make_shared<TlsDiagnosis>()) {}

// Paho's client goes first, while every member its last callbacks may
// touch (a connect it fails on the way out) still exists. It is taken out
// of paho_ under the lock before it is destroyed: a connect that completes
// meanwhile then finds no client to close instead of a half-destroyed one.
MqttClient::~MqttClient() {
  stop(500);
  std::unique_ptr<Paho> doomed;
  {
    std::lock_guard lock(paho_mu_);
    doomed = std::move(paho_);
  }
  doomed.reset();
}

void MqttClient::set_subscriptions(std::vector<MqttSubscription> subs) {
  std::vector<std::string> dropped;
  {
    std::lock_guard lock(subs_mu_);
    for (const auto& old : subs_) {
      bool kept = false;
      for (const auto& n : subs) kept |= n.filter == old.filter;
      if (!kept) dropped.push_back(old.filter);
    }
    subs_ = std::move(subs);
  }
  if (!paho_ || !connected_) return;  // the next connect subscribes
  try {
    if (!dropped.empty()) paho_->client->unsubscribe(mqtt::string_collection::create(dropped));
  } catch (const std::exception& e) {
    log::warn("mqtt", "unsubscribe failed", {{"what", e.what()}});
  }
  subscribe_all();
}

void MqttClient::forget_on_connect(std::vector<std::string> filters) {
  std::lock_guard lock(subs_mu_);
  stale_ = std::move(filters);
}

void MqttClient::subscribe_all() {
  std::vector<std::string> filters;
  std::vector<int> qos;
  std::vector<std::string> stale;
  {
    std::lock_guard lock(subs_mu_);
    for (const auto& s : subs_) {
      filters.push_back(s.filter);
      qos.push_back(s.qos);
    }
    for (auto& f : stale_)
      if (std::find(filters.begin(), filters.end(), f) == filters.end()) stale.push_back(std::move(f));
    stale_.clear();
  }
  if (!stale.empty()) {
    // The broker handles packets of one connection in order: these are
    // gone before the SUBACK below arrives.
    try {
      paho_->client->unsubscribe(mqtt::string_collection::create(stale));
      log::info("mqtt", "unsubscribed filters no longer configured",
                {{"client_id", options_.client_id}, {"filters", std::to_string(stale.size())}});
    } catch (const std::exception& e) {
      log::warn("mqtt", "unsubscribe failed; tried again at the next connect", {{"what", e.what()}});
      std::lock_guard lock(subs_mu_);
      stale_.insert(stale_.end(), stale.begin(), stale.end());
    }
  }
  if (filters.empty()) {
    if (on_connected_) on_connected_(false);
    return;
  }
  try {
    // on_connected_ runs once the SUBACK arrives.
    paho_->client->subscribe(mqtt::string_collection::create(filters), qos, nullptr, *paho_->subscribed);
  } catch (const std::exception& e) {
    log::error("mqtt", "subscribe failed", {{"what", e.what()}});
  }
}

std::string MqttClient::last_error() const {
  std::lock_guard lock(err_mu_);
  return last_error_;
}

Result<void> MqttClient::start() {
  if (options_.uris.empty()) return unexpected(Error::permanent("mqtt_create", "no broker URI"));
  try {
    auto p = std::make_unique<Paho>();
    mqtt::create_options create(MQTTVERSION_3_1_1, std::max(options_.max_buffered, 1));
    create.set_send_while_disconnected(options_.max_buffered > 0, true);
    p->client = std::make_unique<mqtt::async_client>(options_.uris.front(), options_.client_id, create, nullptr);
    p->callbacks = std::make_unique<Callbacks>(*this);
    p->subscribed = std::make_unique<SubscribeListener>([this](bool ok, int rc) {
      if (ok) {
        if (on_connected_) on_connected_(false);
        return;
      }
      stats_.connect_failures.add();
      log::error("mqtt", "subscribe refused by the broker", {{"client_id", options_.client_id},
                                                              {"rc", std::to_string(rc)}});
    });
    p->client->set_callback(*p->callbacks);

    auto& co = p->connect_options;
    co.set_mqtt_version(MQTTVERSION_3_1_1);
    co.set_clean_session(options_.clean_session);
    co.set_keep_alive_interval(options_.keepalive_s);
    co.set_connect_timeout(options_.connect_timeout_s);
    co.set_automatic_reconnect(false);
    if (options_.uris.size() > 1) co.set_servers(mqtt::string_collection::create(options_.uris));
    if (auto r = set_credentials(co); !r) return r;
    paho_ = std::move(p);
  } catch (const std::exception& e) {
    return unexpected(Error::permanent("mqtt_create", e.what()));
  }
  attempt_connect();
  return {};
}

Result<void> MqttClient::set_credentials(mqtt::connect_options& co) {
  co.set_user_name(options_.username);
  co.set_password(options_.password);
  if (!uses_tls()) return {};
  const auto& t = options_.tls;
  for (auto r : {check_readable(t.ca_file, "CA file"), check_readable(t.cert_file, "certificate file"),
                 check_readable(t.key_file, "key file")})
    if (!r) return r;
  mqtt::ssl_options ssl;
  if (!t.ca_file.empty()) ssl.set_trust_store(t.ca_file);
  if (!t.cert_file.empty()) ssl.set_key_store(t.cert_file);
  if (!t.key_file.empty()) ssl.set_private_key(t.key_file);
  ssl.set_enable_server_cert_auth(true);
  ssl.set_verify(t.verify_hostname);
  // Paho's TLS 1.2 setting pins exactly 1.2; the default method lets
  // OpenSSL negotiate 1.3, and OpenSSL 3 refuses anything below 1.2 at
  // its default security level.
  ssl.set_ssl_version(MQTT_SSL_VERSION_DEFAULT);
  // No ssl.set_error_handler(): Paho C++ 1.2 copies the options with the
  // callback but a context pointing at the original object, and OpenSSL
  // then calls into freed memory on the first handshake error (seen as a
  // crash with an expired broker certificate).
  co.set_ssl(std::move(ssl));
  return {};
}

void MqttClient::renew_credentials(std::string username, std::string password, MqttTls tls) {
  {
    // diagnose_tls() reads the TLS settings on Paho's thread.
    std::lock_guard lock(err_mu_);
    options_.username = std::move(username);
    options_.password = std::move(password);
    options_.tls = std::move(tls);
  }
  if (!paho_ || stopping_) return;
  if (auto r = set_credentials(paho_->connect_options); !r) {
    log::error("mqtt", "new credentials unusable; keeping the connection",
               {{"client_id", options_.client_id}, {"detail", r.error().detail}});
    return;
  }
  if (!connected_) {  // the next attempt uses them, at once rather than after the backoff
    failures_in_row_ = 0;
    next_attempt_ms_ = 0;
    return;
  }
  try {
    paho_->client->disconnect(1000)->wait_for(2000);
  } catch (const std::exception& e) {
    log::warn("mqtt", "disconnect failed", {{"what", e.what()}});
  }
  // A disconnect we asked for gets no connection_lost callback.
  connected_ = false;
  failures_in_row_ = 0;
  next_attempt_ms_ = 0;
  log::info("mqtt", "reconnecting with renewed credentials", {{"client_id", options_.client_id}});
}

void MqttClient::attempt_connect() {
  if (!paho_ || stopping_ || connected_ || connecting_.exchange(true)) return;
  try {
    paho_->client->connect(paho_->connect_options, nullptr, *paho_->callbacks);
  } catch (const std::exception& e) {
    stats_.connect_failures.add();
    handle_failure(std::string("connect refused: ") + e.what());
  }
}

void MqttClient::handle_connected() {
  if (stopping_) {
    // A connect that was under way when stop() ran: close it again at once,
    // and run no handler (the owner may be tearing down).
    connecting_ = false;
    std::lock_guard lock(paho_mu_);
    if (!paho_) return;  // the destructor has it
    try {
      paho_->client->disconnect();
    } catch (const std::exception&) {
    }
    return;
  }
  connected_ = true;
  connecting_ = false;
  failures_in_row_ = 0;
  stats_.connects.add();
  (void)set_tcp_nodelay_on_all_sockets();  // why: tcp_nodelay.h
  log::info("mqtt", "connected", {{"client_id", options_.client_id},
                                  {"uri", paho_->client->get_server_uri()}});
  // session_present is not exposed for the callback-style connect in
  // Paho C++ 1.2; subscriptions are re-issued regardless.
  subscribe_all();
}

void MqttClient::handle_failure(std::string why) {
  const bool was_connected = connected_.exchange(false);
  connecting_ = false;
  const int n = std::min(failures_in_row_.fetch_add(1) + 1, 20);
  // Capped full jitter: uniform in [0, min(max, min_delay * 2^n)].
  const int64_t cap = std::min<int64_t>(options_.retry_max_ms, options_.retry_min_ms << std::min(n, 16));
  thread_local std::minstd_rand rng{std::random_device{}()};
  const int64_t delay = std::uniform_int_distribution<int64_t>(0, cap)(rng);
  next_attempt_ms_ = clock_.mono_ms() + delay;
  {
    std::lock_guard lock(err_mu_);
    last_error_ = why;
  }
  if (was_connected || n == 1) {
    log::warn("mqtt", was_connected ? "disconnected; will reconnect" : "cannot connect; will retry",
              {{"client_id", options_.client_id}, {"reason", why}});
  }
}

void MqttClient::tick() {
  if (connected_ || connecting_ || stopping_) return;
  if (clock_.mono_ms() >= next_attempt_ms_) attempt_connect();
}

void MqttClient::stop(int timeout_ms) {
  // A TLS probe still under way finishes within its own timeouts; give it
  // a moment so it does not outlive a clean shutdown.
  for (int i = 0; i < 20 && tls_diagnosis_->running.load(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (!paho_ || stopping_.exchange(true)) return;
  try {
    if (paho_->client->is_connected()) paho_->client->disconnect(timeout_ms)->wait_for(timeout_ms);
  } catch (const std::exception& e) {
    log::warn("mqtt", "disconnect failed", {{"what", e.what()}});
  }
  connected_ = false;
}

Result<void> MqttClient::publish(const std::string& topic, std::string_view payload, int qos, bool retained) {
  if (!paho_ || stopping_) {
    stats_.publish_failures.add();
    return unexpected(Error::transient("mqtt_publish", "client not running"));
  }
  try {
    paho_->client->publish(topic, payload.data(), payload.size(), qos, retained);
    stats_.published.add();
    return {};
  } catch (const mqtt::exception& e) {
    stats_.publish_failures.add();
    return unexpected(Error::transient("mqtt_publish", "rc=" + std::to_string(e.get_return_code())));
  } catch (const std::exception& e) {
    stats_.publish_failures.add();
    return unexpected(Error::transient("mqtt_publish", e.what()));
  }
}

}  // namespace foggate::protocols

namespace foggate::protocols {

Result<void> MqttClient::publish_tracked(const std::string& topic, std::string_view payload, int qos,
                                         DoneHandler done, bool retained) {
  if (!paho_ || stopping_ || !connected_) {
    stats_.publish_failures.add();
    return unexpected(Error::transient("mqtt_publish", "not connected"));
  }
  auto* listener = new DeliveryListener(std::move(done));
  try {
    auto msg = mqtt::make_message(topic, payload.data(), payload.size(), qos, retained);
    paho_->client->publish(msg, nullptr, *listener);
    stats_.published.add();
    return {};
  } catch (const std::exception& e) {
    // Paho did not take the publish, so the listener will never be called.
    delete listener;
    stats_.publish_failures.add();
    return unexpected(Error::transient("mqtt_publish", e.what()));
  }
}

void MqttClient::collect(MetricSink& out, const std::string& role) const {
  out.push_back({"mqtt_connected", {{"client", role}}, connected() ? 1.0 : 0.0});
  out.push_back({"mqtt_connects_total", {{"client", role}}, static_cast<double>(stats_.connects.value())});
  out.push_back({"mqtt_publish_failures_total", {{"client", role}}, static_cast<double>(stats_.publish_failures.value())});
  out.push_back({"mqtt_handler_errors_total", {{"client", role}}, static_cast<double>(stats_.handler_errors.value())});
}

}  // namespace foggate::protocols
