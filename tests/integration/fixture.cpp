#include "fixture.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <mqtt/async_client.h>

#include "foggate/message/topic.h"
#include "foggate/protocols/uplink_codec.h"
#include "free_port.h"

extern char** environ;

namespace foggate::itest {
namespace {

bool tcp_accepts(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

std::atomic<int> probe_counter{0};

}  // namespace

uint16_t free_tcp_port() { return testing_support::free_loopback_port(SOCK_STREAM); }
uint16_t free_udp_port() { return testing_support::free_loopback_port(SOCK_DGRAM); }

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "foggate-itest-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}
TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}
void TempDir::write(const std::string& name, const std::string& content) const {
  std::ofstream(file(name), std::ios::binary) << content;
}

Process::Process(std::vector<std::string> argv, std::string log_path, const std::vector<std::string>& env)
    : log_path_(std::move(log_path)) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  std::vector<std::string> vars;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view var(*e);
    const auto name = var.substr(0, var.find('=') + 1);
    if (std::none_of(env.begin(), env.end(), [&](const std::string& x) { return x.starts_with(name); }))
      vars.emplace_back(var);
  }
  vars.insert(vars.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (auto& v : vars) envp.push_back(v.data());
  envp.push_back(nullptr);
  // A bare name ("bash") is looked up on PATH.
  int rc = posix_spawnp(&pid_, args[0], &fa, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("cannot spawn " + argv[0]);
}

Process::~Process() {
  if (pid_ > 0) stop(5s);
}

bool Process::running() {
  if (pid_ <= 0) return false;
  int st = 0;
  pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    status_ = st;
    pid_ = -1;
    return false;
  }
  return true;
}

int Process::wait_exit(std::chrono::milliseconds timeout) {
  if (!eventually([&] { return !running(); }, timeout)) return -1;
  return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
}

int Process::stop(std::chrono::milliseconds grace) {
  if (!running()) return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
  kill(pid_, SIGTERM);
  kill(pid_, SIGCONT);  // a frozen process takes the SIGTERM only once thawed
  int code = wait_exit(grace);
  if (code == -1) {
    kill9();
    return -1;
  }
  return code;
}

void Process::kill9() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int st = 0;
  waitpid(pid_, &st, 0);
  status_ = st;
  pid_ = -1;
}

void Process::freeze() {
  if (pid_ > 0) kill(pid_, SIGSTOP);
}

void Process::thaw() {
  if (pid_ > 0) kill(pid_, SIGCONT);
}

std::string Process::log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Mosquitto::Mosquitto(const TempDir& dir, BrokerOptions options)
    : dir_(dir), options_(std::move(options)), port_(free_tcp_port()) {
  if (options_.start) start();
}

void Mosquitto::start() {
  // max_queued_messages: stock mosquitto keeps 1000 per client and then
  // drops silently, QoS 1 included; the gateway's persistent session must
  // survive longer outages than that. max_inflight_messages 0: foggate
  // acknowledges QoS 1 only once a reading is safe (up to a commit
  // interval later), so the window is its Receive Maximum, not mosquitto's
  // 20. set_tcp_nodelay: as the shipped
  // site-broker.conf (a QoS 0 stream otherwise stalls 40 ms at a time).
  const std::string conf = "mosquitto-" + options_.name + ".conf";
  std::string text = options_.extra_listener.empty() ? "" : "per_listener_settings true\n";
  text += "listener " + std::to_string(port_) +
                     " 127.0.0.1\n"
                     "allow_anonymous true\n"
                     "max_queued_messages 1000000\n"
                     "max_inflight_messages 0\n"
                     "set_tcp_nodelay true\n"
                     "log_type error\nlog_type warning\n";
  // Started as root, mosquitto switches to user "mosquitto", which cannot
  // write into our private temp dir; "user root" keeps it as it is.
  if (geteuid() == 0) text += "user root\n";
  if (!options_.extra_listener.empty()) {
    if (extra_port_ == 0) extra_port_ = free_tcp_port();
    text += "listener " + std::to_string(extra_port_) + " 127.0.0.1\n" + options_.extra_listener + "\n";
  }
  if (options_.persistence) {
    std::filesystem::create_directories(dir_.file("persist-" + options_.name));
    text += "persistence true\npersistence_location " + dir_.file("persist-" + options_.name) + "/\n";
  } else {
    text += "persistence false\n";
  }
  dir_.write(conf, text);
  proc_ = std::make_unique<Process>(std::vector<std::string>{MOSQUITTO_BIN, "-c", dir_.file(conf)},
                                    dir_.file("mosquitto-" + options_.name + ".log"));
  if (!eventually([&] { return tcp_accepts(port_); }, 10s))
    throw std::runtime_error("mosquitto did not start: " + proc_->log());
}

