// The one integration fixture: a real mosquitto on a free loopback port,
// the real foggate binary as a child process, and a Paho client ("probe")
// that publishes and records what arrives. Everything is stopped by PID
// when the test ends; every wait has a deadline.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "eventually.h"
#include "foggate/protocols/json.h"
#include "foggate/protocols/mqtt_ingest_connection.h"

namespace foggate::itest {

// A threshold detector on field "t" (above 50 raises, critical; clears 2
// below), for tests that need alerts: the "detectors" member of a config.
inline constexpr const char* kHotDetector = R"("detectors":[
  {"name":"overheat","type":"threshold","field":"t","max":50,"hysteresis":2,
   "severity":"critical","cooldown_ms":0}])";

using namespace std::chrono_literals;

// eventually(cond, timeout[, interval]): polls every 20 ms unless told
// otherwise; the one polling loop of the tests (tests/support/eventually.h).
using testing_support::eventually;

uint16_t free_tcp_port();
uint16_t free_udp_port();

// A temporary directory removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  void write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

// A child process with stdout+stderr going to a log file. `env` entries
// ("NAME=value") are added to (or replace) the test's environment.
class Process {
 public:
  Process(std::vector<std::string> argv, std::string log_path, const std::vector<std::string>& env = {});
  ~Process();
  pid_t pid() const { return pid_; }
  bool running();
  // SIGTERM, then wait up to `grace`; SIGKILL after that. Returns the exit
  // status. A frozen process is thawed to take the signal.
  int stop(std::chrono::milliseconds grace = 10s);
  void kill9();
  void hangup();  // SIGHUP: reload credentials
  void freeze();  // SIGSTOP: the process runs nothing until thaw()
  void thaw();    // SIGCONT
  // Waits for the process to exit by itself; returns its exit code, or -1 on timeout.
  int wait_exit(std::chrono::milliseconds timeout);
  std::string log() const;

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  std::string log_path_;
};

struct BrokerOptions {
  std::string name = "site";  // names its files in the temp dir
  bool persistence = false;   // keep sessions across a broker restart
  bool start = true;          // start in the constructor
  // mosquitto.conf lines for a second loopback listener (extra_port()),
  // e.g. TLS files or a password file; the first listener stays anonymous
  // and plain for probes.
  std::string extra_listener;
};

class Mosquitto {
 public:
  explicit Mosquitto(const TempDir& dir, BrokerOptions options = {});
  uint16_t port() const { return port_; }
  uint16_t extra_port() const { return extra_port_; }
  std::string uri() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
  void stop() {
    if (proc_) proc_->stop();
  }
  void start();
  // SIGSTOP: it reads nothing until thawed or killed (kill9() works on a frozen one).
  void freeze() {
    if (proc_) proc_->freeze();
  }
  void thaw() {  // SIGCONT
    if (proc_) proc_->thaw();
  }
  // SIGKILL: unlike stop(), nothing is saved and unread input is lost.
  void kill9() {
    if (proc_) proc_->kill9();
  }

 private:
  const TempDir& dir_;
  BrokerOptions options_;
  uint16_t port_;
  uint16_t extra_port_ = 0;
  std::unique_ptr<Process> proc_;
};

// A development PKI made once per test run by certs/make-dev-pki.sh
// (ca.crt, server.crt, client.crt, other-ca.crt, ...); returns its folder.
const std::string& dev_pki();
// One sample of an in-process MqttIngestConnection's collect() (any
// label); -1 when it has none of that name.
double connection_metric(const protocols::MqttIngestConnection& c, const std::string& name);
// A file of that PKI, e.g. pki("ca.crt").
std::string pki(const std::string& file);
// mosquitto.conf lines for a TLS listener (BrokerOptions::extra_listener)
// with the PKI's CA and `server` certificate (a file stem: "server" is
// valid for localhost).
std::string tls_listener_conf(const std::string& server = "server");
// A mosquitto password file in `dir` holding these user name / password
// pairs (made with mosquitto_passwd); returns its path.
std::string password_file(const TempDir& dir, const std::vector<std::pair<std::string, std::string>>& logins);

struct Received {
  std::string topic;
  std::string payload;
  bool retained = false;
};

