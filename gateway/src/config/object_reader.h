// ObjectReader: reads the members of one JSON object of the configuration,
// checking types and ranges, and reports every member it was never asked
// about as unknown when it goes out of scope. Issues accumulate; reading
// goes on after an error so one run of `foggate check` lists them all.
#pragma once

#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "foggate/gateway/config.h"

namespace foggate::gateway {

inline std::string join_path(const std::string& base, std::string_view key) {
  return base.empty() ? std::string(key) : base + "." + std::string(key);
}
inline std::string index_path(const std::string& base, std::size_t i) {
  return base + "[" + std::to_string(i) + "]";
}

class ObjectReader {
 public:
  ObjectReader(const protocols::JsonValue& v, std::string path, ConfigIssues& issues)
      : v_(v), path_(std::move(path)), issues_(issues) {
    if (!v.is_object()) {
      fail(path_, std::string("expected an object, got ") + std::string(protocols::to_string(v.type())));
      ok_ = false;
    }
  }
  ~ObjectReader() {
    if (!ok_) return;
    for (const auto& [key, value] : v_.members())
      if (!asked_.contains(key)) fail(join_path(path_, key), "unknown key");
  }
  ObjectReader(const ObjectReader&) = delete;
  ObjectReader& operator=(const ObjectReader&) = delete;

  bool ok() const { return ok_; }
  const std::string& path() const { return path_; }
  std::string path_of(std::string_view key) const { return join_path(path_, key); }
  void fail(std::string path, std::string message) { issues_.push_back({std::move(path), std::move(message)}); }

  // The raw member, or nullptr when absent.
  const protocols::JsonValue* get(std::string_view key) {
    if (!ok_) return nullptr;
    asked_.insert(std::string(key));
    return v_.find(key);
  }
  const protocols::JsonValue* require(std::string_view key) {
    const auto* m = get(key);
    if (m == nullptr && ok_) fail(path_of(key), "required key is missing");
    return m;
  }

  void string(std::string_view key, std::string& out, bool required = false, bool non_empty = true) {
    const auto* m = required ? require(key) : get(key);
    if (m == nullptr) return;
    if (!m->is_string()) return type_error(key, "a string", *m);
    if (non_empty && m->as_string().empty()) return fail(path_of(key), "must not be empty");
    out = m->as_string();
  }
  void boolean(std::string_view key, bool& out) {
    const auto* m = get(key);
    if (m == nullptr) return;
    if (!m->is_bool()) return type_error(key, "true or false", *m);
    out = m->as_bool();
  }
  void number(std::string_view key, double& out) {
    const auto* m = get(key);
    if (m == nullptr) return;
    if (!m->is_number() || !std::isfinite(m->as_number())) return type_error(key, "a number", *m);
    out = m->as_number();
  }
  void optional_number(std::string_view key, std::optional<double>& out) {
    double d = 0;
    std::size_t before = issues_.size();
    if (get(key) == nullptr) return;
    number(key, d);
    if (issues_.size() == before) out = d;
  }
  // An integer within [lo, hi].
  template <typename Int>
  void integer(std::string_view key, Int& out, int64_t lo, int64_t hi, bool required = false) {
    const auto* m = required ? require(key) : get(key);
    if (m == nullptr) return;
    const double d = m->is_number() ? m->as_number() : 0;
    if (!m->is_number() || d != std::floor(d)) return type_error(key, "an integer", *m);
    if (d < static_cast<double>(lo) || d > static_cast<double>(hi))
      return fail(path_of(key), "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    out = static_cast<Int>(d);
  }
  // An array; calls f(element, element_path) for each element.
  template <typename F>
  void array(std::string_view key, F&& f, bool required = false) {
    const auto* m = required ? require(key) : get(key);
    if (m == nullptr) return;
    if (!m->is_array()) return type_error(key, "an array", *m);
    const auto& items = m->items();
    for (std::size_t i = 0; i < items.size(); ++i) f(items[i], index_path(path_of(key), i));
  }

 private:
  void type_error(std::string_view key, std::string_view want, const protocols::JsonValue& got) {
    fail(path_of(key), "expected " + std::string(want) + ", got " + std::string(protocols::to_string(got.type())));
  }

  const protocols::JsonValue& v_;
  std::string path_;
  ConfigIssues& issues_;
  std::set<std::string, std::less<>> asked_;
  bool ok_ = true;
};

}  // namespace foggate::gateway
