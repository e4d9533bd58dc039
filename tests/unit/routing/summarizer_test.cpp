#include "foggate/routing/summarizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "foggate/message/receipt.h"
#include "foggate/protocols/json.h"

namespace foggate::routing {
namespace {

Message reading(std::string device, std::string topic, std::vector<Field> fields, int64_t sensor_ts,
                int64_t rx = 1'700'000'000'000) {
  Message m;
  m.device = std::move(device);
  m.topic = std::move(topic);
  m.fields = std::move(fields);
  m.sensor_ts_ms = sensor_ts;
  m.received_ms = rx;
  return m;
}

protocols::JsonValue payload_of(const Message& m) {
  auto v = protocols::parse_json(m.payload);
  EXPECT_TRUE(v.has_value()) << m.payload;
  return v ? *v : protocols::JsonValue{};
}

double num(const protocols::JsonValue& v, std::string_view key) {
  const auto* f = v.find(key);
  EXPECT_TRUE(f != nullptr && f->is_number()) << key;
  return f != nullptr ? f->as_number() : -1;
}

// The summaries' figures equal a reference computation over the same
// readings: a straightforward second pass, per (device, topic, field).
TEST(SummarizerTest, FiguresEqualAReferenceComputation) {
  struct Ref {
    uint64_t count = 0;
    double min = 1e300, max = -1e300, sum = 0, first = 0, last = 0;
    int64_t first_ts = 0, last_ts = 0;
  };
  std::map<std::tuple<std::string, std::string, std::string>, Ref> ref;
  Summarizer s("ts");
  uint64_t x = 88172645463325252ull;
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  constexpr int kReadings = 5000;
  for (int i = 0; i < kReadings; ++i) {
    const std::string dev = "dev-" + std::to_string(next() % 7);
    const std::string topic = "sensors/" + dev + (next() % 2 ? "/temp" : "/power");
    const double t = static_cast<double>(static_cast<int64_t>(next() % 200'000) - 100'000) / 100.0;
    const double h = static_cast<double>(next() % 1'000'000) / 7.0;  // not a short decimal
    const int64_t ts = 1'700'000'000'000 + i * 10;
    std::vector<Field> fields{{"t", t}, {"ts", static_cast<double>(ts)}};
    if (i % 3 != 0) fields.push_back({"h", h});
    for (const auto& f : fields) {
      if (f.name == "ts") continue;
      auto& r = ref[{dev, topic, f.name}];
      const double v = *f.number();
      if (r.count == 0) {
        r.first = v;
        r.first_ts = ts;
      }
      ++r.count;
      r.min = std::min(r.min, v);
      r.max = std::max(r.max, v);
      r.sum += v;
      r.last = v;
      r.last_ts = ts;
    }
    s.add(reading(dev, topic, std::move(fields), ts), false);
  }
  EXPECT_EQ(s.readings(), static_cast<uint64_t>(kReadings));
  auto w = s.flush(1'800'000'000'000);
  EXPECT_EQ(w.readings, static_cast<uint64_t>(kReadings));
  ASSERT_EQ(w.summaries.size(), ref.size());
  for (const auto& m : w.summaries) {
    const auto p = payload_of(*m);
    const std::string field = p.find("field")->as_string();
    ASSERT_TRUE(ref.contains({m->device, m->topic, field})) << m->device << " " << m->topic << " " << field;
    const Ref& r = ref[{m->device, m->topic, field}];
    EXPECT_EQ(num(p, "count"), static_cast<double>(r.count));
    EXPECT_EQ(num(p, "min"), r.min);
    EXPECT_EQ(num(p, "max"), r.max);
    EXPECT_EQ(num(p, "mean"), r.sum / static_cast<double>(r.count));  // bit for bit: same order of sums
    EXPECT_EQ(num(p, "first"), r.first);
    EXPECT_EQ(num(p, "first_ts"), static_cast<double>(r.first_ts));
    EXPECT_EQ(num(p, "last"), r.last);
    EXPECT_EQ(num(p, "last_ts"), static_cast<double>(r.last_ts));
    EXPECT_EQ(m->sensor_ts_ms, r.last_ts);
    EXPECT_EQ(m->received_ms, 1'800'000'000'000);
    EXPECT_EQ(m->format, PayloadFormat::kJson);
    EXPECT_EQ(p.find("ts"), nullptr);
  }
  // A new window starts empty.
  EXPECT_TRUE(s.empty());
  EXPECT_TRUE(s.flush(0).summaries.empty());
}

TEST(SummarizerTest, NonNumericFieldsKeepTheLastValueAndFieldlessReadingsAreCounted) {
  Summarizer s("ts");
  s.add(reading("door-1", "sensors/door-1/state", {{"open", true}, {"who", std::string("a\"b")}}, 0, 100), false);
  s.add(reading("door-1", "sensors/door-1/state", {{"open", false}, {"who", std::string("c")}}, 0, 200), true);
  s.add(reading("cam-1", "sensors/cam-1/raw", {}, 500, 300), false);
  s.add(reading("cam-1", "sensors/cam-1/raw", {{"ts", 600.0}}, 600, 400), false);
  auto w = s.flush(1000);
  ASSERT_EQ(w.summaries.size(), 3u);
  EXPECT_EQ(w.readings, 4u);
  EXPECT_EQ(w.summaries[0]->payload, R"({"field":"open","count":2,"last":false,"last_ts":200})");
  EXPECT_EQ(w.summaries[1]->payload, R"({"field":"who","count":2,"last":"c","last_ts":200})");
  EXPECT_EQ(w.summaries[2]->payload, R"({"field":"","count":2,"last_ts":600})");
  // No sensor timestamp on the door: the summary carries none either.
  EXPECT_EQ(w.summaries[0]->sensor_ts_ms, 0);
  EXPECT_EQ(w.summaries[2]->sensor_ts_ms, 600);
  EXPECT_EQ(w.offloaded, (std::vector<uint32_t>{1, 1, 0}));
}

TEST(SummarizerTest, MixedFieldKeepsNumericFiguresAndTheLastValueOfAnyType) {
  Summarizer s;
  s.add(reading("d", "t", {{"v", 2.5}}, 10), false);
  s.add(reading("d", "t", {{"v", std::string("err")}}, 20), false);
  s.add(reading("d", "t", {{"v", -1.0}}, 30), false);
  s.add(reading("d", "t", {{"v", std::string("off")}}, 40), false);
  auto w = s.flush(0);
  ASSERT_EQ(w.summaries.size(), 1u);
  EXPECT_EQ(w.summaries[0]->payload,
            R"({"field":"v","count":4,"min":-1,"max":2.5,"mean":0.75,"first":2.5,"first_ts":10,"last":"off","last_ts":40})");
}

struct CountingReceipt : Receipt {
  explicit CountingReceipt(int& released) : released_(released) {}
  ~CountingReceipt() override { ++released_; }
  int& released_;
};

// Receipts stay with the window until it is flushed and its holder drops them.
TEST(SummarizerTest, ReceiptsTravelWithTheWindow) {
  int released = 0;
  Summarizer s;
  for (int i = 0; i < 3; ++i) {
    Message m = reading("d", "t", {{"v", 1.0 * i}}, i + 1);
    m.receipt = std::make_shared<CountingReceipt>(released);
    s.add(m, false);
  }
  EXPECT_EQ(released, 0);
  {
    auto w = s.flush(0);
    EXPECT_EQ(w.receipts.size(), 3u);
    EXPECT_EQ(released, 0);
  }
  EXPECT_EQ(released, 3);
}

}  // namespace
}  // namespace foggate::routing
