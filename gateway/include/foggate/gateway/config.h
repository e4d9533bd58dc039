// Config: the whole configuration document, parsed and validated.
//
// The document is JSON with one key per section: gateway, broker, ingest,
// rules, detectors, alerts, metrics. Each section parses and validates on
// its own (parse_*_section), so a later layer can replace one section
// without touching the others. Unknown keys and wrong types are errors;
// every error carries the path of the offending value ("rules.ordered[2].when[0]").
//
// Exceptions: load_config_file() throws ConfigError (start-up only); the
// parse functions return their issues instead.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <cstdint>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "foggate/base/result.h"
#include "foggate/protocols/coap_server.h"
#include "foggate/protocols/json.h"
#include "foggate/protocols/mqtt_client.h"
#include "foggate/protocols/mqtt_packet.h"
#include "foggate/protocols/payload_decoder.h"
#include "foggate/routing/batcher.h"
#include "foggate/routing/degrade_policy.h"
#include "foggate/routing/detectors.h"
#include "foggate/routing/rule_set.h"
#include "foggate/routing/task_queue.h"

namespace foggate::gateway {

struct ConfigIssue {
  std::string path;     // where in the document; "" for the document itself
  std::string message;  // what is wrong
};
using ConfigIssues = std::vector<ConfigIssue>;

class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(ConfigIssues issues);
  const ConfigIssues& issues() const { return issues_; }

 private:
  ConfigIssues issues_;
};

struct GatewaySection {
  std::string id;                     // Default: the host name
  std::string data_dir = "/var/lib/foggate";  // Default: /var/lib/foggate as root, else $XDG_STATE_HOME/foggate or ~/.local/state/foggate
  int workers = 2;                    // Default: 2 worker threads
  std::size_t queue_capacity = 4096;  // Default: 4096 tasks per worker
  std::string log_level = "info";     // Default: info
  // Per-module overrides of log_level ("coap" -> "debug"); module names are
  // not checked (a module that never logs is harmless).
  std::map<std::string, std::string> log_levels;  // Default: none
  bool remote_config = true;          // Default: true (sections over retained MQTT topics)
  std::size_t max_tracked_devices = 100'000;  // Default: 100000 (detector, device) states; least recently seen evicted
  std::string config_key_file;        // Default: none; with a key only signed sections apply
  int cert_expiry_warn_days = 30;     // Default: 30; warn this long before a configured certificate expires (0: off)
  // Overload marks: past either one, tasks follow their rule's on_overload
  // policy even when their deadline could still be met. 0 = off.
  int overload_cpu_percent = 0;       // Default: off; percent of one core (200 = two cores)
  int64_t overload_rss_mb = 0;        // Default: off
  // How many nice steps below the other threads the uplink and alarm-store
  // threads run (their work waits; ingest and alerts must not). 0 = same.
  int background_nice = 10;           // Default: 10 (start only)
};

struct BrokerSection {
  std::vector<std::string> uris{"tcp://127.0.0.1:1883"};  // Default: local mosquitto
  std::string client_id;              // Default: "foggate-<gateway id>"
  int keepalive_s = 30;               // Default: 30 s
  std::string username;               // Default: none
  std::string password;               // Default: none; never printed
  std::string password_file;          // Default: none; its content (trailing newline stripped) is the password
  std::string password_env;           // Default: none; this environment variable holds the password
  protocols::MqttTls tls;             // for ssl:// URIs; Default: system trust store, hostname checked
  // The ingest connections only (foggate's own client; docs/configuration.md):
  protocols::MqttVersion mqtt_version = protocols::MqttVersion::kV5;  // Default: "5" (3.1.1 if the broker refuses 5)
  int receive_maximum = 65535;        // Default: 65535 QoS 1 readings in flight, not yet safe (MQTT 5)
  uint32_t max_packet_bytes = 1024 * 1024;  // Default: 1 MiB; larger messages are skipped and counted
  int read_coalesce_us = 250;         // Default: 250 µs between reads of a busy normal lane (never the priority lane)
};

