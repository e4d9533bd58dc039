// Priority of a task. Lower enum value = more important; arrays indexed by
// priority use kPriorityCount.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace foggate {

enum class Priority : unsigned char { kCritical = 0, kHigh = 1, kNormal = 2, kLow = 3 };
inline constexpr std::size_t kPriorityCount = 4;
inline constexpr std::array<Priority, kPriorityCount> kAllPriorities = {
    Priority::kCritical, Priority::kHigh, Priority::kNormal, Priority::kLow};

inline constexpr std::size_t index_of(Priority p) { return static_cast<std::size_t>(p); }

inline constexpr std::string_view to_string(Priority p) {
  switch (p) {
    case Priority::kCritical: return "critical";
    case Priority::kHigh: return "high";
    case Priority::kNormal: return "normal";
    case Priority::kLow: return "low";
  }
  return "normal";
}

inline std::optional<Priority> parse_priority(std::string_view s) {
  for (Priority p : kAllPriorities)
    if (to_string(p) == s) return p;
  return std::nullopt;
}

}  // namespace foggate
