// Structured one-line logs to stderr, journald-friendly:
//   level=warn module=coap msg="malformed payload" reason=json_syntax ...
//
// Levels: one process-wide minimum (gateway.log_level) and optional
// per-module overrides (gateway.log_levels), which may go above or below it.
//
// Repeats: identical warn and error lines (same level, module, message and
// fields) within 10 s are held back and counted (RepeatFilter); the count
// goes out as the same line with `repeated=N` once the window has ended
// (flush_repeats(), which the gateway's supervisor calls, or the next
// occurrence, whichever comes first). Info and debug lines are never held.
//
// LogOnce: hostile input is logged once per (module, reason) with its first
// example, then only counted; the counters carry the volume. This keeps a
// flood of bad packets from becoming a flood of log lines. warn_once lines
// bypass the repeat filter: they are already once per process.
//
// Secrets: nothing here knows what a secret is; callers never pass one.
//
// Thread-safety: all functions may be called from any thread.
#pragma once

#include <atomic>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "foggate/base/clock.h"
#include "foggate/base/repeat_filter.h"

namespace foggate::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

using Fields = std::initializer_list<std::pair<std::string_view, std::string_view>>;

inline const char* level_name(Level l) {
  switch (l) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

// "debug", "info", "warn" or "error"; false for anything else.
inline bool parse_level(std::string_view s, Level& out) {
  for (Level l : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
    if (s == level_name(l)) {
      out = l;
      return true;
    }
  }
  return false;
}

// One line without the newline: level, module, quoted message, then
// key=value pairs. Values are quoted when they contain spaces, quotes or
// '='; quotes become ', control characters ? (newlines a space).
inline std::string format_line(Level level, std::string_view module, std::string_view msg, Fields kv) {
  std::string line;
  line.reserve(128);
  line += "level=";
  line += level_name(level);
  line += " module=";
  line += module;
  line += " msg=\"";
  for (char c : msg) line += (c == '"' ? '\'' : c);
  line += '"';
  for (const auto& [k, v] : kv) {
    line += ' ';
    line += k;
    line += '=';
    bool quote = v.empty() || v.find_first_of(" \"=") != std::string_view::npos;
    if (quote) line += '"';
    for (char c : v) {
      if (c == '"') line += '\'';
      else if (c == '\n' || c == '\r') line += ' ';
      else if (static_cast<unsigned char>(c) < 0x20) line += '?';
      else line += c;
    }
    if (quote) line += '"';
  }
  return line;
}

inline void write_stderr(std::string_view line) { std::fwrite(line.data(), 1, line.size(), stderr); }

// The levels, the repeat filter and where lines go. The process has one
// (logger()); tests build their own with a ManualClock and a capturing output.
class Logger {
 public:
  using Output = std::function<void(std::string_view line)>;  // one line, '\n' included

  explicit Logger(const Clock& clock, Output out = write_stderr,
                  int64_t repeat_window_ms = RepeatFilter::kDefaultWindowMs)
      : out_(std::move(out)), repeats_(clock, repeat_window_ms) {}

  // The minimum level of modules without an override. Default: info.
  std::atomic<int>& min_level() { return min_level_; }
  void set_level(Level l) { min_level_.store(static_cast<int>(l), std::memory_order_relaxed); }

  // Replaces every per-module override; an empty map removes them all.
  void set_module_levels(const std::map<std::string, Level, std::less<>>& levels) {
    auto m = std::make_shared<ModuleLevels>();
    for (const auto& [module, l] : levels) m->emplace(module, static_cast<int>(l));
    const bool any = !m->empty();
    module_levels_.store(std::move(m));
    has_module_levels_.store(any, std::memory_order_release);
  }

  bool enabled(Level level, std::string_view module) const {
    int min = min_level_.load(std::memory_order_relaxed);
    if (has_module_levels_.load(std::memory_order_acquire)) {
      const auto m = module_levels_.load();
      if (auto it = m->find(module); it != m->end()) min = it->second;
    }
    return static_cast<int>(level) >= min;
  }

  void write(Level level, std::string_view module, std::string_view msg, Fields kv = {}) {
    if (!enabled(level, module)) return;
    std::string line = format_line(level, module, msg, kv);
    if (level >= Level::kWarn) {
      const auto a = repeats_.admit(line);
      if (a.held_back > 0) emit_repeated(line, a.held_back);
      if (!a.emit) return;
    }
    line += '\n';
    out_(line);
  }

  // Bypasses the repeat filter (warn_once, already once per process).
  void write_unfiltered(Level level, std::string_view module, std::string_view msg, Fields kv = {}) {
    if (!enabled(level, module)) return;
    std::string line = format_line(level, module, msg, kv);
    line += '\n';
    out_(line);
  }

  // One `repeated=N` line for each line whose window has ended with
  // repeats held back. Cheap when there are none; call it every second or so.
  void flush_repeats() {
    for (const auto& h : repeats_.take_ended()) emit_repeated(h.line, h.count);
  }

 private:
  using ModuleLevels = std::map<std::string, int, std::less<>>;

  void emit_repeated(std::string line, uint64_t count) {
    line += " repeated=";
    line += std::to_string(count);
    line += '\n';
    out_(line);
  }

  const Output out_;
  RepeatFilter repeats_;
  std::atomic<int> min_level_{static_cast<int>(Level::kInfo)};
  std::atomic<bool> has_module_levels_{false};
  std::atomic<std::shared_ptr<const ModuleLevels>> module_levels_{std::make_shared<const ModuleLevels>()};
};

// The process's logger: stderr, the system clock.
inline Logger& logger() {
  static Logger instance(SystemClock::instance());
  return instance;
}

inline std::atomic<int>& min_level() { return logger().min_level(); }

inline void write(Level level, std::string_view module, std::string_view msg, Fields kv = {}) {
  logger().write(level, module, msg, kv);
}
inline void debug(std::string_view module, std::string_view msg, Fields kv = {}) {
  write(Level::kDebug, module, msg, kv);
}
inline void info(std::string_view module, std::string_view msg, Fields kv = {}) {
  write(Level::kInfo, module, msg, kv);
}
inline void warn(std::string_view module, std::string_view msg, Fields kv = {}) {
  write(Level::kWarn, module, msg, kv);
}
inline void error(std::string_view module, std::string_view msg, Fields kv = {}) {
  write(Level::kError, module, msg, kv);
}

// Returns true the first time a (module, key) pair is seen in this process.
inline bool first_time(std::string_view module, std::string_view key) {
  static std::mutex mu;
  static std::set<std::string, std::less<>> seen;  // guarded by mu
  std::string k;
  k.reserve(module.size() + key.size() + 1);
  k += module;
  k += '/';
  k += key;
  std::lock_guard lock(mu);
  return seen.insert(std::move(k)).second;
}

// Logs a warning only the first time (module, reason) occurs; the caller
// counts every occurrence in its own counter.
inline void warn_once(std::string_view module, std::string_view reason, std::string_view msg, Fields kv = {}) {
  if (first_time(module, reason)) logger().write_unfiltered(Level::kWarn, module, msg, kv);
}

}  // namespace foggate::log
