#include "foggate/protocols/payload_decoder.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

#include "foggate/protocols/json.h"
#include "msgpack_codec.h"

namespace foggate::protocols {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

Unexpected<Error> fail(const char* reason, std::string detail) {
  return unexpected(Error::permanent(reason, std::move(detail)));
}

// Flattens a JSON object into fields as the events arrive, so no tree is
// built on the ingest thread. Everything inside an array is skipped; the
// parser still counts its depth against max_depth.
class FieldCollector final : public JsonHandler {
 public:
  FieldCollector(const DecodeOptions& options, std::vector<Field>& fields)
      : options_(options), fields_(fields) {}

  bool on_null() override { return scalar(std::nullopt); }
  bool on_bool(bool v) override { return scalar(Value(v)); }
  bool on_number(double v) override { return scalar(Value(v)); }
  bool on_string(std::string_view v) override { return scalar(Value(std::string(v))); }
  bool on_key(std::string_view k) override {
    if (skipping_ > 0) return true;
    if (prefix_.empty()) {
      name_.assign(k);  // a top-level member: most payloads have nothing else
      return true;
    }
    name_.resize(prefix_.back());
    name_ += '.';
    name_ += k;
    return true;
  }
  bool begin_object() override {
    const bool top_level = !started_;
    if (!start(true)) return false;
    if (skipping_ > 0) {
      ++skipping_;
    } else if (!top_level) {
      prefix_.push_back(name_.size());  // a nested object's members are named "outer.inner"
    }
    return true;
  }
  bool end_object() override {
    if (skipping_ > 0) {
      --skipping_;
    } else if (!prefix_.empty()) {  // empty: the top-level object closes
      prefix_.pop_back();
    }
    return true;
  }
  bool begin_array() override {
    if (!start(false)) return false;
    ++skipping_;
    return true;
  }
  bool end_array() override {
    --skipping_;
    return true;
  }

  // Why the handler stopped the parse; set whenever it returned false.
  const Error& error() const { return error_; }

 private:
  using Value = std::variant<double, bool, std::string>;

  // The first event decides whether the document is an object at all.
  bool start(bool is_object) {
    if (started_) return true;
    started_ = true;
    if (is_object) return true;
    error_ = Error::permanent("not_an_object", "top level is not an object");
    return false;
  }

  bool scalar(std::optional<Value> v) {
    if (!start(false)) return false;
    if (skipping_ > 0 || !v) return true;  // array content, or null
    if (fields_.size() >= options_.max_fields) {
      error_ = Error::permanent("too_many_fields",
                                "more than " + std::to_string(options_.max_fields) + " fields");
      return false;
    }
    fields_.push_back(Field{name_, std::move(*v)});
    return true;
  }

  const DecodeOptions& options_;
  std::vector<Field>& fields_;
  bool started_ = false;
  std::size_t skipping_ = 0;         // open arrays (and anything within them)
  // Per open nested object (not the top level, so a flat payload allocates
  // nothing here): the length of its members' name prefix.
  std::vector<std::size_t> prefix_;
  std::string name_;                 // the current member's flattened name
  Error error_;
};

Result<void> decode_json(std::string_view text, const DecodeOptions& options,
                         std::vector<Field>& fields) {
  FieldCollector collector(options, fields);
  const JsonLimits limits{options.max_bytes, options.max_depth, options.max_string};
  auto r = parse_json_events(text, collector, limits);
  if (r) return {};
  const Error& e = r.error();
  if (e.reason == "json_rejected") {
    if (collector.error().reason.empty()) return fail("not_an_object", "top level is not an object");
    return unexpected(collector.error());
  }
  if (e.reason == "json_depth") return fail("too_deep", e.detail);
  if (e.reason == "json_too_large" || e.reason == "json_string_too_long") {
    return fail("too_large", e.detail);
  }
  return fail("json_syntax", e.detail);
}

Result<void> decode_number(std::string_view payload, const Message& msg,
                           std::vector<Field>& fields) {
  const std::string_view s = trim(payload);
  double v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) {
    return fail("not_a_number", "payload is neither a JSON object, a msgpack map nor a number");
  }
  fields.push_back(Field{msg.metric.empty() ? std::string("value") : msg.metric, v});
  return {};
}

// Epoch values below 1e11 are seconds: 1e11 s is the year 5138, while 1e11
// ms is only March 1973, so no real clock is ambiguous.
Result<void> apply_timestamp(Message& msg, const DecodeOptions& options) {
  if (options.timestamp_field.empty()) return {};
  const Field* f = msg.field(options.timestamp_field);
  if (f == nullptr) return {};
  const double* v = f->number();
  if (v == nullptr) return fail("bad_timestamp", options.timestamp_field + " is not a number");
  if (!std::isfinite(*v) || *v < 0) {
    return fail("bad_timestamp", options.timestamp_field + " is negative or not finite");
  }
  const double ms = *v < 1e11 ? *v * 1000 : *v;
  if (ms >= 9.2e18) return fail("bad_timestamp", options.timestamp_field + " is out of range");
  msg.sensor_ts_ms = static_cast<int64_t>(std::llround(ms));
  return {};
}

PayloadFormat detect(std::string_view payload, std::size_t first) {
  const auto c = static_cast<unsigned char>(payload[first]);
  if (c == '{') return PayloadFormat::kJson;
  if ((c >= 0x80 && c <= 0x8f) || c == 0xde || c == 0xdf) return PayloadFormat::kMsgpack;
  return PayloadFormat::kNumber;
}

}  // namespace

// msg.format is set as soon as the format is known, also when decoding then
// fails, so that rejections can be counted per format.
Result<void> decode_payload(Message& msg, const DecodeOptions& options) {
  msg.fields.clear();
  if (msg.topic.size() > options.max_topic_bytes) {
    return fail("topic_too_long", std::to_string(msg.topic.size()) + " bytes, limit " +
                                      std::to_string(options.max_topic_bytes));
  }
  const std::string_view payload = msg.payload;
  if (payload.size() > options.max_bytes) {
    return fail("too_large", std::to_string(payload.size()) + " bytes, limit " +
                                 std::to_string(options.max_bytes));
  }
  std::size_t first = 0;
  while (first < payload.size() && is_space(payload[first])) ++first;
  if (first == payload.size()) return fail("empty", "empty payload");

  const PayloadFormat format =
      options.format == PayloadFormat::kAuto ? detect(payload, first) : options.format;
  msg.format = format;
  Result<void> r;
  // Room for a typical reading's fields in one allocation rather than
  // three (1, 2, 4): the ingest thread allocates, a worker frees, so each
  // allocation takes malloc's slow path.
  if (format == PayloadFormat::kJson || format == PayloadFormat::kMsgpack) msg.fields.reserve(4);
  switch (format) {
    case PayloadFormat::kJson: r = decode_json(payload, options, msg.fields); break;
    // The whole payload, not from `first`: space is not padding in a binary
    // format.
    case PayloadFormat::kMsgpack: r = msgpack_to_fields(payload, options, msg.fields); break;
    case PayloadFormat::kNumber:
    case PayloadFormat::kAuto: r = decode_number(payload, msg, msg.fields); break;
  }
  if (r && format != PayloadFormat::kNumber && format != PayloadFormat::kAuto) {
    r = apply_timestamp(msg, options);
  }
  if (!r) msg.fields.clear();
  return r;
}

}  // namespace foggate::protocols
