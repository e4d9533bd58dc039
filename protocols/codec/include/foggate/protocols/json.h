// A small JSON reader and writer with hard limits, used for sensor payloads
// (event interface, no tree) and configuration documents (JsonValue tree).
//
// Why not a library: payload decoding is the hot path and must enforce
// limits (depth, size, string length) on hostile input; a 300-line reader
// that streams events into the caller does both without a dependency.
//
// Thread-safety: free functions, no shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "foggate/base/result.h"

namespace foggate::protocols {

struct JsonLimits {
  std::size_t max_bytes = 1 << 20;   // Default: 1 MiB
  std::size_t max_depth = 32;        // Default: 32 nested arrays/objects
  std::size_t max_string = 1 << 16;  // Default: 64 KiB per string or key
};

// Receives parse events in document order. Returning false from any
// callback stops the parse with reason "json_rejected".
class JsonHandler {
 public:
  virtual ~JsonHandler() = default;
  virtual bool on_null() = 0;
  virtual bool on_bool(bool v) = 0;
  virtual bool on_number(double v) = 0;
  virtual bool on_string(std::string_view v) = 0;
  virtual bool on_key(std::string_view k) = 0;
  virtual bool begin_object() = 0;
  virtual bool end_object() = 0;
  virtual bool begin_array() = 0;
  virtual bool end_array() = 0;
};

// Parses exactly one JSON value (RFC 8259) surrounded by optional white
// space. Errors: reason is one of "json_syntax", "json_depth",
// "json_too_large", "json_string_too_long", "json_rejected"; detail names the
// byte offset and what was expected.
Result<void> parse_json_events(std::string_view text, JsonHandler& handler,
                               const JsonLimits& limits = {});

// A JSON document tree. Objects keep member order and may not hold
// duplicate keys (the parser rejects them: "json_duplicate_key").
class JsonValue {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  using Member = std::pair<std::string, JsonValue>;

  JsonValue() = default;
  static JsonValue boolean(bool b);
  static JsonValue number(double d);
  static JsonValue string(std::string s);
  static JsonValue array();
  static JsonValue object();

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  bool as_bool() const { return bool_; }
  double as_number() const { return number_; }
  const std::string& as_string() const { return string_; }
  const std::vector<JsonValue>& items() const { return items_; }
  const std::vector<Member>& members() const { return members_; }
  std::vector<JsonValue>& items() { return items_; }
  std::vector<Member>& members() { return members_; }

  // Object member lookup; nullptr when absent or not an object.
  const JsonValue* find(std::string_view key) const;
  // Appends (objects) / pushes (arrays); returns the new element.
  JsonValue& set(std::string key, JsonValue v);
  JsonValue& push(JsonValue v);

 private:
  Type type_ = Type::kNull;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<JsonValue> items_;
  std::vector<Member> members_;
};

// Name of a type for error messages: "object", "number", ...
std::string_view to_string(JsonValue::Type t);

Result<JsonValue> parse_json(std::string_view text, const JsonLimits& limits = {});

// Compact serialisation. Numbers that are integral and within +-2^53 print
// without a fraction; NaN and infinities print as null.
std::string to_json(const JsonValue& v);

// Appends `s` as a quoted JSON string (escaping ", \, control chars).
void append_json_string(std::string& out, std::string_view s);
// Appends a number as to_json() would.
void append_json_number(std::string& out, double d);

}  // namespace foggate::protocols
