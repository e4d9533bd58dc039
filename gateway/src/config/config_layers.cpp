#include "config/config_layers.h"

#include <cstdio>

#include "foggate/protocols/json.h"

namespace foggate::gateway {

using protocols::append_json_number;
using protocols::append_json_string;

std::string_view to_string(ConfigLayer l) { return l == ConfigLayer::kGateway ? "gateway" : "all"; }

std::string body_hash(std::string_view body) {
  // FNV-1a 64: a fingerprint for humans comparing what is in force, not a
  // security measure (signatures are).
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : body) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

ConfigLayers::ConfigLayers(Config bootstrap) : bootstrap_(std::move(bootstrap)), effective_(bootstrap_) {
  for (const auto& s : config_sections())
    if (s.remote) sections_.emplace(std::string(s.name), Section{});
}

const std::optional<ConfigLayers::Value>& ConfigLayers::value(ConfigLayer layer, const std::string& section) const {
  static const std::optional<Value> kNone;
  auto it = sections_.find(section);
  return it == sections_.end() ? kNone : it->second.layers[static_cast<std::size_t>(layer)];
}

bool ConfigLayers::rebuild(const std::string& name, Config& into, ConfigIssues& issues) const {
  const auto& sec = sections_.at(name);
  for (const auto& v : sec.layers) {  // gateway first, then all
    if (!v) continue;
    auto doc = protocols::parse_json(v->body);
    if (!doc) {
      issues.push_back({name, doc.error().detail.empty() ? doc.error().reason : doc.error().detail});
      return false;
    }
    const std::size_t before = issues.size();
    replace_section(into, name, *doc, issues);
    return issues.size() == before;
  }
  copy_section(into, name, bootstrap_);
  return true;
}

ConfigLayers::Outcome ConfigLayers::offer(ConfigLayer layer, const std::string& section, const Value& value,
                                          ConfigIssues& issues) {
  auto it = sections_.find(section);
  if (it == sections_.end()) {
    issues.push_back({section, "not a section that can be set remotely (use one of: ingest, rules, detectors, "
                               "alerts, metrics, uplink)"});
    return Outcome::kRejected;
  }
  auto& slot = it->second.layers[static_cast<std::size_t>(layer)];
  const bool removal = value.body.empty();
  if (removal ? !slot.has_value() : slot && slot->version == value.version && slot->body == value.body)
    return Outcome::kUnchanged;

  // Validate the candidate as a section of its own, whether or not a higher
  // layer shadows it: a fleet default must be valid before it is kept.
  if (!removal) {
    auto doc = protocols::parse_json(value.body);
    if (!doc) {
      issues.push_back({section, doc.error().detail.empty() ? doc.error().reason : doc.error().detail});
    } else {
      Config scratch = effective_;
      replace_section(scratch, section, *doc, issues);
    }
    if (!issues.empty()) {
      it->second.rejected = Rejection{layer, value.version, issues, value.applied_ms};
      return Outcome::kRejected;
    }
  }
  std::optional<Value> previous = slot;
  if (removal) slot.reset();
  else slot = value;
  Config next = effective_;
  if (!rebuild(section, next, issues)) {
    slot = previous;  // cannot happen for valid layers; keep the old state if it does
    it->second.rejected = Rejection{layer, value.version, issues, value.applied_ms};
    return Outcome::kRejected;
  }
  effective_ = std::move(next);
  if (it->second.rejected && it->second.rejected->layer == layer) it->second.rejected.reset();
  return Outcome::kApplied;
}

void ConfigLayers::note_rejected(ConfigLayer layer, const std::string& section, uint64_t version,
                                 ConfigIssues issues, int64_t at_ms) {
  auto it = sections_.find(section);
  if (it == sections_.end()) return;
  it->second.rejected = Rejection{layer, version, std::move(issues), at_ms};
}

std::string ConfigLayers::state_json(int64_t now_ms) const {
  std::string out = "{\"time_ms\":";
  append_json_number(out, static_cast<double>(now_ms));
  out += ",\"sections\":{";
  bool first = true;
  for (const auto& [name, sec] : sections_) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, name);
    out += ":{";
    const Value* top = nullptr;
    std::string_view layer = "file";
    for (std::size_t i = 0; i < sec.layers.size() && !top; ++i) {
      if (sec.layers[i]) {
        top = &*sec.layers[i];
        layer = to_string(static_cast<ConfigLayer>(i));
      }
    }
    out += "\"layer\":";
    append_json_string(out, layer);
    if (top) {
      out += ",\"version\":";
      append_json_number(out, static_cast<double>(top->version));
      out += ",\"hash\":";
      append_json_string(out, body_hash(top->body));
      out += ",\"applied_ms\":";
      append_json_number(out, static_cast<double>(top->applied_ms));
    }
    if (sec.rejected) {
      out += ",\"rejected\":{\"layer\":";
      append_json_string(out, to_string(sec.rejected->layer));
      out += ",\"version\":";
      append_json_number(out, static_cast<double>(sec.rejected->version));
      out += ",\"at_ms\":";
      append_json_number(out, static_cast<double>(sec.rejected->at_ms));
      out += ",\"errors\":[";
      for (std::size_t i = 0; i < sec.rejected->issues.size(); ++i) {
        if (i) out += ',';
        out += "{\"path\":";
        append_json_string(out, sec.rejected->issues[i].path);
        out += ",\"message\":";
        append_json_string(out, sec.rejected->issues[i].message);
        out += '}';
      }
      out += "]}";
    }
    out += '}';
  }
  out += "}}";
  return out;
}

}  // namespace foggate::gateway
