// The alarm state document (docs/alarms.md): the retained JSON on
// foggate/<id>/alarms/<device>/<detector>, and the same text as the alarm
// store's row body, read back at start. Pure functions, any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "foggate/routing/alarm_book.h"

namespace foggate::gateway {

// foggate/<gateway>/alarms/<device>/<detector> (levels made topic-safe).
std::string alarm_topic(std::string_view gateway_id, const routing::AlarmKey& k);
// The filter of the command topics: foggate/<gateway>/alarms/+/+/+.
std::string alarm_command_filter(std::string_view gateway_id);

std::string alarm_json(std::string_view gateway_id, const routing::Alarm& a);
// A document written by alarm_json(); nullopt when it is not one (a
// corrupt or foreign row: the caller skips it, counted).
std::optional<routing::Alarm> parse_alarm_json(std::string_view text);

}  // namespace foggate::gateway
