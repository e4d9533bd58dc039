#include "alarms/alarm_command.h"

#include <cmath>

#include "foggate/protocols/json.h"

namespace foggate::gateway {
namespace {

Unexpected<Error> refuse(std::string reason, std::string detail) {
  return unexpected(Error::permanent(std::move(reason), std::move(detail)));
}

// Names end up in state documents and log lines: no control characters.
bool printable(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

}  // namespace

std::string_view to_string(AlarmVerb v) {
  switch (v) {
    case AlarmVerb::kAck: return "ack";
    case AlarmVerb::kShelve: return "shelve";
    case AlarmVerb::kUnshelve: return "unshelve";
  }
  return "ack";
}

Result<AlarmCommand> parse_alarm_command(std::string_view gateway_id, std::string_view topic, std::string_view payload,
                                         bool retained, int64_t max_shelve_ms) {
  // A retained command would be applied again at every reconnect.
  if (retained) return refuse("retained", "alarm commands must not be retained");
  if (payload.size() > kMaxCommandBytes) return refuse("too_large", "command body over 4096 bytes");
  const std::string prefix = "foggate/" + std::string(gateway_id) + "/alarms/";
  if (!topic.starts_with(prefix)) return refuse("bad_topic", "not under " + prefix);
  std::string_view rest = topic.substr(prefix.size());
  AlarmCommand c;
  std::string_view levels[3];
  for (std::size_t i = 0; i < 3; ++i) {
    const std::size_t slash = rest.find('/');
    if ((i < 2) == (slash == std::string_view::npos)) return refuse("bad_topic", "expected <device>/<detector>/<command>");
    levels[i] = rest.substr(0, slash);
    if (levels[i].empty()) return refuse("bad_topic", "empty topic level");
    rest = i < 2 ? rest.substr(slash + 1) : std::string_view();
  }
  c.key = {std::string(levels[0]), std::string(levels[1])};
  if (levels[2] == "ack") c.verb = AlarmVerb::kAck;
  else if (levels[2] == "shelve") c.verb = AlarmVerb::kShelve;
  else if (levels[2] == "unshelve") c.verb = AlarmVerb::kUnshelve;
  else return refuse("unknown_command", "use ack, shelve or unshelve");

  auto doc = protocols::parse_json(payload);
  if (!doc || !doc->is_object()) return refuse("bad_json", "the body must be a JSON object");
  for (const auto& [key, value] : doc->members()) {
    (void)value;
    if (key != "operator" && key != "comment" && !(key == "duration_ms" && c.verb == AlarmVerb::kShelve))
      return refuse("unknown_key", "unknown key \"" + key.substr(0, 64) + "\"");
  }
  const auto* op = doc->find("operator");
  if (op == nullptr || !op->is_string() || op->as_string().empty() || op->as_string().size() > kMaxOperatorBytes ||
      !printable(op->as_string()))
    return refuse("bad_operator", "\"operator\" must be a name of 1-64 printable bytes");
  c.op = op->as_string();
  if (const auto* cm = doc->find("comment")) {
    if (!cm->is_string() || cm->as_string().size() > kMaxCommentBytes || !printable(cm->as_string()))
      return refuse("bad_comment", "\"comment\" must be text of at most 512 printable bytes");
    c.comment = cm->as_string();
  }
  if (c.verb == AlarmVerb::kShelve) {
    const auto* d = doc->find("duration_ms");
    const double ms = d != nullptr && d->is_number() ? d->as_number() : -1;
    if (ms != std::floor(ms) || ms < 1 || ms > static_cast<double>(max_shelve_ms))
      return refuse("bad_duration", "\"duration_ms\" must be an integer from 1 to alarms.max_shelve_ms (" +
                                        std::to_string(max_shelve_ms) + ")");
    c.duration_ms = static_cast<int64_t>(ms);
  }
  return c;
}

}  // namespace foggate::gateway
