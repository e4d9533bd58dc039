// The uplink batch decoder against hostile batches: every malformed part
// is refused with a reason, nothing is allocated for lengths alone.
#include "uplink_codec_support.h"

#include <limits>
#include <string>
#include <vector>

namespace foggate::protocols::uplink_test {
namespace {

// --- hostile batches ------------------------------------------------------------

TEST(UplinkCodecTest, HostileBaseDocumentIsValid) {
  auto out = decode_batch(deflate_all(pack_doc(base_doc())));
  ASSERT_TRUE(out) << out.error().detail;
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ(payload_json((*out)[0]), R"({"a":7})");
}

TEST(UplinkCodecTest, RejectsWhatIsNotOneZlibStream) {
  EXPECT_EQ(decode_error("").substr(0, 5), "zlib:");
  EXPECT_EQ(decode_error("not zlib at all").substr(0, 5), "zlib:");
  const EncodedBatch b = encode({json_item(R"({"t":1})")});
  for (std::size_t cut : {std::size_t{1}, std::size_t{2}, b.bytes.size() / 2, b.bytes.size() - 1}) {
    EXPECT_EQ(decode_error(std::string_view(b.bytes).substr(0, cut)), "zlib: truncated stream")
        << cut;
  }
  EXPECT_EQ(decode_error(b.bytes + "x"), "zlib: 1 bytes after the end of the zlib stream");
  EXPECT_EQ(decode_error(b.bytes + b.bytes).substr(0, 5), "zlib:");
  std::string flipped = b.bytes;
  flipped[flipped.size() - 1] = static_cast<char>(flipped.back() ^ 1);  // Adler-32
  EXPECT_EQ(decode_error(flipped).substr(0, 5), "zlib:");
}

TEST(UplinkCodecTest, ZlibBombStopsAtTheOutputLimit) {
  const std::string zeros(100u << 20, '\0');
  const std::string bomb = deflate_all(zeros, 1);
  ASSERT_LT(bomb.size(), 1u << 20);  // 457 KB at level 1: 230 to 1
  DecodeBatchLimits limits;
  limits.max_output_bytes = 1u << 20;
  EXPECT_EQ(decode_error(bomb, limits).substr(0, 10), "too_large:");
  // At the default 64 MiB it is still too large.
  EXPECT_EQ(decode_error(bomb).substr(0, 10), "too_large:");
}

TEST(UplinkCodecTest, RejectsZlibOfSomethingElse) {
  EXPECT_EQ(decode_error(deflate_all("")).substr(0, 13), "batch_format:");
  EXPECT_EQ(decode_error(deflate_all("hello, world")).substr(0, 13), "batch_format:");
  EXPECT_EQ(decode_error(deflate_all(R"({"v":1})")).substr(0, 13), "batch_format:");
  EXPECT_EQ(decode_error(deflate_all(msgpack_bytes([](Packer& p) { p.pack(1); }))),
            "batch_format: document is not a map");
  // Two documents back to back.
  EXPECT_EQ(decode_error(deflate_all(pack_doc(base_doc()) + pack_doc(base_doc()))).substr(0, 13),
            "batch_format:");
}

TEST(UplinkCodecTest, RejectsOtherVersions) {
  auto doc = base_doc();
  set(doc, "v", value(3));
  EXPECT_EQ(doc_error(doc), "batch_version: version 3");
  // Only the version is read when it is unknown.
  set(doc, "cols", value(std::string("whatever")));
  EXPECT_EQ(doc_error(doc), "batch_version: version 3");
  set(doc, "v", value(std::string("1")));
  EXPECT_EQ(doc_error(doc), "batch_format: v is missing or not a uint");
}

TEST(UplinkCodecTest, RejectsIndexesOutOfRange) {
  auto doc = base_doc();
  set(doc, "topic", value(std::vector<int>{1}));
  EXPECT_EQ(doc_error(doc), "batch_format: topic[0] is not a uint below 1");
  doc = base_doc();
  set(doc, "device", value(std::vector<int>{-1}));
  EXPECT_EQ(doc_error(doc), "batch_format: device[0] is not a uint below 1");
  doc = base_doc();
  set(doc, "src", value(std::vector<int>{2}));
  EXPECT_EQ(doc_error(doc), "batch_format: src[0] is not a uint below 2");
  doc = base_doc();
  set(doc, "pschema", value(std::vector<int>{1}));
  EXPECT_EQ(doc_error(doc), "batch_format: pschema[0] is not -1 or a schema index below 1");
  doc = other_doc(value(1));
  set(doc, "other", [](Packer& p) { p.pack_array(0); });
  EXPECT_EQ(doc_error(doc), "batch_format: other has 0 elements, n is 1");
  EXPECT_EQ(doc_error(other_doc(value(1))), "");
}

TEST(UplinkCodecTest, RejectsArrayLengthsThatDisagreeWithN) {
  for (const char* key : {"topic", "device", "src", "flags", "rx", "pschema"}) {
    auto doc = base_doc();
    set(doc, key, value(std::vector<int>{0, 0}));
    EXPECT_EQ(doc_error(doc), std::string("batch_format: ") + key + " has 2 elements, n is 1");
  }
  auto doc = base_doc();
  set(doc, "ts", value(std::vector<int>{}));
  EXPECT_EQ(doc_error(doc), "batch_format: ts has 0 elements, n is 1");
  doc = base_doc();
  set(doc, "cols", [](Packer& p) {  // a column with two values for one row
    p.pack_array(1);
    p.pack_array(1);
    p.pack_map(1);
    p.pack(std::string("i"));
    p.pack(std::vector<int>{7, 1});
  });
  EXPECT_EQ(doc_error(doc), "batch_format: cols[0][0]: column does not hold 1 values");
  doc = base_doc();
  set(doc, "cols", value(std::vector<std::vector<int>>{{}}));  // no column for key "a"
  EXPECT_EQ(doc_error(doc), "batch_format: cols[0] does not hold one column per key");
}

TEST(UplinkCodecTest, RejectsHugeN) {
  auto doc = base_doc();
  set(doc, "n", value(std::numeric_limits<uint64_t>::max()));
  EXPECT_EQ(doc_error(doc), "batch_format: n is 18446744073709551615, limit 1000000");
  set(doc, "n", value(1'000'000));
  EXPECT_EQ(doc_error(doc), "batch_format: topic has 1 elements, n is 1000000");
  set(doc, "n", value(2));
  DecodeBatchLimits limits;
  limits.max_messages = 1;
  EXPECT_EQ(decode_error(deflate_all(pack_doc(doc)), limits), "batch_format: n is 2, limit 1");
}

TEST(UplinkCodecTest, RejectsMalformedColumnsAndDeltas) {
  auto column = [](const Writer& w) {
    return Writer([w](Packer& p) {
      p.pack_array(1);
      p.pack_array(1);
      w(p);
    });
  };
  auto doc = base_doc();
  set(doc, "cols", column([](Packer& p) {
        p.pack_map(2);
        p.pack(std::string("e"));
        p.pack(10);
        p.pack(std::string("i"));
        p.pack(std::vector<int>{7});
      }));
  EXPECT_EQ(doc_error(doc), "batch_format: cols[0][0]: column \"e\" is not an int in 1..9");
  set(doc, "cols", column([](Packer& p) {
        p.pack_map(2);
        p.pack(std::string("v"));
        p.pack(std::vector<int>{7});
        p.pack(std::string("i"));
        p.pack(std::vector<int>{7});
      }));
  EXPECT_EQ(doc_error(doc).substr(0, 32), "batch_format: cols[0][0]: column");
  set(doc, "cols", column([](Packer& p) {
        p.pack_map(1);
        p.pack(std::string("i"));
        p.pack(std::vector<double>{7.5});
      }));
  EXPECT_EQ(doc_error(doc), "batch_format: cols[0][0]: column delta is not an int or overflows");

  doc = base_doc();
  set(doc, "n", value(2));
  for (const char* k : {"topic", "device", "src", "flags", "pschema"}) {
    set(doc, k, value(std::vector<int>{0, 0}));
  }
  set(doc, "ts", value(std::vector<int>{0, 0}));
  set(doc, "rx", value(std::vector<int64_t>{std::numeric_limits<int64_t>::max(), 1}));
  EXPECT_EQ(doc_error(doc), "batch_format: rx[1] is not an int delta (or overflows)");
}

TEST(UplinkCodecTest, RejectsWhatTheFormatDoesNotAllow) {
  auto doc = base_doc();
  set(doc, "prio", value(std::string("urgent")));
  EXPECT_EQ(doc_error(doc), "batch_format: prio is not a priority");
  doc = base_doc();
  set(doc, "schemas", value(std::vector<std::vector<std::string>>{{"a", "a"}}));
  set(doc, "cols", [](Packer& p) {
    p.pack_array(1);
    p.pack_array(2);
    for (int i = 0; i < 2; ++i) {
      p.pack_map(1);
      p.pack(std::string("i"));
      p.pack(std::vector<int>{7});
    }
  });
  EXPECT_EQ(doc_error(doc), "batch_format: schemas[0] repeats a key");
  EXPECT_EQ(doc_error(other_doc([](Packer& p) {
              p.pack_ext(1, 3);
              p.pack_ext_body("\x01", 1);
            })),
            "batch_format: msgpack: ext value");
  EXPECT_EQ(doc_error(other_doc([](Packer& p) {
              p.pack_map(1);
              p.pack(1);
              p.pack(1);
            })),
            "batch_format: msgpack: map key of type int");
  EXPECT_EQ(doc_error(other_doc([](Packer& p) {
              p.pack_str(1);
              p.pack_str_body("\xff", 1);
            })),
            "batch_format: msgpack: string is not valid UTF-8");
  EXPECT_EQ(doc_error(other_doc([](Packer& p) {
              for (int i = 0; i < 32; ++i) p.pack_array(1);
              p.pack_nil();
            })),
            "");  // as deep as a JSON payload may be
  EXPECT_EQ(doc_error(other_doc([](Packer& p) {
              for (int i = 0; i < 33; ++i) p.pack_array(1);
              p.pack_nil();
            })),
            "batch_format: msgpack: nested deeper than 34");
  EXPECT_EQ(doc_error(other_doc([](Packer& p) {
              p.pack_map(2);
              p.pack(std::string("k"));
              p.pack(1);
              p.pack(std::string("k"));
              p.pack(2);
            })),
            "batch_format: other[0]: map with duplicate keys");
  doc = base_doc();
  doc.erase(doc.begin() + 5);  // "n"
  EXPECT_EQ(doc_error(doc), "batch_format: missing key n");
}

TEST(UplinkCodecTest, LengthHeadersWithoutTheirElementsAllocateNothing) {
  // Thirty nested arrays each claiming 2^32-1 elements: were msgpack-c to see
  // this it would reserve ~100 GB per level before noticing the truncation.
  std::string doc = pack_doc(base_doc());
  std::string bomb = doc.substr(0, doc.size() - 1);  // drop "other"'s empty array
  for (int i = 0; i < 30; ++i) bomb += std::string("\xdd\xff\xff\xff\xff", 5);
  EXPECT_EQ(decode_error(deflate_all(bomb)), "batch_format: msgpack: truncated");
  std::string map_bomb = doc.substr(0, doc.size() - 1) + std::string("\xdf\xff\xff\xff\xff", 5);
  EXPECT_EQ(decode_error(deflate_all(map_bomb)), "batch_format: msgpack: truncated");
  std::string str_bomb = doc.substr(0, doc.size() - 1) + std::string("\xdb\xff\xff\xff\xff", 5);
  EXPECT_EQ(decode_error(deflate_all(str_bomb)), "batch_format: msgpack: truncated");
}

// Every single-byte change and every truncation of a real document must be
// either decoded or rejected; ASan/UBSan builds make this a memory check.
TEST(UplinkCodecTest, MutatedDocumentsNeverCrash) {
  std::vector<BatchItem> items;
  items.push_back(json_item(R"({"t":55.12,"n":3,"s":"x"})"));
  items.push_back(json_item(R"({"t":55.13,"n":4,"s":"y"})"));
  items.push_back(json_item(R"([1,{"a":null}])"));
  items.push_back(json_item("garbage{"));
  const std::string doc = inflate_all(encode(items).bytes);
  std::size_t decoded = 0, rejected = 0;
  for (std::size_t i = 0; i < doc.size(); ++i) {
    for (const int b : {0x00, 0x01, 0x7f, 0x80, 0xc0, 0xc1, 0xcf, 0xd3, 0xdc, 0xdd, 0xde, 0xff}) {
      std::string m = doc;
      m[i] = static_cast<char>(b);
      (decode_batch(deflate_all(m, 1)) ? decoded : rejected)++;
    }
    (decode_batch(deflate_all(doc.substr(0, i), 1)) ? decoded : rejected)++;
  }
  EXPECT_GT(rejected, 0u);
  EXPECT_GT(decoded, 0u);
}


}  // namespace
}  // namespace foggate::protocols::uplink_test
