#include "uplink/batch_readings.h"

#include "foggate/protocols/json.h"
#include "foggate/protocols/uplink_codec.h"

namespace foggate::gateway {
namespace {

void flatten(const protocols::JsonValue& v, const std::string& prefix, std::vector<Field>& out) {
  for (const auto& [key, value] : v.members()) {
    const std::string name = prefix.empty() ? key : prefix + "." + key;
    switch (value.type()) {
      case protocols::JsonValue::Type::kNumber: out.push_back({name, value.as_number()}); break;
      case protocols::JsonValue::Type::kBool: out.push_back({name, value.as_bool()}); break;
      case protocols::JsonValue::Type::kString: out.push_back({name, value.as_string()}); break;
      case protocols::JsonValue::Type::kObject: flatten(value, name, out); break;
      default: break;  // arrays and nulls are not fields
    }
  }
}

}  // namespace

Result<BatchReadings> batch_readings(std::string_view blob) {
  auto records = protocols::decode_batch(blob);
  if (!records) return unexpected(records.error());
  BatchReadings out;
  out.messages.reserve(records->size());
  for (const auto& r : *records) {
    const auto flags = static_cast<uint32_t>(r.find("flags")->as_number());
    if ((flags & protocols::kFlagSummary) != 0) out.summary = true;
    auto m = std::make_shared<Message>();
    m->device = r.find("device")->as_string();
    m->topic = r.find("topic")->as_string();
    m->source = r.find("source")->as_string() == "coap" ? Source::kCoap : Source::kMqtt;
    if (const auto* ts = r.find("sensor_ts_ms")) m->sensor_ts_ms = static_cast<int64_t>(ts->as_number());
    m->received_ms = static_cast<int64_t>(r.find("received_ms")->as_number());
    const auto* payload = r.find("payload");
    if ((flags & protocols::kFlagRaw) == 0 && payload != nullptr && payload->is_object()) {
      flatten(*payload, "", m->fields);
    } else if (payload != nullptr && (flags & protocols::kFlagRaw) == 0) {
      // A bare value is the reading's only field, as ingest names it.
      if (payload->is_number()) m->fields.push_back({"value", payload->as_number()});
      else if (payload->is_bool()) m->fields.push_back({"value", payload->as_bool()});
      else if (payload->is_string()) m->fields.push_back({"value", payload->as_string()});
    }
    out.offloaded.push_back((flags & protocols::kFlagOffloaded) != 0);
    out.messages.push_back(std::move(m));
  }
  return out;
}

}  // namespace foggate::gateway
