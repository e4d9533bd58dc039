// micro_bench: Google Benchmark timings of the per-message hot paths
// (decode, topic matching, classification, detectors) and of the uplink
// batch encoder, on generated data: 1000 devices publishing 52-byte JSON
// readings such as {"t":21.53,"h":48.2,"seq":12345,"ts":1763900000123}.
// A benchmark, not a test: it prints figures and asserts nothing
// (docs/benchmarks.md, "Micro-benchmarks (hot paths)").
//
//   build/bench/micro_bench --benchmark_min_time=0.5
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <msgpack.hpp>

#include "foggate/base/clock.h"
#include "foggate/message/topic.h"
#include "foggate/protocols/payload_decoder.h"
#include "foggate/protocols/uplink_codec.h"
#include "foggate/routing/detectors.h"
#include "foggate/routing/rule_set.h"

using namespace foggate;

namespace {

constexpr int kDevices = 1000;
constexpr int kLoad = 8192;  // messages per data set: several readings per device
const char* const kMetrics[] = {"temp", "hum", "power", "smoke"};

// One reading: the values every format encodes.
struct Reading {
  int device;
  double t;
  double h;
  int seq;
  int64_t ts;
};

std::vector<Reading> make_readings() {
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0, 0.3);
  std::vector<Reading> out;
  int64_t ts = 1'763'900'000'000;
  for (int i = 0; i < kLoad; ++i) {
    const int d = i % kDevices;
    out.push_back({d, 21.0 + d % 10 + noise(rng), 48.0 + d % 7 + noise(rng), 12'000 + i, ts += 7});
  }
  return out;
}

Message make_message(const Reading& r, PayloadFormat format) {
  Message m;
  m.device = "dev-" + std::to_string(r.device);
  m.metric = kMetrics[r.device % 4];
  m.topic = "sensors/" + m.device + "/" + m.metric;
  m.received_ms = r.ts + 3;
  char buf[96];
  switch (format) {
    case PayloadFormat::kNumber:
      std::snprintf(buf, sizeof buf, "%.2f", r.t);
      m.payload = buf;
      break;
    case PayloadFormat::kMsgpack: {
      msgpack::sbuffer sb;
      msgpack::packer<msgpack::sbuffer> pk(sb);
      pk.pack_map(4);
      pk.pack("t");
      pk.pack(r.t);
      pk.pack("h");
      pk.pack(r.h);
      pk.pack("seq");
      pk.pack(r.seq);
      pk.pack("ts");
      pk.pack(r.ts);
      m.payload.assign(sb.data(), sb.size());
      break;
    }
    default:
      std::snprintf(buf, sizeof buf, R"({"t":%.2f,"h":%.1f,"seq":%d,"ts":%lld})", r.t, r.h, r.seq,
                    static_cast<long long>(r.ts));
      m.payload = buf;
  }
  return m;
}

// Messages with their payload decoded, as the rules and detectors see them.
std::vector<Message> decoded_load() {
  std::vector<Message> out;
  for (const auto& r : make_readings()) {
    out.push_back(make_message(r, PayloadFormat::kJson));
    if (!protocols::decode_payload(out.back(), {})) std::abort();
  }
  return out;
}

void decode(benchmark::State& state, PayloadFormat format) {
  std::vector<Message> load;
  for (const auto& r : make_readings()) load.push_back(make_message(r, format));
  const protocols::DecodeOptions options;  // auto-detect, as ingest runs by default
  std::size_t i = 0;
  for (auto _ : state) {
    Message& m = load[i++ % load.size()];
    m.fields = {};  // a fresh vector, as for a newly received message
    auto r = protocols::decode_payload(m, options);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(m.fields.data());
  }
  state.SetItemsProcessed(state.iterations());
}
void BM_DecodeJson(benchmark::State& state) { decode(state, PayloadFormat::kJson); }
void BM_DecodeMsgpack(benchmark::State& state) { decode(state, PayloadFormat::kMsgpack); }
void BM_DecodeNumber(benchmark::State& state) { decode(state, PayloadFormat::kNumber); }
BENCHMARK(BM_DecodeJson);
BENCHMARK(BM_DecodeMsgpack);
BENCHMARK(BM_DecodeNumber);

const char* const kFilters[] = {"sensors/+/temp", "sensors/#", "$share/g/sensors/+/+"};

void BM_TopicMatch(benchmark::State& state) {
  const std::string_view filter = kFilters[state.range(0)];
  std::vector<std::string> topics;
  for (const auto& r : make_readings()) topics.push_back(make_message(r, PayloadFormat::kJson).topic);
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(topic_matches(filter, topics[i++ % topics.size()]));
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::string(filter));
}
BENCHMARK(BM_TopicMatch)->DenseRange(0, 2);

void BM_TopicExtract(benchmark::State& state) {
  std::vector<std::string> topics;
  for (const auto& r : make_readings()) topics.push_back(make_message(r, PayloadFormat::kJson).topic);
  std::size_t i = 0;
  for (auto _ : state) {
    TopicCaptures c;
    benchmark::DoNotOptimize(extract_topic("sensors/{device}/{metric}", topics[i++ % topics.size()], c));
    benchmark::DoNotOptimize(c);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TopicExtract);

routing::Predicate pred(std::string_view text) {
  auto p = routing::parse_predicate(text);
  if (!p) std::abort();
  return *p;
}

// Ten rules in the shape of examples/factory.json. Most readings match none
// and take the default, so classify() usually walks every rule.
void BM_RuleClassify(benchmark::State& state) {
  using routing::TaskKind;
  const std::vector<routing::TaskSpec> critical = {{TaskKind::kDetect, Priority::kCritical, 100},
                                                   {TaskKind::kForward, Priority::kCritical, 1000}};
  const std::vector<routing::TaskSpec> high = {{TaskKind::kForward, Priority::kHigh, 5000}};
  const std::vector<routing::Rule> rules = {
      {.name = "ignore-rigs", .device = "rig-*", .tasks = {{TaskKind::kDrop, Priority::kLow, 0}}},
      {.name = "fire", .topics = {"sensors/+/smoke"}, .when = {pred("smoke > 0.2")}, .tasks = critical},
      {.name = "pumps", .source = Source::kCoap, .device = "pump-*", .tasks = high},
      {.name = "door-open", .when = {pred("door == true")}, .tasks = high},
      {.name = "overheat", .topics = {"sensors/+/temp"}, .when = {pred("t > 70")}, .tasks = critical},
      {.name = "freezing", .topics = {"sensors/+/temp"}, .when = {pred("t < -20")}, .tasks = high},
      {.name = "humid", .topics = {"sensors/+/hum", "sensors/+/temp"}, .when = {pred("h >= 90")},
       .tasks = high},
      {.name = "power-spike", .topics = {"sensors/+/power"}, .when = {pred("t > 60"), pred("h > 80")},
       .tasks = high},
      {.name = "fault", .when = {pred("status == \"fault\"")}, .tasks = critical},
      {.name = "lab", .topics = {"lab/#"}, .device = "lab-??", .tasks = high},
  };
  const routing::RuleSet rule_set(rules, {{TaskKind::kDetect, Priority::kNormal, 5000},
                                          {TaskKind::kForward, Priority::kLow, 60000}});
  const std::vector<Message> load = decoded_load();
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(&rule_set.classify(load[i++ % load.size()]));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RuleClassify);

// A threshold and an anomaly detector on every device, readings round-robin
// over the 1000 devices (2000 detector states), one millisecond apart.
void BM_DetectorUpdate(benchmark::State& state) {
  auto specs = std::make_shared<const std::vector<routing::DetectorSpec>>(std::vector<routing::DetectorSpec>{
      {.name = "overheat", .type = routing::DetectorType::kThreshold, .field = "t", .max = 70,
       .hysteresis = 2},
      {.name = "humidity", .type = routing::DetectorType::kAnomaly, .field = "h", .z = 4, .window = 100,
       .warmup = 50},
  });
  ManualClock clock;
  routing::DetectorStats stats;
  routing::DetectorBank bank(specs, clock, stats);
  const std::vector<Message> load = decoded_load();
  std::vector<routing::Alert> alerts;
  std::size_t i = 0;
  for (auto _ : state) {
    alerts.clear();
    bank.evaluate(load[i++ % load.size()], alerts);
    benchmark::DoNotOptimize(alerts.data());
    clock.advance_ms(1);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["alerts"] = static_cast<double>(stats.raised.value() + stats.anomalies.value());
}
BENCHMARK(BM_DetectorUpdate);

// One 1000-message batch (each device about once) at the default zlib level.
void BM_BatchEncode(benchmark::State& state) {
  std::vector<protocols::BatchItem> items;
  const auto readings = make_readings();
  for (int i = 0; i < 1000; ++i) {
    Message m = make_message(readings[static_cast<std::size_t>(i)], PayloadFormat::kJson);
    if (!protocols::decode_payload(m, {})) std::abort();
    items.push_back({std::make_shared<const Message>(std::move(m)), 0});
  }
  uint64_t seq = 0, in = 0, out = 0;
  for (auto _ : state) {
    auto enc = protocols::encode_batch({"gw-1", ++seq, Priority::kNormal, 1'763'900'000'000}, items, 6);
    if (!enc) std::abort();
    in = enc->raw_bytes;
    out = enc->bytes.size();
    benchmark::DoNotOptimize(enc->bytes.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(items.size()));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(in));
  state.counters["out/in"] = in ? static_cast<double>(out) / static_cast<double>(in) : 0;
}
BENCHMARK(BM_BatchEncode)->Unit(benchmark::kMicrosecond);

}  // namespace
