// RepeatFilter: holds back identical log lines repeated within a window, so
// a broker that refuses every reconnect or a disk that fails every commit
// writes one line per window instead of one per attempt, with a count.
//
// A line is identified by its whole text (level, module, message, fields).
// The first occurrence goes out and opens a window (Default: 10 s); later
// occurrences inside it are only counted. When the window has ended, the
// count is reported once (take_ended(), or admit() of the next occurrence)
// and the line starts afresh.
//
// Memory is bounded: at most max_lines distinct lines are tracked; past
// that, new lines go out unfiltered (and uncounted) until windows end.
//
// Thread-safety: every member may be called from any thread (one mutex).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "foggate/base/clock.h"

namespace foggate::log {

class RepeatFilter {
 public:
  static constexpr int64_t kDefaultWindowMs = 10'000;
  static constexpr std::size_t kDefaultMaxLines = 256;

  // What to do with one occurrence of a line.
  struct Admit {
    bool emit = true;       // false: held back and counted
    uint64_t held_back = 0; // > 0: report this many held-back repeats of the previous window first
  };
  // A line whose window ended with repeats held back.
  struct Held {
    std::string line;
    uint64_t count = 0;
  };

  explicit RepeatFilter(const Clock& clock, int64_t window_ms = kDefaultWindowMs,
                        std::size_t max_lines = kDefaultMaxLines)
      : clock_(clock), window_ms_(window_ms), max_lines_(max_lines) {}

  Admit admit(std::string_view line) {
    const int64_t now = clock_.mono_ms();
    std::lock_guard lock(mu_);
    auto it = lines_.find(std::string(line));
    if (it == lines_.end()) {
      if (lines_.size() >= max_lines_) forget_ended(now);
      if (lines_.size() < max_lines_) lines_.emplace(line, Entry{now + window_ms_, 0});
      return {};
    }
    Entry& e = it->second;
    if (now < e.window_end_ms) {
      ++e.held_back;
      return {.emit = false};
    }
    const uint64_t held = e.held_back;
    e = Entry{now + window_ms_, 0};
    return {.emit = true, .held_back = held};
  }

  // Forgets every line whose window has ended and returns those that had
  // repeats held back, for one summary line each.
  std::vector<Held> take_ended() {
    const int64_t now = clock_.mono_ms();
    std::lock_guard lock(mu_);
    if (!lines_.empty()) forget_ended(now);
    return std::exchange(ended_, {});
  }

  std::size_t tracked() const {
    std::lock_guard lock(mu_);
    return lines_.size();
  }

 private:
  struct Entry {
    int64_t window_end_ms;
    uint64_t held_back;
  };

  // Moves ended lines with held-back repeats to ended_ (bounded like
  // lines_: while nobody calls take_ended(), further counts are dropped).
  void forget_ended(int64_t now) {
    for (auto it = lines_.begin(); it != lines_.end();) {
      if (now < it->second.window_end_ms) {
        ++it;
        continue;
      }
      if (it->second.held_back > 0 && ended_.size() < max_lines_) ended_.push_back({it->first, it->second.held_back});
      it = lines_.erase(it);
    }
  }

  const Clock& clock_;
  const int64_t window_ms_;
  const std::size_t max_lines_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> lines_;  // guarded by mu_
  std::vector<Held> ended_;                        // guarded by mu_
};

}  // namespace foggate::log
