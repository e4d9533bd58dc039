#include "uplink_values.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <system_error>
#include <vector>
#include "foggate/protocols/base64.h"
#include "foggate/protocols/utf8.h"

namespace foggate::protocols {
namespace {

constexpr double kTwoTo53 = 9007199254740992.0;
// The same bounds a JSON payload gets (JsonLimits defaults), so that the
// format of a payload does not decide whether it travels decoded.
constexpr std::size_t kMaxPayloadBytes = JsonLimits{}.max_bytes;
constexpr std::size_t kMaxPayloadDepth = JsonLimits{}.max_depth;

Unexpected<Error> fail(const char* reason, std::string detail) {
  return unexpected(Error::permanent(reason, std::move(detail)));
}

// Everything check_msgpack enforces, as msgpack-c's parser reports events.
// A container is only counted here, never allocated.
class CheckVisitor : public msgpack::null_visitor {
 public:
  explicit CheckVisitor(std::size_t max_depth) : max_depth_(max_depth) {}

  bool visit_nil() { return scalar("nil"); }
  bool visit_boolean(bool) { return scalar("bool"); }
  bool visit_positive_integer(uint64_t) { return scalar("int"); }
  bool visit_negative_integer(int64_t) { return scalar("int"); }
  bool visit_float32(float) { return scalar("float"); }
  bool visit_float64(double) { return scalar("float"); }
  bool visit_bin(const char*, uint32_t) { return scalar("bin"); }
  bool visit_ext(const char*, uint32_t) { return reject("ext value"); }
  bool visit_str(const char* s, uint32_t size) {
    in_key_ = false;
    return valid_utf8({s, size}) || reject("string is not valid UTF-8");
  }
  bool start_array(uint32_t) { return scalar("array") && open(); }
  bool end_array() { return close(); }
  bool start_map(uint32_t) { return scalar("map") && open(); }
  bool start_map_key() {
    in_key_ = true;
    return true;
  }
  bool end_map() { return close(); }
  void parse_error(std::size_t, std::size_t at) {
    if (problem_.empty()) problem_ = "malformed at offset " + std::to_string(at);
  }
  void insufficient_bytes(std::size_t, std::size_t) {
    if (problem_.empty()) problem_ = "truncated";
  }

  const std::string& problem() const { return problem_; }

 private:
  bool reject(std::string what) {
    if (problem_.empty()) problem_ = std::move(what);
    return false;
  }
  bool scalar(const char* type) {
    return !in_key_ || reject(std::string("map key of type ") + type);
  }
  bool open() {
    return ++depth_ <= max_depth_ ||
           reject("nested deeper than " + std::to_string(max_depth_));
  }
  bool close() {
    --depth_;
    return true;
  }

  std::size_t max_depth_;
  std::size_t depth_ = 0;
  bool in_key_ = false;
  std::string problem_;
};

bool reference_all(msgpack::type::object_type, std::size_t, void*) { return true; }

std::string_view str_of(const msgpack::object& o) { return {o.via.str.ptr, o.via.str.size}; }

bool distinct_keys(const msgpack::object_map& map) {
  if (map.size < 2) return true;
  std::vector<std::string_view> keys;
  keys.reserve(map.size);
  for (uint32_t i = 0; i < map.size; ++i) keys.push_back(str_of(map.ptr[i].key));
  std::sort(keys.begin(), keys.end());
  return std::adjacent_find(keys.begin(), keys.end()) == keys.end();
}

// Only for a value check_msgpack passed: depth is bounded.
bool all_keys_distinct(const msgpack::object& o) {
  if (o.type == msgpack::type::ARRAY) {
    for (uint32_t i = 0; i < o.via.array.size; ++i)
      if (!all_keys_distinct(o.via.array.ptr[i])) return false;
  } else if (o.type == msgpack::type::MAP) {
    if (!distinct_keys(o.via.map)) return false;
    for (uint32_t i = 0; i < o.via.map.size; ++i)
      if (!all_keys_distinct(o.via.map.ptr[i].val)) return false;
  }
  return true;
}

msgpack::object number_object(double d) {
  msgpack::object o;
  if (d == std::trunc(d) && std::fabs(d) <= kTwoTo53) {
    if (d >= 0) {
      o.type = msgpack::type::POSITIVE_INTEGER;
      o.via.u64 = static_cast<uint64_t>(d);
    } else {
      o.type = msgpack::type::NEGATIVE_INTEGER;
      o.via.i64 = static_cast<int64_t>(d);
    }
  } else {
    o.type = msgpack::type::FLOAT64;
    o.via.f64 = d;
  }
  return o;
}

msgpack::object str_object(std::string_view s, msgpack::zone& zone) {
  char* p = static_cast<char*>(zone.allocate_no_align(s.size()));
  std::memcpy(p, s.data(), s.size());
  msgpack::object o;
  o.type = msgpack::type::STR;
  o.via.str.ptr = p;
  o.via.str.size = static_cast<uint32_t>(s.size());
  return o;
}

// Builds the msgpack object of a JSON payload straight from parse events,
// into the batch's zone: no JsonValue tree, no per-string std::string
// (the micro-benchmark showed that tree at over half of the encode cost).
// Pending values wait on one flat stack; a container takes its elements
// off the top when it closes. Objects push key, value, key, value...
class MsgpackBuilder final : public JsonHandler {
 public:
  // Room for a flat payload of a few members, so one message costs two
  // allocations here, not a growing vector's five.
  explicit MsgpackBuilder(msgpack::zone& zone) : zone_(zone) {
    stack_.reserve(16);
    starts_.reserve(4);
  }

