// The fixture the spool tests share: a spool in a temp dir on a manual
// clock, batches of deterministic contents, and a check that the stats
// gauges match the index after every change.
#pragma once

#include "foggate/storage/spool.h"

#include <memory>
#include <string>

#include "database_files.h"

namespace foggate::storage::testing {

// Deterministic blob contents, different per seed.
inline std::string blob(std::size_t size, uint64_t seed) {
  std::string b(size, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (char& c : b) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x & 0xff);
  }
  return b;
}

class SpoolTest : public ::testing::Test {
 protected:
  SpoolTest() { options_.path = dir_.path() + "/spool.db"; }

  std::unique_ptr<Spool> open() {
    auto s = Spool::open(options_, clock_);
    EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().detail);
    return s ? std::move(*s) : nullptr;
  }

  // Appends a batch of `size` bytes (contents from `seq`), created now.
  BatchInfo add(Spool& s, Priority p, uint64_t seq, std::size_t size = 100, uint32_t messages = 3) {
    auto r = s.append(p, seq, clock_.wall_ms(), messages, size * 2, blob(size, seq));
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().detail);
    expect_gauges(s);
    return r ? *r : BatchInfo{};
  }

  // The stats gauges always equal what the index says.
  static void expect_gauges(const Spool& s) {
    uint64_t sum = 0;
    for (Priority p : kAllPriorities) {
      EXPECT_EQ(s.stats().batches[index_of(p)].value(), static_cast<int64_t>(s.batches(p))) << to_string(p);
      EXPECT_EQ(s.stats().bytes[index_of(p)].value(), static_cast<int64_t>(s.bytes(p))) << to_string(p);
      sum += s.bytes(p);
    }
    EXPECT_EQ(sum, s.total_bytes());
  }

  TempDir dir_;
  SpoolOptions options_;
  ManualClock clock_;
};

}  // namespace foggate::storage::testing
