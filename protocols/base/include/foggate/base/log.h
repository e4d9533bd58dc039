// Structured one-line logs to stderr, journald-friendly:
//   level=warn module=coap msg="malformed payload" reason=json_syntax ...
//
// LogOnce: hostile input is logged once per (module, reason) with its first
// example, then only counted; the counters carry the volume. This keeps a
// flood of bad packets from becoming a flood of log lines.
//
// Thread-safety: all functions may be called from any thread.
#pragma once

#include <atomic>
#include <cstdio>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace foggate::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

inline std::atomic<int>& min_level() {
  static std::atomic<int> level{static_cast<int>(Level::kInfo)};
  return level;
}

inline const char* level_name(Level l) {
  switch (l) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

// Writes one line: level, module, quoted message, then key=value pairs.
// Values are quoted when they contain spaces or quotes.
inline void write(Level level, std::string_view module, std::string_view msg,
                  std::initializer_list<std::pair<std::string_view, std::string_view>> kv = {}) {
  if (static_cast<int>(level) < min_level().load(std::memory_order_relaxed)) return;
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
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
}

inline void info(std::string_view module, std::string_view msg,
                 std::initializer_list<std::pair<std::string_view, std::string_view>> kv = {}) {
  write(Level::kInfo, module, msg, kv);
}
inline void warn(std::string_view module, std::string_view msg,
                 std::initializer_list<std::pair<std::string_view, std::string_view>> kv = {}) {
  write(Level::kWarn, module, msg, kv);
}
inline void error(std::string_view module, std::string_view msg,
                  std::initializer_list<std::pair<std::string_view, std::string_view>> kv = {}) {
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
inline void warn_once(std::string_view module, std::string_view reason, std::string_view msg,
                      std::initializer_list<std::pair<std::string_view, std::string_view>> kv = {}) {
  if (first_time(module, reason)) write(Level::kWarn, module, msg, kv);
}

}  // namespace foggate::log
