#include "uplink/batch_readings.h"

#include <gtest/gtest.h>

#include "foggate/protocols/uplink_codec.h"

namespace foggate::gateway {
namespace {

std::shared_ptr<const Message> msg(std::string payload, PayloadFormat f, int64_t ts = 0) {
  auto m = std::make_shared<Message>();
  m->topic = "sensors/d1/env";
  m->device = "d1";
  m->payload = std::move(payload);
  m->format = f;
  m->sensor_ts_ms = ts;
  m->received_ms = 1'700'000'000'000;
  return m;
}

std::string encode(const std::vector<protocols::BatchItem>& items, bool summary = false) {
  protocols::BatchHeader h{"gw", 1, Priority::kLow, 1'700'000'000'500, summary};
  auto b = protocols::encode_batch(h, items);
  EXPECT_TRUE(b);
  return b ? b->bytes : std::string();
}

// A spooled batch back into readings, fields as ingest makes them.
TEST(BatchReadingsTest, FieldsFlattenedRawWithoutFieldsFlagsKept) {
  const auto blob = encode({{msg(R"({"t":21.5,"env":{"h":40,"ok":true},"list":[1],"s":"x","n":null,"ts":17})",
                                 PayloadFormat::kJson, 17), 0},
                            {msg("\x01\x02", PayloadFormat::kJson), 0},
                            {msg("12.5", PayloadFormat::kNumber), protocols::kFlagOffloaded}});
  auto r = batch_readings(blob);
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_FALSE(r->summary);
  ASSERT_EQ(r->messages.size(), 3u);
  const Message& a = *r->messages[0];
  EXPECT_EQ(a.device, "d1");
  EXPECT_EQ(a.topic, "sensors/d1/env");
  EXPECT_EQ(a.sensor_ts_ms, 17);
  EXPECT_EQ(a.received_ms, 1'700'000'000'000);
  ASSERT_EQ(a.fields.size(), 5u);
  EXPECT_EQ(a.fields[0].name, "t");
  EXPECT_EQ(*a.fields[0].number(), 21.5);
  EXPECT_EQ(a.fields[1].name, "env.h");
  EXPECT_EQ(a.fields[2].name, "env.ok");
  EXPECT_EQ(a.fields[3].name, "s");
  EXPECT_EQ(a.fields[4].name, "ts");
  EXPECT_TRUE(r->messages[1]->fields.empty()) << "raw bytes have no fields";
  ASSERT_EQ(r->messages[2]->fields.size(), 1u);
  EXPECT_EQ(r->messages[2]->fields[0].name, "value");
  EXPECT_EQ(r->offloaded, (std::vector<bool>{false, false, true}));
}

TEST(BatchReadingsTest, SummaryBatchesAreRecognisedAndGarbageIsAnError) {
  auto r = batch_readings(encode({{msg(R"({"field":"t","count":2,"last_ts":5})", PayloadFormat::kJson), 0}}, true));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->summary);
  EXPECT_FALSE(batch_readings("not a batch"));
}

}  // namespace
}  // namespace foggate::gateway
