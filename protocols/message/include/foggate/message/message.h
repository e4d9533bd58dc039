// Message: one sensor reading as it entered the gateway, source-neutral.
//
// Ingest (MQTT callback thread or CoAP loop) builds a Message, decodes the
// payload into `fields`, and hands it on by value; from then on exactly one
// thread owns it. `payload` keeps the raw bytes so the uplink can forward
// them even when they could not be decoded.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "foggate/message/receipt.h"

namespace foggate {

enum class Source : unsigned char { kMqtt, kCoap };
inline constexpr std::string_view to_string(Source s) { return s == Source::kMqtt ? "mqtt" : "coap"; }

enum class PayloadFormat : unsigned char { kAuto, kJson, kMsgpack, kNumber };
inline constexpr std::string_view to_string(PayloadFormat f) {
  switch (f) {
    case PayloadFormat::kAuto: return "auto";
    case PayloadFormat::kJson: return "json";
    case PayloadFormat::kMsgpack: return "msgpack";
    case PayloadFormat::kNumber: return "number";
  }
  return "auto";
}
inline std::optional<PayloadFormat> parse_payload_format(std::string_view s) {
  for (auto f : {PayloadFormat::kAuto, PayloadFormat::kJson, PayloadFormat::kMsgpack,
                 PayloadFormat::kNumber})
    if (to_string(f) == s) return f;
  return std::nullopt;
}

// A scalar field of a decoded payload. Nested objects are flattened with '.'
// ("env.t"); arrays are not fields (they are kept in the raw payload).
struct Field {
  std::string name;
  std::variant<double, bool, std::string> value;

  const double* number() const { return std::get_if<double>(&value); }
  const std::string* string() const { return std::get_if<std::string>(&value); }
};

struct Message {
  Source source = Source::kMqtt;
  std::string topic;    // MQTT topic; CoAP requests get "sensors/<device>[/<metric>]"
  std::string device;   // from the topic pattern or the CoAP path; may be empty
  std::string metric;   // from the topic pattern; may be empty
  PayloadFormat format = PayloadFormat::kAuto;  // the detected format after decoding
  std::string payload;  // raw bytes as received
  std::vector<Field> fields;
  int64_t sensor_ts_ms = 0;    // from the payload's timestamp field; 0 when absent
  int64_t received_ms = 0;     // gateway wall clock at ingest
  int64_t received_mono_ms = 0;  // gateway monotonic clock at ingest (deadlines)
  // Held until the reading is safe; null when the source needs no
  // acknowledgement (QoS 0, CoAP: answered at ingest). See receipt.h.
  ReceiptPtr receipt;

  const Field* field(std::string_view name) const {
    for (const auto& f : fields)
      if (f.name == name) return &f;
    return nullptr;
  }
};

}  // namespace foggate