// A Paho client for the test side.
class Probe {
 public:
  // With a client_id and clean_session false, the broker keeps what arrives
  // while the probe is away (a later Probe with the same id receives it).
  explicit Probe(const std::string& uri, const std::string& client_id = "", bool clean_session = true);
  ~Probe();
  void subscribe(const std::string& filter, int qos = 1);
  void publish(const std::string& topic, const std::string& payload, int qos = 1, bool retained = false);
  // Waits until pred(messages so far) holds; false on timeout.
  bool wait_for(const std::function<bool(const std::vector<Received>&)>& pred,
                std::chrono::milliseconds timeout = 15s);
  // Waits until at least n messages on topics matching `filter` arrived.
  bool wait_count(const std::string& filter, std::size_t n, std::chrono::milliseconds timeout = 15s);
  std::vector<Received> messages(const std::string& filter = "#") const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A foggate child process with a generated configuration. `extra` holds
// JSON members merged into the document's top level (e.g. rules, detectors).
class Foggate {
 public:
  // `gateway_extra` holds members added to the "gateway" object.
  Foggate(const TempDir& dir, const Mosquitto& broker, std::string extra_json, std::string id = "gw1",
          std::string gateway_extra = "");
  ~Foggate();
  // Starts the process; waits until it says it is online unless told not to
  // (e.g. while the broker is down).
  void start(bool wait_online = true);
  int stop();  // SIGTERM
  void kill9();
  void hangup();  // SIGHUP: reload credentials
  // SIGSTOP / SIGCONT: while frozen the gateway cannot react (e.g. cannot
  // reconnect), so what the broker does meanwhile happens first for sure.
  void freeze();
  void thaw();
  // Replaces the generated "broker" section (JSON object text) before start().
  void set_broker(const std::string& broker_json);
  // Adds members to the generated "ingest" object and to its "coap" object
  // (e.g. R"("coaps":{...})", R"("enabled":false)") before start().
  void set_ingest_extra(const std::string& ingest_members, const std::string& coap_members = "");
  // Replaces the generated "ingest.mqtt" array (JSON array text) before start().
  void set_ingest_mqtt(const std::string& mqtt_array_json);
  // Environment entries ("NAME=value") for the process, before start().
  void set_env(std::vector<std::string> env) { env_ = std::move(env); }
  // Adds members to the generated "metrics" object (e.g. R"("prometheus":{...})") before start().
  void set_metrics_extra(const std::string& metrics_members);
  const std::string& id() const { return id_; }
  uint16_t coap_port() const { return coap_port_; }
  const std::string& config_path() const { return config_path_; }
  std::string log() const { return proc_ ? proc_->log() : ""; }
  // Waits (bounded) until the log contains `text`.
  bool log_shows(const std::string& text, std::chrono::milliseconds timeout = 10s) const;
  bool running() { return proc_ && proc_->running(); }
  // The newest metrics document's value for `key` (e.g.
  // "messages_malformed_total{source=mqtt}"), waiting for one to arrive.
  double metric(Probe& probe, const std::string& key);
  // Polls metric() until `pred(value)` holds (bounded); returns the last value.
  double wait_metric(Probe& probe, const std::string& key, const std::function<bool(double)>& pred);
  double wait_metric(Probe& probe, const std::string& key, double value) {
    return wait_metric(probe, key, [value](double v) { return v == value; });
  }

 private:
  const TempDir& dir_;
  const Mosquitto& broker_;
  std::string id_;
  uint16_t coap_port_;
  std::string extra_json_;
  std::string gateway_extra_;
  std::string broker_json_;
  std::string ingest_extra_;
  std::string ingest_mqtt_ = R"([{"filter":"sensors/#","pattern":"sensors/{device}/{metric}"}])";
  std::string coap_extra_;
  std::vector<std::string> env_;
  std::string metrics_extra_;
  std::string config_path_;
  void write_config();
  std::unique_ptr<Process> proc_;
};

// The value of `key` in one metrics document (the payload on
// foggate/<id>/metrics), or -1 when the document or the key is missing.
double metric_in(const std::string& metrics_document, const std::string& key);

// Every "seq" in the payloads of the uplink batches among `received`
// (messages on foggate/<id>/uplink/...), duplicates included.
std::multiset<int> uplink_seqs(const std::vector<Received>& received);

// Runs a command to completion (bounded) and returns its combined output.
std::string run_command(const std::vector<std::string>& argv, int* exit_code = nullptr,
                        std::chrono::milliseconds timeout = 20s);

}  // namespace foggate::itest
