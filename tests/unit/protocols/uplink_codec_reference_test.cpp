// The reference decoder (examples/decode_batch.py, Python's msgpack and zlib)
// agrees with ours, and what the format achieves on a typical load.
#include "uplink_codec_support.h"

#include <unistd.h>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace foggate::protocols::uplink_test {
namespace {

// --- the reference decoder ----------------------------------------------------

std::vector<BatchItem> varied_items() {
  std::vector<BatchItem> items;
  for (int i = 0; i < 6; ++i) {
    Spec s;
    s.topic = "sensors/machine-" + std::to_string(i % 3) + "/temp";
    s.device = "machine-" + std::to_string(i % 3);
    s.payload = "{\"t\":" + std::to_string(20 + i) + "." + std::to_string(i * 7 % 100) +
                ",\"ok\":" + (i % 2 ? "true" : "false") + ",\"id\":\"m" + std::to_string(i) + "\"}";
    s.received_ms = 1'700'000'000'000 + i * 250;
    s.sensor_ts_ms = i % 3 == 1 ? 0 : 1'700'000'000'000 + i * 240;
    s.source = i % 4 == 0 ? Source::kCoap : Source::kMqtt;
    items.push_back(item(s));
  }
  const char* others[] = {R"({"env":{"t":1.5,"h":[1,2,3]}})", "[1,2.5,\"x\",null,true]", "42",
                          "-1e-7",
                          "\"str\\u00e9\"", R"({"x":1e300,"y":-0.000001,"z":12345678901234567890})",
                          R"({"mixed":1})", R"({"mixed":"a"})", R"({"mixed":true})",
                          R"({"tiny":1e-10})",
                          R"({"third":0.30000000000000004})", R"({"unicode":"\u2603 snow"})"};
  for (const char* o : others) {
    Spec s;
    s.payload = o;
    s.received_ms = 1'700'000'001'000;
    items.push_back(item(s));
  }
  Spec raw;
  raw.payload = std::string("\x01\x02\xfe{", 4);
  raw.flags = kFlagOffloaded;
  items.push_back(item(raw));
  Spec mp;
  mp.format = PayloadFormat::kMsgpack;
  mp.payload = msgpack_bytes([](Packer& p) {
    p.pack_map(3);
    p.pack(std::string("f"));
    p.pack_float(0.1f);
    p.pack(std::string("b"));
    p.pack_bin(2);
    p.pack_bin_body("\xff\x00", 2);
    p.pack(std::string("u"));
    p.pack(std::numeric_limits<uint64_t>::max());
  });
  items.push_back(item(mp));
  return items;
}

// Runs `command`, returns its output lines; the command is bounded by
// timeout(1) so that a hung interpreter fails the test instead of hanging it.
std::vector<std::string> run_lines(const std::string& command, int& status) {
  std::vector<std::string> lines;
  FILE* f = popen(command.c_str(), "r");
  if (f == nullptr) {
    status = -1;
    return lines;
  }
  std::string line;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, f) != nullptr) {
    line += buf;
    if (!line.empty() && line.back() == '\n') {
      line.pop_back();
      lines.push_back(std::move(line));
      line.clear();
    }
  }
  if (!line.empty()) lines.push_back(line);
  status = pclose(f);
  return lines;
}

const std::filesystem::path kPython = "/usr/bin/python3";  // Debian's, with python3-msgpack

// Runs examples/decode_batch.py on `batch` (through a temporary file).
std::vector<std::string> run_reference_decoder(const std::string& batch, int& status) {
  const auto file = std::filesystem::temp_directory_path() /
                    ("foggate_uplink_" + std::to_string(::getpid()) + ".bin");
  {
    std::ofstream out(file, std::ios::binary);
    out.write(batch.data(), static_cast<std::streamsize>(batch.size()));
  }
  const auto script = std::filesystem::path(FOGGATE_SOURCE_DIR) / "examples/decode_batch.py";
  auto lines = run_lines(
      "timeout 60 " + kPython.string() + " " + script.string() + " " + file.string() + " 2>&1",
      status);
  std::filesystem::remove(file);
  return lines;
}

// examples/decode_batch.py prints the same documents as decode_batch(), one per line.
template <typename Decoded>
void expect_reference_decoder_agrees(const std::string& batch, const Decoded& ours) {
  int status = 0;
  const auto lines = run_reference_decoder(batch, status);
  ASSERT_EQ(status, 0) << (lines.empty() ? "" : lines.front());
  ASSERT_EQ(lines.size(), ours.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto theirs = parse_json(lines[i]);
    ASSERT_TRUE(theirs) << lines[i];
    EXPECT_EQ(to_json(*theirs), to_json(ours[i])) << "message " << i << "\npython: " << lines[i];
  }
}

TEST(UplinkCodecTest, ReferencePythonDecoderAgrees) {
  if (!std::filesystem::exists(kPython)) GTEST_SKIP() << "no " << kPython;
  const auto items = varied_items();
  ASSERT_GE(items.size(), 20u);
  const EncodedBatch b = encode(items, header(Priority::kLow));
  auto ours = decode_batch(b.bytes);
  ASSERT_TRUE(ours) << ours.error().detail;

  expect_reference_decoder_agrees(b.bytes, *ours);
}