const std::string& dev_pki() {
  static TempDir dir;
  static const bool made = [] {
    int rc = -1;
    const auto out = run_command({"bash", std::string(FOGGATE_SOURCE_DIR) + "/certs/make-dev-pki.sh", dir.path()}, &rc);
    if (rc != 0) throw std::runtime_error("certs/make-dev-pki.sh failed: " + out);
    return true;
  }();
  (void)made;
  return dir.path();
}

std::string pki(const std::string& file) { return dev_pki() + "/" + file; }

std::string tls_listener_conf(const std::string& server) {
  return "cafile " + pki("ca.crt") + "\ncertfile " + pki(server + ".crt") + "\nkeyfile " + pki(server + ".key");
}

std::string password_file(const TempDir& dir, const std::vector<std::pair<std::string, std::string>>& logins) {
  const std::string path = dir.file("passwd");
  for (std::size_t i = 0; i < logins.size(); ++i) {
    std::vector<std::string> argv{"mosquitto_passwd", "-b", path, logins[i].first, logins[i].second};
    if (i == 0) argv.insert(argv.begin() + 1, "-c");  // creates the file
    int rc = -1;
    const auto out = run_command(argv, &rc);
    if (rc != 0) throw std::runtime_error("mosquitto_passwd failed: " + out);
  }
  return path;
}

struct Probe::Impl : public mqtt::callback {
  mutable std::mutex mu;
  std::condition_variable cv;
  std::vector<Received> got;  // guarded by mu
  // Last, so it is destroyed first: its callbacks use the members above.
  std::unique_ptr<mqtt::async_client> client;

  void message_arrived(mqtt::const_message_ptr m) override {
    {
      std::lock_guard lock(mu);
      got.push_back({m->get_topic(), m->get_payload_str(), m->is_retained()});
    }
    cv.notify_all();
  }
};

Probe::Probe(const std::string& uri, const std::string& client_id, bool clean_session)
    : impl_(std::make_unique<Impl>()) {
  std::string id = client_id.empty() ? "probe-" + std::to_string(getpid()) + "-" + std::to_string(probe_counter++)
                                     : client_id;
  impl_->client = std::make_unique<mqtt::async_client>(uri, id, nullptr);
  impl_->client->set_callback(*impl_);
  auto opts = mqtt::connect_options_builder().clean_session(clean_session).connect_timeout(5s).finalize();
  impl_->client->connect(opts)->wait_for(10s);
  if (!impl_->client->is_connected()) throw std::runtime_error("probe could not connect to " + uri);
}

Probe::~Probe() {
  try {
    if (impl_->client->is_connected()) impl_->client->disconnect()->wait_for(2s);
  } catch (...) {
  }
}

void Probe::subscribe(const std::string& filter, int qos) { impl_->client->subscribe(filter, qos)->wait_for(5s); }

void Probe::publish(const std::string& topic, const std::string& payload, int qos, bool retained) {
  impl_->client->publish(topic, payload.data(), payload.size(), qos, retained)->wait_for(5s);
}

bool Probe::wait_for(const std::function<bool(const std::vector<Received>&)>& pred,
                     std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] { return pred(impl_->got); });
}

bool Probe::wait_count(const std::string& filter, std::size_t n, std::chrono::milliseconds timeout) {
  return wait_for(
      [&](const std::vector<Received>& all) {
        std::size_t c = 0;
        for (const auto& m : all) c += topic_matches(filter, m.topic);
        return c >= n;
      },
      timeout);
}

std::vector<Received> Probe::messages(const std::string& filter) const {
  std::lock_guard lock(impl_->mu);
  std::vector<Received> out;
  for (const auto& m : impl_->got)
    if (topic_matches(filter, m.topic)) out.push_back(m);
  return out;
}

Foggate::Foggate(const TempDir& dir, const Mosquitto& broker, std::string extra_json, std::string id,
                 std::string gateway_extra)
    : dir_(dir),
      broker_(broker),
      id_(std::move(id)),
      coap_port_(free_udp_port()),
      extra_json_(std::move(extra_json)),
      gateway_extra_(std::move(gateway_extra)) {
  broker_json_ = "{\"uris\":[\"" + broker_.uri() + "\"]}";
  write_config();
}

void Foggate::set_broker(const std::string& broker_json) {
  broker_json_ = broker_json;
  write_config();
}

void Foggate::set_ingest_extra(const std::string& ingest_members, const std::string& coap_members) {
  ingest_extra_ = ingest_members;
  coap_extra_ = coap_members;
  write_config();
}

void Foggate::set_ingest_mqtt(const std::string& mqtt_array_json) {
  ingest_mqtt_ = mqtt_array_json;
  write_config();
}

void Foggate::set_metrics_extra(const std::string& metrics_members) {
  metrics_extra_ = metrics_members;
  write_config();
}