  bool on_null() override { return push(msgpack::object{}); }
  bool on_bool(bool v) override {
    msgpack::object o;
    o.type = msgpack::type::BOOLEAN;
    o.via.boolean = v;
    return push(o);
  }
  bool on_number(double v) override { return push(number_object(v)); }
  bool on_string(std::string_view v) override { return push(str_object(v, zone_)); }
  bool on_key(std::string_view k) override { return push(str_object(k, zone_)); }
  bool begin_object() override { return open(); }
  bool begin_array() override { return open(); }
  bool end_array() override {
    const std::size_t n = stack_.size() - starts_.back();
    auto* p = static_cast<msgpack::object*>(
        zone_.allocate_align(sizeof(msgpack::object) * n, MSGPACK_ZONE_ALIGNOF(msgpack::object)));
    std::copy(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end(), p);
    msgpack::object o;
    o.type = msgpack::type::ARRAY;
    o.via.array.ptr = p;
    o.via.array.size = static_cast<uint32_t>(n);
    return close(n, o);
  }
  bool end_object() override {
    const std::size_t n = stack_.size() - starts_.back();  // keys and values
    auto* p = static_cast<msgpack::object_kv*>(
        zone_.allocate_align(sizeof(msgpack::object_kv) * (n / 2), MSGPACK_ZONE_ALIGNOF(msgpack::object_kv)));
    const auto* first = stack_.data() + stack_.size() - n;
    for (std::size_t i = 0; i < n / 2; ++i) p[i] = {first[2 * i], first[2 * i + 1]};
    msgpack::object o;
    o.type = msgpack::type::MAP;
    o.via.map.ptr = p;
    o.via.map.size = static_cast<uint32_t>(n / 2);
    return close(n, o);
  }

  msgpack::object result() const { return stack_.front(); }

 private:
  bool push(const msgpack::object& o) {
    stack_.push_back(o);
    return true;
  }
  bool open() {
    starts_.push_back(stack_.size());
    return true;
  }
  bool close(std::size_t n, const msgpack::object& o) {
    stack_.resize(stack_.size() - n);
    starts_.pop_back();
    return push(o);
  }

  msgpack::zone& zone_;
  std::vector<msgpack::object> stack_;
  std::vector<std::size_t> starts_;
};

std::optional<msgpack::object> from_json(std::string_view payload, msgpack::zone& zone) {
  MsgpackBuilder builder(zone);
  if (!parse_json_events(payload, builder)) return std::nullopt;
  // The tree parser refused duplicate keys; keep that rule: such a payload
  // travels raw, not with one of its values silently chosen.
  auto o = builder.result();
  if (!all_keys_distinct(o)) return std::nullopt;
  return o;
}

std::optional<msgpack::object> from_msgpack(std::string_view payload, msgpack::zone& zone) {
  if (payload.size() > kMaxPayloadBytes) return std::nullopt;
  if (!check_msgpack(payload, kMaxPayloadDepth)) return std::nullopt;
  auto obj = unpack_checked(payload, kMaxPayloadDepth, zone);
  if (!obj || !all_keys_distinct(*obj)) return std::nullopt;
  return *obj;
}

std::optional<msgpack::object> from_number(std::string_view payload) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!payload.empty() && space(payload.front())) payload.remove_prefix(1);
  while (!payload.empty() && space(payload.back())) payload.remove_suffix(1);
  double v = 0;
  const char* end = payload.data() + payload.size();
  const auto [ptr, ec] = std::from_chars(payload.data(), end, v);
  if (payload.empty() || ec != std::errc() || ptr != end || !std::isfinite(v)) return std::nullopt;
  return number_object(v);
}

bool is_flat(const msgpack::object& v) {
  if (v.type != msgpack::type::MAP) return false;
  for (uint32_t i = 0; i < v.via.map.size; ++i)
    if (!is_scalar(v.via.map.ptr[i].val)) return false;
  return true;
}

}  // namespace

