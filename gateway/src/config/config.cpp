// The document level of the configuration: defaults, the table of
// sections, whole-document parsing and one-section replacement. The
// per-section parsers are in section_parsers.cpp.
#include "foggate/gateway/config.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "config/object_reader.h"

namespace foggate::gateway {
namespace {

using protocols::JsonValue;

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "foggate";
  return buf;
}

// Binds a section parser and a member of Config into one row of the table.
template <auto Member, auto Parse>
constexpr ConfigSection row(SectionId id, std::string_view name, bool remote) {
  return {id, name, remote,
          [](const JsonValue& v, const std::string& path, Config& c, ConfigIssues& issues) {
            Parse(v, path, c.*Member, issues);
          },
          [](Config& c, const Config& from) { c.*Member = from.*Member; }};
}

// In document order. gateway and broker are bootstrap-only: identity,
// connection and keys come from the file.
constexpr ConfigSection kSections[] = {
    row<&Config::gateway, parse_gateway_section>(SectionId::kGateway, "gateway", false),
    row<&Config::broker, parse_broker_section>(SectionId::kBroker, "broker", false),
    row<&Config::ingest, parse_ingest_section>(SectionId::kIngest, "ingest", true),
    row<&Config::rules, parse_rules_section>(SectionId::kRules, "rules", true),
    row<&Config::detectors, parse_detectors_section>(SectionId::kDetectors, "detectors", true),
    row<&Config::alerts, parse_alerts_section>(SectionId::kAlerts, "alerts", true),
    row<&Config::metrics, parse_metrics_section>(SectionId::kMetrics, "metrics", true),
    row<&Config::uplink, parse_uplink_section>(SectionId::kUplink, "uplink", true),
    row<&Config::alarms, parse_alarms_section>(SectionId::kAlarms, "alarms", true),
};

// Names derived from others unless the document sets them.
void derive_uplink_names(const JsonValue* uplink, Config& c) {
  if (uplink == nullptr || uplink->find("client_id") == nullptr) c.uplink.client_id = c.broker.client_id + "-uplink";
  if (uplink == nullptr || uplink->find("topic_prefix") == nullptr)
    c.uplink.topic_prefix = "foggate/" + c.gateway.id + "/uplink";
}

}  // namespace

std::span<const ConfigSection> config_sections() { return kSections; }

const ConfigSection* find_section(std::string_view name) {
  for (const auto& s : kSections)
    if (s.name == name) return &s;
  return nullptr;
}

bool is_remote_section(std::string_view name) {
  const auto* s = find_section(name);
  return s != nullptr && s->remote;
}

ConfigError::ConfigError(ConfigIssues issues)
    : std::runtime_error(format_issues(issues)), issues_(std::move(issues)) {}

std::string format_issues(const ConfigIssues& issues) {
  std::string out;
  for (const auto& i : issues) {
    out += i.path.empty() ? std::string("(document)") : i.path;
    out += ": ";
    out += i.message;
    out += '\n';
  }
  return out;
}

// /var/lib/foggate for the service (root or its system user via
// StateDirectory); a person trying foggate out without root gets the XDG
// state directory instead of a start-up error.
std::string default_data_dir() {
  if (geteuid() == 0) return "/var/lib/foggate";
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg != nullptr && *xdg != '\0')
    return std::string(xdg) + "/foggate";
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0')
    return std::string(home) + "/.local/state/foggate";
  return "/var/lib/foggate";
}

Config default_config() {
  Config c;
  c.gateway.data_dir = default_data_dir();
  c.gateway.id = host_name();
  // Host names may hold characters that are not valid in a topic level.
  for (char& ch : c.gateway.id)
    if (ch == '/' || ch == '+' || ch == '#') ch = '_';
  c.broker.client_id = "foggate-" + c.gateway.id;
  derive_uplink_names(nullptr, c);
  return c;
}

Result<Config, ConfigIssues> parse_config(std::string_view json_text) {
  auto doc = protocols::parse_json(json_text);
  if (!doc) return unexpected(ConfigIssues{{"", doc.error().detail.empty() ? doc.error().reason : doc.error().detail}});
  Config c = default_config();
  ConfigIssues issues;
  {
    ObjectReader r(*doc, "", issues);  // reports keys that are no section
    for (const auto& s : kSections)
      if (const auto* v = r.get(s.name)) s.parse(*v, std::string(s.name), c, issues);
  }
  // The client id follows a configured gateway id unless set explicitly.
  if (const auto* b = doc->find("broker"); b == nullptr || b->find("client_id") == nullptr)
    c.broker.client_id = "foggate-" + c.gateway.id;
  derive_uplink_names(doc->find("uplink"), c);
  if (!issues.empty()) return unexpected(std::move(issues));
  return c;
}

void replace_section(Config& c, std::string_view name, const JsonValue& v, ConfigIssues& issues) {
  const std::size_t before = issues.size();
  const std::string path(name);
  const auto* section = find_section(name);
  if (section == nullptr || !section->remote) {
    issues.push_back({path, "not a section that can be set remotely"});
    return;
  }
  Config next = c;
  section->copy(next, default_config());  // from its defaults, not from the old value
  section->parse(v, path, next, issues);
  if (section->id == SectionId::kMetrics) {
    // The listener is the file's to configure: no remote change opens a port.
    if (v.find("prometheus") != nullptr)
      issues.push_back({path + ".prometheus", "start-only: set it in the configuration file"});
    next.metrics.prometheus = c.metrics.prometheus;
  } else if (section->id == SectionId::kUplink) {
    derive_uplink_names(&v, next);
  }
  if (issues.size() == before) c = std::move(next);
}

void copy_section(Config& c, std::string_view name, const Config& from) {
  if (const auto* s = find_section(name)) s->copy(c, from);
}

Config load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError({{"", "cannot read " + path}});
  std::ostringstream ss;
  ss << in.rdbuf();
  auto c = parse_config(ss.str());
  if (!c) throw ConfigError(std::move(c.error()));
  return std::move(c.value());
}

}  // namespace foggate::gateway
