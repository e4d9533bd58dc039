#include "foggate/routing/rule_set.h"

#include <charconv>
#include <cmath>

#include "foggate/message/topic.h"

namespace foggate::routing {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool valid_field_name(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

template <typename T>
bool compare(Predicate::Op op, const T& a, const T& b) {
  switch (op) {
    case Predicate::Op::kLt: return a < b;
    case Predicate::Op::kLe: return a <= b;
    case Predicate::Op::kGt: return a > b;
    case Predicate::Op::kGe: return a >= b;
    case Predicate::Op::kEq: return a == b;
    case Predicate::Op::kNe: return a != b;
    case Predicate::Op::kExists: return true;
  }
  return false;
}

}  // namespace

bool Predicate::holds(const Message& msg) const {
  const Field* f = msg.field(field);
  if (f == nullptr) return false;
  if (op == Op::kExists) return true;
  if (f->value.index() != operand.index()) return false;
  if (const double* v = f->number()) return compare(op, *v, std::get<double>(operand));
  if (const std::string* s = f->string()) return compare(op, *s, std::get<std::string>(operand));
  bool b = std::get<bool>(f->value);
  // Ordering booleans is meaningless; only == and != are accepted by the parser.
  return compare(op, b, std::get<bool>(operand));
}

Result<Predicate> parse_predicate(std::string_view text) {
  text = trim(text);
  static constexpr std::pair<std::string_view, Predicate::Op> kOps[] = {
      {"<=", Predicate::Op::kLe}, {">=", Predicate::Op::kGe}, {"==", Predicate::Op::kEq},
      {"!=", Predicate::Op::kNe}, {"<", Predicate::Op::kLt},  {">", Predicate::Op::kGt}};
  std::size_t pos = text.find_first_of("<>=!");
  Predicate p;
  if (pos == std::string_view::npos) {
    if (!valid_field_name(text))
      return unexpected(Error::permanent(
          "bad_predicate", "no known operator: use `field op value` (op: < <= > >= == !=) or a bare field name"));
    p.field = std::string(text);
    p.op = Predicate::Op::kExists;
    return p;
  }
  std::string_view field = trim(text.substr(0, pos));
  std::string_view rest = text.substr(pos);
  bool found = false;
  for (const auto& [sym, op] : kOps) {
    if (rest.starts_with(sym)) {
      p.op = op;
      rest = trim(rest.substr(sym.size()));
      found = true;
      break;
    }
  }
  if (!found) return unexpected(Error::permanent("bad_predicate", "unknown operator; use < <= > >= == !="));
  if (!valid_field_name(field))
    return unexpected(Error::permanent("bad_predicate", "field name must be letters, digits, _ . -"));
  p.field = std::string(field);
  if (rest.empty()) return unexpected(Error::permanent("bad_predicate", "missing value after operator"));
  bool ordering = p.op != Predicate::Op::kEq && p.op != Predicate::Op::kNe;
  if (rest == "true" || rest == "false") {
    if (ordering) return unexpected(Error::permanent("bad_predicate", "booleans only compare with == or !="));
    p.operand = rest == "true";
    return p;
  }
  if (rest.size() >= 2 && rest.front() == '"' && rest.back() == '"') {
    p.operand = std::string(rest.substr(1, rest.size() - 2));
    return p;
  }
  double d = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), d);
  if (ec != std::errc() || end != rest.data() + rest.size() || !std::isfinite(d))
    return unexpected(Error::permanent("bad_predicate", "value must be a number, true, false or a \"quoted string\""));
  p.operand = d;
  return p;
}

bool Rule::matches(const Message& msg) const {
  if (source && *source != msg.source) return false;
  if (!topics.empty()) {
    bool any = false;
    for (const auto& filter : topics) {
      if (topic_matches(filter, msg.topic)) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  if (!device.empty() && !glob_matches(device, msg.device)) return false;
  for (const auto& pred : when)
    if (!pred.holds(msg)) return false;
  return true;
}

RuleSet::RuleSet(std::vector<Rule> rules, std::vector<TaskSpec> default_tasks)
    : rules_(std::move(rules)),
      default_tasks_(std::move(default_tasks)),
      matches_(std::make_unique<Counter[]>(rules_.size() + 1)) {}

const std::vector<TaskSpec>& RuleSet::classify(const Message& msg) const {
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    if (rules_[i].matches(msg)) {
      matches_[i].add();
      return rules_[i].tasks;
    }
  }
  matches_[rules_.size()].add();
  return default_tasks_;
}

void RuleSet::collect(MetricSink& out) const {
  for (std::size_t i = 0; i <= rules_.size(); ++i) {
    std::string name = i < rules_.size() ? rules_[i].name : std::string("(default)");
    out.push_back({"rule_matches_total", {{"rule", std::move(name)}},
                   static_cast<double>(matches_[i].value())});
  }
}

}  // namespace foggate::routing
