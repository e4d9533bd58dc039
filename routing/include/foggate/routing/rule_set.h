// RuleSet: the ordered classification rules. classify() walks the rules in
// order and returns the tasks of the first rule that matches, or the
// default tasks when none does.
//
// A RuleSet is immutable after construction, so one instance is shared by
// every ingest thread through a shared_ptr snapshot; replacing the rules
// means building a new RuleSet and swapping the pointer. The per-rule match
// counters are atomics and may be read from any thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "foggate/base/counter.h"
#include "foggate/base/result.h"
#include "foggate/message/message.h"
#include "foggate/routing/task.h"

namespace foggate::routing {

// A field predicate such as `t > 50`, `status == "fault"`, `door != true`, or
// a bare field name meaning "the field is present". A comparison with a
// field that is absent, or of another type, is false.
struct Predicate {
  enum class Op { kExists, kLt, kLe, kGt, kGe, kEq, kNe };
  std::string field;
  Op op = Op::kExists;
  std::variant<double, bool, std::string> operand;

  bool holds(const Message& msg) const;
};

// Parses the text form above. Error reason "bad_predicate"; detail says why.
Result<Predicate> parse_predicate(std::string_view text);

struct Rule {
  std::string name;
  std::vector<std::string> topics;  // MQTT filters; empty matches any topic
  std::optional<Source> source;     // absent matches both
  std::string device;               // glob on the device id; empty matches any
  std::vector<Predicate> when;      // all must hold
  std::vector<TaskSpec> tasks;      // empty means "matched, do nothing"

  bool matches(const Message& msg) const;
};

class RuleSet {
 public:
  RuleSet(std::vector<Rule> rules, std::vector<TaskSpec> default_tasks);

  // The tasks for `msg`. The reference stays valid as long as this RuleSet.
  const std::vector<TaskSpec>& classify(const Message& msg) const;

  const std::vector<Rule>& rules() const { return rules_; }
  const std::vector<TaskSpec>& default_tasks() const { return default_tasks_; }
  // Appends one "rule_matches_total{rule=...}" sample per rule, plus the default.
  void collect(MetricSink& out) const;

 private:
  std::vector<Rule> rules_;
  std::vector<TaskSpec> default_tasks_;
  std::unique_ptr<Counter[]> matches_;  // one per rule, then one for the default
};

}  // namespace foggate::routing