struct MqttIngest {
  std::string filter;
  int qos = 1;                                   // Default: 1
  // Its own connection (`<client_id>-prio`, own broker queue), so a backlog
  // on the other subscriptions cannot delay it: for alarm topics.
  bool priority_lane = false;                    // Default: false ("lane": "normal")
  PayloadFormat format = PayloadFormat::kAuto;   // Default: auto
  std::string pattern = "sensors/{device}/{metric}";  // Default: sensors/{device}/{metric}
};

struct IngestSection {
  std::vector<MqttIngest> mqtt{{.filter = "sensors/#"}};  // Default: sensors/#
  bool coap_enabled = true;                               // Default: true (plain CoAP)
  protocols::CoapOptions coap;                            // Default: 0.0.0.0:5683; coap.dtls: coaps, off
  std::string coaps_psk_file;                             // Default: none; required when coaps is on
  protocols::DecodeOptions payload;                       // Default: see DecodeOptions
};

struct RulesSection {
  std::vector<routing::Rule> ordered;
  // Default: detect (normal) and forward (low) for unmatched messages.
  std::vector<routing::TaskSpec> default_tasks{
      {routing::TaskKind::kDetect, Priority::kNormal, 5'000},
      {routing::TaskKind::kForward, Priority::kLow, 60'000}};
};

struct AlertsSection {
  int qos = 1;          // Default: 1
  bool retain = false;  // Default: false
};

// Alarm state over MQTT (docs/alarms.md): retained state documents,
// acknowledge and shelve commands, flood control, persistence.
struct AlarmsSection {
  bool enabled = true;                 // Default: true; read at start only
  uint32_t flood_max_events = 10;      // Default: 10 alarm events per (device, detector) per window; 0 = no limit
  int64_t flood_window_ms = 60'000;    // Default: 60 s
  int64_t max_shelve_ms = 86'400'000;  // Default: 24 h; longer shelve requests are refused
};

// The store-and-forward uplink to the cloud broker. Off until `uris` is set.
struct UplinkSection {
  std::vector<std::string> uris;      // Default: none (uplink off); several = failover
  std::string client_id;              // Default: "foggate-<gateway id>-uplink"
  std::string username;               // Default: none
  std::string password;               // Default: none; never printed
  std::string password_file;          // Default: none; as in BrokerSection
  std::string password_env;           // Default: none; as in BrokerSection
  protocols::MqttTls tls;             // for ssl:// URIs; Default: system trust store, hostname checked
  std::string topic_prefix;           // Default: "foggate/<gateway id>/uplink"; topic = prefix/<priority>
  int keepalive_s = 30;               // Default: 30 s
  int max_inflight = 8;               // Default: 8 unacknowledged batches
  int64_t commit_interval_ms = 1000;  // Default: 1 s; open batches seal and commit at least this often
  std::size_t inbox_capacity = 65536; // Default: 65536 forward tasks waiting for the uplink thread
  std::array<routing::BatchLimits, kPriorityCount> batch = routing::Batcher::default_limits();
  uint64_t spool_max_bytes = 256ull << 20;  // Default: 256 MiB
  // Default: critical 7 d, high 7 d, normal 3 d, low 1 d; 0 = never.
  std::array<int64_t, kPriorityCount> ttl_ms{7 * 86'400'000LL, 7 * 86'400'000LL, 3 * 86'400'000LL, 86'400'000LL};
  uint64_t bytes_per_s = 0;           // Default: 0 = unlimited
  uint64_t burst_bytes = 1u << 20;    // Default: 1 MiB
  // Minimum share of the sent bytes a priority gets while it has data
  // waiting, so lower priorities are never starved. Default: high 0.1,
  // normal 0.05, low 0.05 (critical always goes first).
  std::array<double, kPriorityCount> min_share{0.0, 0.1, 0.05, 0.05};
  int zlib_level = 6;                 // Default: 6
  // When normal and low forward traffic is folded into summaries because
  // the uplink cannot keep up (issue #15). Default: see DegradeOptions
  // (normal: 6 h horizon, 75 % fill, 60 s windows; low: 1 h, 50 %, 300 s;
  // resume below half of both marks).
  routing::DegradeOptions degrade;

  bool enabled() const { return !uris.empty(); }
};

// The Prometheus text-format listener (GET /metrics). Start-only: a remote
// metrics section may not carry it (no remote change opens a port).
struct PrometheusOptions {
  bool enabled = false;            // Default: false
  std::string bind = "127.0.0.1";  // Default: 127.0.0.1 (an IPv4 or IPv6 address literal)
  uint16_t port = 9464;            // Default: 9464
};

struct MetricsSection {
  int64_t interval_ms = 10'000;  // Default: 10 s; 0 disables the metrics topic
  PrometheusOptions prometheus;  // Default: off
};

struct Config {
  GatewaySection gateway;
  BrokerSection broker;
  IngestSection ingest;
  RulesSection rules;
  std::vector<routing::DetectorSpec> detectors;
  AlertsSection alerts;
  MetricsSection metrics;
  UplinkSection uplink;
  AlarmsSection alarms;
};

// The sections a running gateway may replace live, for the threads that
// read them per message: a snapshot swapped whole.
using LiveConfig = std::atomic<std::shared_ptr<const Config>>;

// The built-in configuration used by `foggate run` without --config.
Config default_config();

// Parses and validates a whole document. Sections left out keep their
// defaults. Never throws.
Result<Config, ConfigIssues> parse_config(std::string_view json_text);

// Section parsers: fill `out` from `v`, appending issues under `path`.
void parse_gateway_section(const protocols::JsonValue& v, const std::string& path, GatewaySection& out, ConfigIssues& issues);
void parse_broker_section(const protocols::JsonValue& v, const std::string& path, BrokerSection& out, ConfigIssues& issues);
void parse_ingest_section(const protocols::JsonValue& v, const std::string& path, IngestSection& out, ConfigIssues& issues);
void parse_rules_section(const protocols::JsonValue& v, const std::string& path, RulesSection& out, ConfigIssues& issues);
void parse_detectors_section(const protocols::JsonValue& v, const std::string& path, std::vector<routing::DetectorSpec>& out, ConfigIssues& issues);
void parse_alerts_section(const protocols::JsonValue& v, const std::string& path, AlertsSection& out, ConfigIssues& issues);
void parse_uplink_section(const protocols::JsonValue& v, const std::string& path, UplinkSection& out, ConfigIssues& issues);
void parse_metrics_section(const protocols::JsonValue& v, const std::string& path, MetricsSection& out, ConfigIssues& issues);
void parse_alarms_section(const protocols::JsonValue& v, const std::string& path, AlarmsSection& out, ConfigIssues& issues);

// The table of sections: one row per top-level key of the document, in
// document order. Everything that dispatches on a section name (parsing,
// remote replacement, resetting to the file's value, applying a change)
// goes through this table or switches on its SectionId.
enum class SectionId { kGateway, kBroker, kIngest, kRules, kDetectors, kAlerts, kMetrics, kUplink, kAlarms };
struct ConfigSection {
  SectionId id;
  std::string_view name;
  // Retained MQTT topics may replace it. gateway and broker are
  // bootstrap-only: identity, connection and keys come from the file.
  bool remote;
  // Reads the section from `v` into `c`, appending issues under `path`.
  void (*parse)(const protocols::JsonValue& v, const std::string& path, Config& c, ConfigIssues& issues);
  // c.<section> = from.<section>
  void (*copy)(Config& c, const Config& from);
};
std::span<const ConfigSection> config_sections();
const ConfigSection* find_section(std::string_view name);  // nullptr: no such section
bool is_remote_section(std::string_view name);

// Replaces one section of `c` with the document `v`: the section starts from
// its defaults (not from the old value) and is then read from `v`. Issues
// are reported under the path "<name>". `c` is unchanged when issues arise.
void replace_section(Config& c, std::string_view name, const protocols::JsonValue& v, ConfigIssues& issues);
// Resets one section of `c` to what `from` has (e.g. the bootstrap file).
void copy_section(Config& c, std::string_view name, const Config& from);

// Reads and parses a file; throws ConfigError with every issue.
Config load_config_file(const std::string& path);

// One line per issue: "<path>: <message>".
std::string format_issues(const ConfigIssues& issues);

}  // namespace foggate::gateway
