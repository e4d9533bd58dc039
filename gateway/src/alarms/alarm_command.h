// An operator's alarm command (docs/alarms.md): acknowledge, shelve or
// unshelve one alarm, published (not retained) on
// foggate/<gateway>/alarms/<device>/<detector>/<ack|shelve|unshelve> with a
// JSON body naming the operator. parse_alarm_command() only reads and
// checks it; the alarm thread applies it. Pure, any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "foggate/base/result.h"
#include "foggate/routing/alarm_book.h"

namespace foggate::gateway {

enum class AlarmVerb : unsigned char { kAck, kShelve, kUnshelve };
std::string_view to_string(AlarmVerb v);

struct AlarmCommand {
  AlarmVerb verb = AlarmVerb::kAck;
  routing::AlarmKey key;      // the topic's levels
  std::string op;             // "operator": who sent it (trusted as far as the broker's ACL goes)
  std::string comment;        // optional
  int64_t duration_ms = 0;    // shelve only
};

inline constexpr std::size_t kMaxCommandBytes = 4096;
inline constexpr std::size_t kMaxOperatorBytes = 64;
inline constexpr std::size_t kMaxCommentBytes = 512;

// Error reasons (permanent; the metric label of a refused command):
// retained, too_large, bad_topic, unknown_command, bad_json, bad_operator,
// bad_comment, bad_duration, unknown_key. `max_shelve_ms` bounds a shelve.
Result<AlarmCommand> parse_alarm_command(std::string_view gateway_id, std::string_view topic, std::string_view payload,
                                         bool retained, int64_t max_shelve_ms);

}  // namespace foggate::gateway
