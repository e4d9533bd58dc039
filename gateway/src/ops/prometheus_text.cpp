#include "ops/prometheus_text.h"

#include <cmath>
#include <map>
#include <set>

#include "foggate/protocols/json.h"

namespace foggate::gateway {
namespace {

void append_value(std::string& out, double v) {
  if (std::isnan(v)) out += "NaN";
  else if (std::isinf(v)) out += v > 0 ? "+Inf" : "-Inf";
  else protocols::append_json_number(out, v);  // integers without exponent, else shortest round-trip
}

void append_series(std::string& out, const std::string& name,
                   const std::vector<std::pair<std::string, std::string>>& labels) {
  out += name;
  if (labels.empty()) return;
  out += '{';
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ',';
    out += prometheus_name(labels[i].first, true);
    out += "=\"";
    out += prometheus_label_value(labels[i].second);
    out += '"';
  }
  out += '}';
}

// Identifies a series; NUL cannot occur in names and separates the parts,
// so label values holding ',' or '=' cannot collide.
std::string series_id(const MetricSample& s) {
  std::string id = s.name;
  for (const auto& [k, v] : s.labels) {
    id += '\0';
    id += k;
    id += '\0';
    id += v;
  }
  return id;
}

}  // namespace

std::string prometheus_name(std::string_view s, bool label) {
  std::string out(s.empty() ? "_" : s);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (c == ':' && !label) ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) out[i] = '_';
  }
  return out;
}

std::string prometheus_label_value(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string prometheus_text(const MetricSink& samples, const MetricTexts& texts) {
  // Families in order of first appearance; collect() interleaves them
  // (per queue, per priority) but the format wants each family together.
  std::vector<std::string> order;
  std::map<std::string, std::vector<const MetricSample*>, std::less<>> families;
  std::set<std::string, std::less<>> seen;  // series already written
  for (const auto& s : samples) {
    if (!seen.insert(series_id(s)).second) continue;
    const std::string name = "foggate_" + prometheus_name(s.name);
    auto [it, fresh] = families.try_emplace(name);
    if (fresh) order.push_back(name);
    it->second.push_back(&s);
  }
  std::string out;
  out.reserve(samples.size() * 64);
  for (const auto& name : order) {
    out += "# TYPE ";
    out += name;
    out += name.ends_with("_total") ? " counter\n" : " gauge\n";
    for (const auto* s : families[name]) {
      append_series(out, name, s->labels);
      out += ' ';
      append_value(out, s->value);
      out += '\n';
    }
  }
  for (const auto& [name, text] : texts) {
    const std::string full = "foggate_" + prometheus_name(name) + "_info";
    out += "# TYPE " + full + " gauge\n";
    append_series(out, full, {{"message", text}});
    out += " 1\n";
  }
  return out;
}

}  // namespace foggate::gateway