void Foggate::write_config() {
  std::string doc = "{\"gateway\":{\"id\":\"" + id_ + "\",\"data_dir\":\"" + dir_.file("data-" + id_) + "\"" +
                    (gateway_extra_.empty() ? "" : "," + gateway_extra_) + "},\"broker\":" + broker_json_ +
                    ",\"metrics\":{\"interval_ms\":200" + (metrics_extra_.empty() ? "" : "," + metrics_extra_) + "},"
                    "\"ingest\":{\"mqtt\":" + ingest_mqtt_ +
                    ",\"coap\":{\"bind\":\"127.0.0.1\",\"port\":" +
                    std::to_string(coap_port_) + ",\"max_body_bytes\":1024" +
                    (coap_extra_.empty() ? "" : "," + coap_extra_) + "}" +
                    (ingest_extra_.empty() ? "" : "," + ingest_extra_) + "}";
  if (!extra_json_.empty()) doc += "," + extra_json_;
  doc += "}";
  config_path_ = dir_.file(id_ + ".json");
  dir_.write(id_ + ".json", doc);
}

Foggate::~Foggate() {
  if (proc_) proc_->stop();
}

void Foggate::start(bool wait_online) {
  if (!wait_online) {
    proc_ = std::make_unique<Process>(std::vector<std::string>{FOGGATE_BIN, "run", "--config", config_path_},
                                      dir_.file(id_ + ".log"), env_);
    return;
  }
  Probe status(broker_.uri());
  status.subscribe("foggate/" + id_ + "/status");
  proc_ = std::make_unique<Process>(std::vector<std::string>{FOGGATE_BIN, "run", "--config", config_path_},
                                    dir_.file(id_ + ".log"), env_);
  bool online = status.wait_for(
      [](const std::vector<Received>& all) {
        for (const auto& m : all)
          if (m.payload.find("\"state\":\"online\"") != std::string::npos) return true;
        return false;
      },
      15s);
  if (!online) throw std::runtime_error("foggate did not come online:\n" + log());
}

int Foggate::stop() { return proc_ ? proc_->stop(20s) : -1; }

void Foggate::kill9() {
  if (proc_) proc_->kill9();
}

void Foggate::hangup() {
  if (proc_) ::kill(proc_->pid(), SIGHUP);
}

void Foggate::freeze() {
  if (proc_) proc_->freeze();
}

void Foggate::thaw() {
  if (proc_) proc_->thaw();
}

bool Foggate::log_shows(const std::string& text, std::chrono::milliseconds timeout) const {
  return eventually([&] { return log().find(text) != std::string::npos; }, timeout);
}

double metric_in(const std::string& metrics_document, const std::string& key) {
  auto doc = protocols::parse_json(metrics_document);
  const auto* metrics = doc ? doc->find("metrics") : nullptr;
  const auto* v = metrics ? metrics->find(key) : nullptr;
  return v && v->is_number() ? v->as_number() : -1;
}

double Foggate::metric(Probe& probe, const std::string& key) {
  const std::string topic = "foggate/" + id_ + "/metrics";
  const std::size_t before = probe.messages(topic).size();
  // A fresh document, published after this call: counters are current.
  if (!probe.wait_count(topic, before + 2, 10s)) return -1;
  return metric_in(probe.messages(topic).back().payload, key);
}

double Foggate::wait_metric(Probe& probe, const std::string& key, const std::function<bool(double)>& pred) {
  // Bounded in total: a probe not subscribed to the metrics topic fails
  // the test within the deadline instead of hanging it.
  const auto deadline = std::chrono::steady_clock::now() + 45s;
  double v = -1;
  while (std::chrono::steady_clock::now() < deadline) {
    v = metric(probe, key);
    if (pred(v)) break;
  }
  return v;
}

std::multiset<int> uplink_seqs(const std::vector<Received>& received) {
  std::multiset<int> out;
  for (const auto& m : received) {
    if (m.topic.find("/uplink/") == std::string::npos) continue;
    auto recs = protocols::decode_batch(m.payload);
    if (!recs) continue;
    for (const auto& r : *recs)
      if (const auto* s = r.find("payload") ? r.find("payload")->find("seq") : nullptr)
        out.insert(static_cast<int>(s->as_number()));
  }
  return out;
}

std::string run_command(const std::vector<std::string>& argv, int* exit_code, std::chrono::milliseconds timeout) {
  TempDir dir;
  Process p(argv, dir.file("out.log"));
  int code = p.wait_exit(timeout);
  if (code == -1) p.kill9();
  if (exit_code) *exit_code = code;
  return p.log();
}

double connection_metric(const protocols::MqttIngestConnection& c, const std::string& name) {
  MetricSink out;
  c.collect(out, "test");
  for (const auto& s : out)
    if (s.name == name) return s.value;
  return -1;
}

}  // namespace foggate::itest
