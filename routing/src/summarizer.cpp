#include "foggate/routing/summarizer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace foggate::routing {
namespace {

// Shortest text that reads back as the same double (JSON has no NaN or
// infinity; payload decoding never produces them, null guards anyway).
void append_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, ec == std::errc() ? end : buf);
}

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, ec == std::errc() ? end : buf);
}

// Field names and string values come from decoded payloads (valid UTF-8);
// only quotes, backslashes and control characters need escaping.
void append_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

void append_value(std::string& out, const std::variant<double, bool, std::string>& v) {
  if (const auto* d = std::get_if<double>(&v)) append_number(out, *d);
  else if (const auto* b = std::get_if<bool>(&v)) out += *b ? "true" : "false";
  else append_string(out, std::get<std::string>(v));
}

}  // namespace

std::string summary_json(std::string_view field, uint64_t count, uint64_t numeric, double min, double max,
                         double mean, double first, int64_t first_ts,
                         const std::variant<double, bool, std::string>* last, int64_t last_ts) {
  std::string out = "{\"field\":";
  append_string(out, field);
  out += ",\"count\":";
  append_int(out, static_cast<int64_t>(count));
  if (numeric > 0) {
    out += ",\"min\":";
    append_number(out, min);
    out += ",\"max\":";
    append_number(out, max);
    out += ",\"mean\":";
    append_number(out, mean);
    out += ",\"first\":";
    append_number(out, first);
    out += ",\"first_ts\":";
    append_int(out, first_ts);
  }
  if (last != nullptr) {
    out += ",\"last\":";
    append_value(out, *last);
  }
  out += ",\"last_ts\":";
  append_int(out, last_ts);
  out += '}';
  return out;
}

void Summarizer::add(const Message& m, bool offloaded) {
  ++readings_;
  if (m.receipt) receipts_.push_back(m.receipt);
  bool any = false;
  std::string key;
  for (const auto& f : m.fields) {
    if (f.name == timestamp_field_) continue;
    any = true;
    // '\0' cannot occur in a topic or device id from MQTT or CoAP paths;
    // it keeps "a"+"bc" apart from "ab"+"c".
    key.assign(m.device).append(1, '\0').append(m.topic).append(1, '\0').append(f.name);
    fold(key, m, f.name, &f, offloaded);
  }
  if (!any) {
    key.assign(m.device).append(1, '\0').append(m.topic).append(1, '\0');
    fold(key, m, std::string(), nullptr, offloaded);
  }
}

void Summarizer::fold(const std::string& key, const Message& m, const std::string& field, const Field* value,
                      bool offloaded) {
  auto [it, fresh] = index_.try_emplace(key, entries_.size());
  if (fresh) {
    Entry e;
    e.device = m.device;
    e.topic = m.topic;
    e.field = field;
    e.source = m.source;
    entries_.push_back(std::move(e));
  }
  Entry& e = entries_[it->second];
  const int64_t ts = m.sensor_ts_ms != 0 ? m.sensor_ts_ms : m.received_ms;
  e.any_sensor_ts |= m.sensor_ts_ms != 0;
  e.offloaded |= offloaded;
  ++e.count;
  if (value == nullptr) {
    e.last_ts = ts;
    return;
  }
  if (const double* d = value->number()) {
    if (e.numeric == 0) {
      e.min = e.max = e.first = *d;
      e.first_ts = ts;
    } else {
      e.min = std::min(e.min, *d);
      e.max = std::max(e.max, *d);
    }
    e.sum += *d;
    ++e.numeric;
  }
  e.last = value->value;
  e.last_ts = ts;
}

SummaryWindow Summarizer::flush(int64_t now_ms) {
  SummaryWindow w;
  w.readings = readings_;
  w.receipts = std::move(receipts_);
  w.summaries.reserve(entries_.size());
  w.offloaded.reserve(entries_.size());
  for (const Entry& e : entries_) {
    auto s = std::make_shared<Message>();
    s->source = e.source;
    s->topic = e.topic;
    s->device = e.device;
    s->format = PayloadFormat::kJson;
    const double mean = e.numeric > 0 ? e.sum / static_cast<double>(e.numeric) : 0.0;
    s->payload = summary_json(e.field, e.count, e.numeric, e.min, e.max, mean, e.first, e.first_ts,
                              e.field.empty() ? nullptr : &e.last, e.last_ts);
    s->sensor_ts_ms = e.any_sensor_ts ? e.last_ts : 0;
    s->received_ms = now_ms;
    w.summaries.push_back(std::move(s));
    w.offloaded.push_back(e.offloaded ? 1u : 0u);
  }
  index_.clear();
  entries_.clear();
  receipts_.clear();
  readings_ = 0;
  return w;
}

}  // namespace foggate::routing