// Summary batches (issue #15) are version 2 with "kind": "summary" and the
// summary flag on every message; both decoders show "summary": true.
TEST(UplinkCodecTest, SummaryBatchesAreMarkedAndBothDecodersShowThem) {
  std::vector<BatchItem> items;
  items.push_back(json_item(R"({"field":"t","count":3,"min":1.5,"max":4,"mean":2.5,"first":2,"first_ts":10,"last":4,"last_ts":30})", 1000));
  items.push_back(json_item(R"({"field":"t","count":1,"min":7,"max":7,"mean":7,"first":7,"first_ts":20,"last":7,"last_ts":20})", 1000));
  items[1].flags = kFlagOffloaded;
  BatchHeader h = header(Priority::kLow);
  h.summary = true;
  const EncodedBatch b = encode(items, h);
  auto ours = decode_batch(b.bytes);
  ASSERT_TRUE(ours) << ours.error().detail;
  ASSERT_EQ(ours->size(), 2u);
  EXPECT_EQ(to_json((*ours)[0]),
            R"({"gateway":"gw-7","seq":42,"priority":"low","created_ms":1700000000500,)"
            R"("device":"dev-1","topic":"sensors/dev-1/temp","source":"mqtt","received_ms":1000,)"
            R"("flags":4,"summary":true,"payload":{"field":"t","count":3,"min":1.5,"max":4,"mean":2.5,)"
            R"("first":2,"first_ts":10,"last":4,"last_ts":30}})");
  EXPECT_EQ((*ours)[1].find("flags")->as_number(), kFlagSummary | kFlagOffloaded);
  // A full-resolution batch stays version 1 and has no "summary" key.
  auto plain = decode_batch(encode(items, header(Priority::kLow)).bytes);
  ASSERT_TRUE(plain);
  EXPECT_EQ((*plain)[0].find("summary"), nullptr);
  EXPECT_EQ((*plain)[0].find("flags")->as_number(), 0);

  if (std::filesystem::exists(kPython)) {
    expect_reference_decoder_agrees(b.bytes, *ours);
  }
}

TEST(UplinkCodecTest, RejectsVersion2WithoutTheSummaryKind) {
  auto doc = base_doc();
  set(doc, "v", value(2));
  EXPECT_EQ(doc_error(doc), "batch_format: kind is not \"summary\" in a version 2 batch");
}

TEST(UplinkCodecTest, ReferencePythonDecoderRejectsHostileBatches) {
  if (!std::filesystem::exists(kPython)) GTEST_SKIP() << "no " << kPython;
  auto doc = base_doc();
  set(doc, "topic", value(std::vector<int>{3}));
  int status = 0;
  const auto lines = run_reference_decoder(deflate_all(pack_doc(doc)), status);
  EXPECT_NE(status, 0);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("batch_format: topic[0] is not a uint below 1"), std::string::npos)
      << lines[0];
}

// Not an assertion on size: prints what the format achieves on a typical
// sensor load (1000 readings from 100 devices).
TEST(UplinkCodecTest, CompressionOnTypicalSensorLoad) {
  std::mt19937 rng(1);
  std::normal_distribution<double> noise(0.0, 0.05);
  std::vector<double> temp(100);
  for (std::size_t d = 0; d < temp.size(); ++d) temp[d] = 40.0 + static_cast<double>(d) * 0.3;
  std::vector<BatchItem> varying, constant;
  for (int i = 0; i < 1000; ++i) {
    const int d = i % 100;
    const int64_t ts = 1'700'000'000'123 + (i / 100) * 1000 + d * 3;
    temp[d] = std::round((temp[d] + noise(rng)) * 100) / 100;
    Spec s;
    s.topic = "sensors/machine-" + std::to_string(d) + "/temp";
    s.device = "machine-" + std::to_string(d);
    std::string t;
    append_json_number(t, temp[d]);
    s.payload = "{\"t\":" + t + ",\"ts\":" + std::to_string(ts) + "}";
    s.sensor_ts_ms = ts;
    s.received_ms = ts + 4 + i % 7;
    varying.push_back(item(s));
    s.payload = R"({"t":55.12,"ts":1700000000123})";
    constant.push_back(item(s));
  }
  for (const auto* load : {&varying, &constant}) {
    for (int level : {6, 9}) {
      const auto b = encode_batch(header(), *load, level);
      ASSERT_TRUE(b);
      auto out = decode_batch(b->bytes);
      ASSERT_TRUE(out);
      ASSERT_EQ(out->size(), 1000u);
      std::printf("[ uplink   ] %s load, zlib %d: raw_bytes %llu -> %zu bytes (%.2f%%)\n",
                  load == &varying ? "varying t" : "constant", level,
                  static_cast<unsigned long long>(b->raw_bytes), b->bytes.size(),
                  100.0 * static_cast<double>(b->bytes.size()) / static_cast<double>(b->raw_bytes));
    }
  }
  EXPECT_EQ(payload_json((*decode_batch(encode(varying).bytes))[0]), varying[0].message->payload);
}


}  // namespace
}  // namespace foggate::protocols::uplink_test