Result<void> check_msgpack(std::string_view bytes, std::size_t max_depth) {
  CheckVisitor visitor(max_depth);
  std::size_t off = 0;
  bool ok = false;
  try {
    ok = msgpack::parse(bytes.data(), bytes.size(), off, visitor);
  } catch (const std::exception& e) {
    return fail("msgpack_syntax", e.what());
  }
  if (!ok) {
    return fail("msgpack_syntax", visitor.problem().empty() ? "malformed" : visitor.problem());
  }
  if (off != bytes.size()) {
    return fail("msgpack_syntax", std::to_string(bytes.size() - off) + " bytes after the value");
  }
  return {};
}

// The limits only restate what check_msgpack proved (every element takes at
// least one byte, every map entry two); they keep msgpack-c honest should
// the two ever disagree.
Result<msgpack::object> unpack_checked(std::string_view bytes, std::size_t max_depth,
                                       msgpack::zone& zone) {
  const std::size_t n = bytes.size();
  const msgpack::unpack_limit limit(n, n / 2, n, n, 0, max_depth + 1);
  std::size_t off = 0;
  try {
    return msgpack::unpack(zone, bytes.data(), n, off, reference_all, nullptr, limit);
  } catch (const std::exception& e) {
    return fail("msgpack_syntax", e.what());
  }
}

UplinkPayload read_payload(const Message& msg, bool force_raw, msgpack::zone& zone) {
  const std::string_view payload = msg.payload;
  std::optional<msgpack::object> v;
  if (!force_raw) {
    switch (msg.format) {
      case PayloadFormat::kJson: v = from_json(payload, zone); break;
      case PayloadFormat::kMsgpack: v = from_msgpack(payload, zone); break;
      case PayloadFormat::kNumber: v = from_number(payload); break;
      case PayloadFormat::kAuto:
        v = from_json(payload, zone);
        if (!v) v = from_msgpack(payload, zone);
        if (!v) v = from_number(payload);
        break;
    }
  }
  UplinkPayload out;
  if (!v) {
    out.kind = UplinkPayload::Kind::kRaw;
    out.value.type = msgpack::type::BIN;
    out.value.via.bin.ptr = payload.data();
    out.value.via.bin.size = static_cast<uint32_t>(payload.size());  // caller checked < 4 GiB
    return out;
  }
  out.kind = is_flat(*v) ? UplinkPayload::Kind::kFlat : UplinkPayload::Kind::kOther;
  out.value = *v;
  return out;
}

bool is_scalar(const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::NIL:
    case msgpack::type::BOOLEAN:
    case msgpack::type::POSITIVE_INTEGER:
    case msgpack::type::NEGATIVE_INTEGER:
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
    case msgpack::type::STR: return true;
    default: return false;
  }
}

Result<JsonValue> json_from_msgpack(const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::NIL: return JsonValue();
    case msgpack::type::BOOLEAN: return JsonValue::boolean(o.via.boolean);
    case msgpack::type::POSITIVE_INTEGER: return JsonValue::number(static_cast<double>(o.via.u64));
    case msgpack::type::NEGATIVE_INTEGER: return JsonValue::number(static_cast<double>(o.via.i64));
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      return std::isfinite(o.via.f64) ? JsonValue::number(o.via.f64) : JsonValue();
    case msgpack::type::STR: return JsonValue::string(std::string(str_of(o)));
    case msgpack::type::BIN: {
      JsonValue raw = JsonValue::object();
      raw.set("raw_base64", JsonValue::string(base64_encode({o.via.bin.ptr, o.via.bin.size})));
      return raw;
    }
    case msgpack::type::ARRAY: {
      JsonValue a = JsonValue::array();
      a.items().reserve(o.via.array.size);
      for (uint32_t i = 0; i < o.via.array.size; ++i) {
        auto item = json_from_msgpack(o.via.array.ptr[i]);
        if (!item) return item;
        a.push(std::move(*item));
      }
      return a;
    }
    case msgpack::type::MAP: {
      const msgpack::object_map& map = o.via.map;
      for (uint32_t i = 0; i < map.size; ++i) {
        if (map.ptr[i].key.type != msgpack::type::STR) {
          return fail("batch_format", "map key is not a string");
        }
      }
      if (!distinct_keys(map)) return fail("batch_format", "map with duplicate keys");
      JsonValue obj = JsonValue::object();
      obj.members().reserve(map.size);
      for (uint32_t i = 0; i < map.size; ++i) {
        auto val = json_from_msgpack(map.ptr[i].val);
        if (!val) return val;
        obj.set(std::string(str_of(map.ptr[i].key)), std::move(*val));
      }
      return obj;
    }
    case msgpack::type::EXT: break;
  }
  return fail("batch_format", "ext value");
}

bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_length(p + i, s.size() - i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

bool sanitize_utf8(std::string& s) {
  if (valid_utf8(s)) return false;
  std::string out;
  out.reserve(s.size() + 8);
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_length(p + i, s.size() - i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    } else {
      out.append(s, i, n);
      i += n;
    }
  }
  s = std::move(out);
  return true;
}

}  // namespace foggate::protocols
