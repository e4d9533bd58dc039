#include "foggate/protocols/json.h"

#include <charconv>
#include <cmath>
#include <optional>
#include <string>
#include <unordered_set>

#include "json_parser.h"

namespace foggate::protocols {
namespace {

// Builds a JsonValue tree. A value is attached to its parent only once it
// is complete, so no pointer into a vector that may reallocate is held.
class TreeBuilder final : public JsonHandler {
 public:
  bool on_null() override { return add(JsonValue()); }
  bool on_bool(bool v) override { return add(JsonValue::boolean(v)); }
  bool on_number(double v) override { return add(JsonValue::number(v)); }
  bool on_string(std::string_view v) override { return add(JsonValue::string(std::string(v))); }
  bool on_key(std::string_view k) override {
    Frame& f = frames_.back();
    if (!f.seen.insert(std::string(k)).second) {
      duplicate_ = k;
      return false;
    }
    f.key = k;
    return true;
  }
  bool begin_object() override { return open(JsonValue::object()); }
  bool begin_array() override { return open(JsonValue::array()); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }

  JsonValue& root() { return root_; }
  // Set when the parse stopped on a duplicate key.
  const std::optional<std::string>& duplicate() const { return duplicate_; }

 private:
  struct Frame {
    JsonValue value;
    std::string key;  // member awaiting its value (objects)
    std::unordered_set<std::string> seen;
  };

  bool open(JsonValue v) {
    frames_.push_back(Frame{std::move(v), {}, {}});
    return true;
  }
  bool close() {
    JsonValue v = std::move(frames_.back().value);
    frames_.pop_back();
    return add(std::move(v));
  }
  bool add(JsonValue v) {
    if (frames_.empty()) {
      root_ = std::move(v);
    } else if (Frame& f = frames_.back(); f.value.is_array()) {
      f.value.push(std::move(v));
    } else {
      f.value.set(std::move(f.key), std::move(v));
    }
    return true;
  }

  std::vector<Frame> frames_;
  JsonValue root_;
  std::optional<std::string> duplicate_;
};

void append_value(std::string& out, const JsonValue& v) {
  switch (v.type()) {
    case JsonValue::Type::kNull: out += "null"; return;
    case JsonValue::Type::kBool: out += v.as_bool() ? "true" : "false"; return;
    case JsonValue::Type::kNumber: append_json_number(out, v.as_number()); return;
    case JsonValue::Type::kString: append_json_string(out, v.as_string()); return;
    case JsonValue::Type::kArray: {
      out += '[';
      bool first = true;
      for (const auto& item : v.items()) {
        if (!first) out += ',';
        first = false;
        append_value(out, item);
      }
      out += ']';
      return;
    }
    case JsonValue::Type::kObject: {
      out += '{';
      bool first = true;
      for (const auto& [key, value] : v.members()) {
        if (!first) out += ',';
        first = false;
        append_json_string(out, key);
        out += ':';
        append_value(out, value);
      }
      out += '}';
      return;
    }
  }
}

}  // namespace

JsonValue JsonValue::boolean(bool b) {
  JsonValue v;
  v.type_ = Type::kBool;
  v.bool_ = b;
  return v;
}

JsonValue JsonValue::number(double d) {
  JsonValue v;
  v.type_ = Type::kNumber;
  v.number_ = d;
  return v;
}

JsonValue JsonValue::string(std::string s) {
  JsonValue v;
  v.type_ = Type::kString;
  v.string_ = std::move(s);
  return v;
}

JsonValue JsonValue::array() {
  JsonValue v;
  v.type_ = Type::kArray;
  return v;
}

JsonValue JsonValue::object() {
  JsonValue v;
  v.type_ = Type::kObject;
  return v;
}

const JsonValue* JsonValue::find(std::string_view key) const {
  if (type_ != Type::kObject) return nullptr;
  for (const auto& [k, v] : members_)
    if (k == key) return &v;
  return nullptr;
}

// A default (null) value becomes a container on first use, so documents can
// be built without naming the type first.
JsonValue& JsonValue::set(std::string key, JsonValue v) {
  if (type_ == Type::kNull) type_ = Type::kObject;
  assert(type_ == Type::kObject);
  members_.emplace_back(std::move(key), std::move(v));
  return members_.back().second;
}

JsonValue& JsonValue::push(JsonValue v) {
  if (type_ == Type::kNull) type_ = Type::kArray;
  assert(type_ == Type::kArray);
  items_.push_back(std::move(v));
  return items_.back();
}

std::string_view to_string(JsonValue::Type t) {
  switch (t) {
    case JsonValue::Type::kNull: return "null";
    case JsonValue::Type::kBool: return "bool";
    case JsonValue::Type::kNumber: return "number";
    case JsonValue::Type::kString: return "string";
    case JsonValue::Type::kArray: return "array";
    case JsonValue::Type::kObject: return "object";
  }
  return "null";
}

Result<JsonValue> parse_json(std::string_view text, const JsonLimits& limits) {
  TreeBuilder builder;
  JsonParser parser(text, builder, limits);
  if (auto r = parser.run(); !r) {
    if (builder.duplicate()) {
      std::string detail = "offset " + std::to_string(parser.offset()) + ": duplicate key ";
      append_json_string(detail, builder.duplicate()->substr(0, 64));
      return unexpected(Error::permanent("json_duplicate_key", std::move(detail)));
    }
    return unexpected(r.error());
  }
  return std::move(builder.root());
}

std::string to_json(const JsonValue& v) {
  std::string out;
  append_value(out, v);
  return out;
}

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

void append_json_number(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  char buf[32];
  std::to_chars_result r;
  constexpr double kMaxExact = 9007199254740992.0;  // 2^53
  if (d == std::trunc(d) && std::fabs(d) <= kMaxExact) {
    r = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(d));
  } else {
    r = std::to_chars(buf, buf + sizeof buf, d);  // shortest round-trip form
  }
  out.append(buf, r.ptr);
}

}  // namespace foggate::protocols
