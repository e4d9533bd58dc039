#include "foggate/storage/spool.h"

#include "database_files.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace foggate::storage {
namespace {

namespace fs = std::filesystem;
using namespace testing;  // database_files.h

// Deterministic blob contents, different per seed.
std::string blob(std::size_t size, uint64_t seed) {
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

TEST_F(SpoolTest, FifoWithinPriority) {
  auto s = open();
  ASSERT_TRUE(s);
  const BatchInfo n1 = add(*s, Priority::kNormal, 1);
  const BatchInfo h1 = add(*s, Priority::kHigh, 2);
  const BatchInfo n2 = add(*s, Priority::kNormal, 3, 50);
  EXPECT_LT(n1.id, h1.id);
  EXPECT_LT(h1.id, n2.id);
  EXPECT_EQ(s->next(Priority::kNormal)->id, n1.id);
  EXPECT_EQ(s->next(Priority::kHigh)->id, h1.id);
  EXPECT_FALSE(s->next(Priority::kLow));
  EXPECT_EQ(s->batches(Priority::kNormal), 2u);
  EXPECT_EQ(s->bytes(Priority::kNormal), 150u);
  EXPECT_EQ(s->total_bytes(), 250u);

  s->remove(n1.id);
  expect_gauges(*s);
  EXPECT_EQ(s->next(Priority::kNormal)->id, n2.id);
  EXPECT_EQ(s->next(Priority::kNormal)->seq, 3u);
  EXPECT_EQ(s->next(Priority::kNormal)->bytes, 50u);
  EXPECT_EQ(s->stats().removed[index_of(Priority::kNormal)].value(), 1u);
  EXPECT_EQ(s->stats().appended[index_of(Priority::kNormal)].value(), 2u);
  EXPECT_EQ(*s->read(n2.id), blob(50, 3));
  EXPECT_EQ(s->read(n1.id).error().reason, "spool_missing");
  s->remove(9999);  // unknown: no-op
  expect_gauges(*s);
  EXPECT_EQ(s->total_bytes(), 150u);
}

TEST_F(SpoolTest, NextSkipsInFlightAndClearInFlightResets) {
  auto s = open();
  ASSERT_TRUE(s);
  const BatchInfo a = add(*s, Priority::kHigh, 1);
  const BatchInfo b = add(*s, Priority::kHigh, 2);
  s->set_in_flight(a.id, true);
  EXPECT_EQ(s->next(Priority::kHigh)->id, b.id);
  s->set_in_flight(b.id, true);
  EXPECT_FALSE(s->next(Priority::kHigh));
  EXPECT_EQ(s->batches(Priority::kHigh), 2u) << "in flight still held";
  s->set_in_flight(a.id, false);
  EXPECT_EQ(s->next(Priority::kHigh)->id, a.id);
  s->set_in_flight(a.id, true);
  s->clear_in_flight();
  EXPECT_EQ(s->next(Priority::kHigh)->id, a.id);
  s->remove(a.id);
  EXPECT_EQ(s->next(Priority::kHigh)->id, b.id);
  expect_gauges(*s);
}

TEST_F(SpoolTest, CommittedSurviveReopenUncommittedDoNot) {
  BatchInfo a, b, c;
  {
    auto s = open();
    ASSERT_TRUE(s);
    a = add(*s, Priority::kNormal, 1, 300);
    b = add(*s, Priority::kCritical, 2, 0);  // empty blob is a blob
    ASSERT_TRUE(s->commit().has_value());
    EXPECT_EQ(s->stats().commits.value(), 1u);
    ASSERT_TRUE(s->commit().has_value());
    EXPECT_EQ(s->stats().commits.value(), 1u) << "nothing open: no-op";
    c = add(*s, Priority::kNormal, 3, 77);
    EXPECT_EQ(s->batches(Priority::kNormal), 2u);
  }  // destroyed without commit
  auto s = open();
  ASSERT_TRUE(s);
  expect_gauges(*s);
  EXPECT_EQ(s->batches(Priority::kNormal), 1u);
  EXPECT_EQ(s->batches(Priority::kCritical), 1u);
  EXPECT_EQ(s->total_bytes(), 300u);
  auto n = s->next(Priority::kNormal);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->id, a.id);
  EXPECT_EQ(n->seq, 1u);
  EXPECT_EQ(n->created_ms, a.created_ms);
  EXPECT_EQ(n->messages, 3u);
  EXPECT_EQ(n->raw_bytes, 600u);
  EXPECT_EQ(n->bytes, 300u);
  EXPECT_EQ(*s->read(a.id), blob(300, 1));
  EXPECT_EQ(*s->read(b.id), "");
  EXPECT_EQ(s->read(c.id).error().reason, "spool_missing");
  // Ids keep increasing past the rolled-back one.
  EXPECT_GT(add(*s, Priority::kNormal, 4).id, b.id);
}

TEST_F(SpoolTest, RemoveTakesEffectInTheDatabaseOnlyAfterCommit) {
  BatchInfo a, b;
  {
    auto s = open();
    ASSERT_TRUE(s);
    a = add(*s, Priority::kLow, 1);
    b = add(*s, Priority::kLow, 2);
    ASSERT_TRUE(s->commit().has_value());
    s->remove(a.id);
    EXPECT_EQ(s->batches(Priority::kLow), 1u);
  }
  {
    auto s = open();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->batches(Priority::kLow), 2u) << "uncommitted removal rolled back";
    s->remove(a.id);
    ASSERT_TRUE(s->commit().has_value());
  }
  auto s = open();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->batches(Priority::kLow), 1u);
  EXPECT_EQ(s->next(Priority::kLow)->id, b.id);
  expect_gauges(*s);
}

// Compaction (issue #15): a summary batch is appended and the batches it
// replaces are removed in one transaction; counted as compacted, not as
// acknowledged. waiting() lists what is not in flight, oldest first.
TEST_F(SpoolTest, CompactionReplacesBatchesAtomicallyAndIsCountedApart) {
  BatchInfo a, b, c;
  {
    auto s = open();
    ASSERT_TRUE(s);
    a = add(*s, Priority::kLow, 1, 100, 10);
    b = add(*s, Priority::kLow, 2, 100, 20);
    c = add(*s, Priority::kLow, 3, 100, 30);
    ASSERT_TRUE(s->commit());
    s->set_in_flight(b.id, true);
    auto w = s->waiting(Priority::kLow, 10);
    ASSERT_EQ(w.size(), 2u);
    EXPECT_EQ(w[0].id, a.id);
    EXPECT_EQ(w[1].id, c.id);
    EXPECT_EQ(s->waiting(Priority::kLow, 1).size(), 1u);
    // Staged, then lost with the process: neither the summary nor the removals.
    add(*s, Priority::kLow, 4, 50, 2);
    s->remove_compacted(a.id);
    s->remove_compacted(c.id);
  }
  auto s = open();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->batches(Priority::kLow), 3u) << "uncommitted compaction rolled back as a whole";
  const auto summary = add(*s, Priority::kLow, 4, 50, 2);
  s->remove_compacted(a.id);
  s->remove_compacted(c.id);
  ASSERT_TRUE(s->commit());
  EXPECT_EQ(s->stats().compacted[index_of(Priority::kLow)].value(), 2u);
  EXPECT_EQ(s->stats().compacted_messages[index_of(Priority::kLow)].value(), 40u);
  EXPECT_EQ(s->stats().removed[index_of(Priority::kLow)].value(), 0u);
  auto w = s->waiting(Priority::kLow, 10);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].id, b.id);
  EXPECT_EQ(w[1].id, summary.id);
  expect_gauges(*s);
}

TEST_F(SpoolTest, LastSeqSurvivesReopen) {
  {
    auto s = open();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->last_seq(), 0u);
    add(*s, Priority::kNormal, 5);
    add(*s, Priority::kNormal, 9);
    add(*s, Priority::kNormal, 7);
    EXPECT_EQ(s->last_seq(), 9u);
    ASSERT_TRUE(s->commit().has_value());
    const BatchInfo x = add(*s, Priority::kNormal, 20);
    EXPECT_EQ(s->last_seq(), 20u);
    (void)x;
  }
  {
    auto s = open();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->last_seq(), 9u) << "the uncommitted 20 is gone";
    // Removing every batch does not forget the sequence.
    while (auto n = s->next(Priority::kNormal)) s->remove(n->id);
    ASSERT_TRUE(s->commit().has_value());
  }
  auto s = open();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->last_seq(), 9u);
  EXPECT_EQ(s->batches(Priority::kNormal), 0u);
}

TEST_F(SpoolTest, EvictsLowestPriorityOldestFirstAndCriticalLast) {
  options_.max_bytes = 400;
  auto s = open();
  ASSERT_TRUE(s);
  const BatchInfo low1 = add(*s, Priority::kLow, 1, 100, 1);
  const BatchInfo crit1 = add(*s, Priority::kCritical, 2, 100, 2);
  const BatchInfo normal1 = add(*s, Priority::kNormal, 3, 100, 3);
  const BatchInfo high1 = add(*s, Priority::kHigh, 4, 100, 4);
  EXPECT_EQ(s->total_bytes(), 400u) << "at the limit: nothing evicted";
  const auto& st = s->stats();
  auto evicted = [&](Priority p) { return st.evicted[index_of(p)].value(); };
  auto evicted_messages = [&](Priority p) { return st.evicted_messages[index_of(p)].value(); };

  const BatchInfo low2 = add(*s, Priority::kLow, 5, 100, 5);
  EXPECT_EQ(evicted(Priority::kLow), 1u);
  EXPECT_EQ(evicted_messages(Priority::kLow), 1u);
  EXPECT_EQ(s->next(Priority::kLow)->id, low2.id) << "oldest low went first";
  EXPECT_EQ(s->read(low1.id).error().reason, "spool_missing");

  // Critical never goes while lower ones exist, even when it is the oldest.
  add(*s, Priority::kCritical, 6, 100, 6);
  EXPECT_EQ(evicted(Priority::kLow), 2u);
  EXPECT_EQ(evicted_messages(Priority::kLow), 6u);
  add(*s, Priority::kCritical, 7, 100, 7);
  EXPECT_EQ(evicted(Priority::kNormal), 1u);
  EXPECT_EQ(evicted_messages(Priority::kNormal), 3u);
  EXPECT_EQ(s->read(normal1.id).error().reason, "spool_missing");
  add(*s, Priority::kCritical, 8, 100, 8);
  EXPECT_EQ(evicted(Priority::kHigh), 1u);
  EXPECT_EQ(evicted_messages(Priority::kHigh), 4u);
  EXPECT_EQ(s->read(high1.id).error().reason, "spool_missing");
  EXPECT_EQ(evicted(Priority::kCritical), 0u);
  EXPECT_EQ(s->batches(Priority::kCritical), 4u);

  // Only critical left: the oldest critical goes.
  add(*s, Priority::kCritical, 9, 100, 9);
  EXPECT_EQ(evicted(Priority::kCritical), 1u);
  EXPECT_EQ(evicted_messages(Priority::kCritical), 2u);
  EXPECT_EQ(s->read(crit1.id).error().reason, "spool_missing");
  EXPECT_EQ(s->batches(Priority::kCritical), 4u);
  EXPECT_EQ(s->total_bytes(), 400u);

  // One append may evict several.
  add(*s, Priority::kCritical, 10, 250, 10);
  EXPECT_EQ(evicted(Priority::kCritical), 4u);
  EXPECT_EQ(s->batches(Priority::kCritical), 2u);
  EXPECT_EQ(s->total_bytes(), 350u);
  EXPECT_EQ(evicted(Priority::kLow), 2u);
  EXPECT_EQ(evicted(Priority::kNormal), 1u);
  EXPECT_EQ(evicted(Priority::kHigh), 1u);

  // Evictions are staged like everything else, and committed with it.
  ASSERT_TRUE(s->commit().has_value());
  s.reset();
  s = open();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->batches(Priority::kCritical), 2u);
  EXPECT_EQ(s->total_bytes(), 350u);
  expect_gauges(*s);
}

TEST_F(SpoolTest, EvictionSkipsInFlightWhileOthersExist) {
  options_.max_bytes = 300;
  auto s = open();
  ASSERT_TRUE(s);
  const BatchInfo low1 = add(*s, Priority::kLow, 1);
  const BatchInfo low2 = add(*s, Priority::kLow, 2);
  const BatchInfo normal1 = add(*s, Priority::kNormal, 3);
  s->set_in_flight(low1.id, true);
  add(*s, Priority::kCritical, 4);
  EXPECT_EQ(s->read(low2.id).error().reason, "spool_missing") << "in-flight low1 skipped";
  add(*s, Priority::kCritical, 5);
  EXPECT_EQ(s->read(normal1.id).error().reason, "spool_missing") << "not-in-flight normal before in-flight low";
  EXPECT_TRUE(s->read(low1.id).has_value());
  add(*s, Priority::kCritical, 6);
  EXPECT_EQ(s->read(low1.id).error().reason, "spool_missing") << "in flight, but before any critical";
  EXPECT_EQ(s->batches(Priority::kCritical), 3u);
  EXPECT_EQ(s->stats().evicted[index_of(Priority::kLow)].value(), 2u);
  EXPECT_EQ(s->stats().evicted[index_of(Priority::kNormal)].value(), 1u);
  s->remove(low1.id);  // the late acknowledgement of an evicted batch: no-op
  EXPECT_EQ(s->stats().removed[index_of(Priority::kLow)].value(), 0u);
  expect_gauges(*s);
}

TEST_F(SpoolTest, LowerPriorityAppendIntoAFullCriticalSpoolEvictsItself) {
  options_.max_bytes = 300;
  auto s = open();
  ASSERT_TRUE(s);
  for (uint64_t seq = 1; seq <= 3; ++seq) add(*s, Priority::kCritical, seq);
  const BatchInfo low = add(*s, Priority::kLow, 4, 100, 7);
  EXPECT_GT(low.id, 0);
  EXPECT_EQ(s->batches(Priority::kLow), 0u);
  EXPECT_EQ(s->batches(Priority::kCritical), 3u);
  EXPECT_EQ(s->stats().evicted[index_of(Priority::kLow)].value(), 1u);
  EXPECT_EQ(s->stats().evicted_messages[index_of(Priority::kLow)].value(), 7u);
  EXPECT_EQ(s->stats().appended[index_of(Priority::kLow)].value(), 1u);
  EXPECT_EQ(s->last_seq(), 4u) << "its sequence number was still used";
}

TEST_F(SpoolTest, ExpiresPerPriorityTtlAndZeroMeansNever) {
  options_.ttl_ms = {0, 1000, 2000, 500};  // critical never
  auto s = open();
  ASSERT_TRUE(s);
  add(*s, Priority::kCritical, 1, 100, 1);
  add(*s, Priority::kHigh, 2, 100, 2);
  add(*s, Priority::kNormal, 3, 100, 3);
  add(*s, Priority::kLow, 4, 100, 4);
  clock_.advance_ms(100);
  add(*s, Priority::kLow, 5, 100, 5);
  EXPECT_EQ(s->oldest_age_ms(Priority::kLow), 100);
  EXPECT_EQ(s->oldest_age_ms(Priority::kCritical), 100);
  EXPECT_EQ(s->oldest_age_ms(Priority::kHigh), 100);
  const auto& st = s->stats();

  clock_.advance_ms(400);  // low #4 exactly at its TTL: kept
  EXPECT_EQ(s->expire(), 0u);
  clock_.advance_ms(1);
  EXPECT_EQ(s->expire(), 1u);
  expect_gauges(*s);
  EXPECT_EQ(st.expired[index_of(Priority::kLow)].value(), 1u);
  EXPECT_EQ(st.expired_messages[index_of(Priority::kLow)].value(), 4u);
  EXPECT_EQ(s->batches(Priority::kLow), 1u);
  EXPECT_EQ(s->oldest_age_ms(Priority::kLow), 401);

  clock_.advance_ms(600);  // 1101: high and the second low
  EXPECT_EQ(s->expire(), 2u);
  EXPECT_EQ(st.expired[index_of(Priority::kHigh)].value(), 1u);
  EXPECT_EQ(st.expired_messages[index_of(Priority::kHigh)].value(), 2u);
  EXPECT_EQ(st.expired[index_of(Priority::kLow)].value(), 2u);
  EXPECT_EQ(st.expired_messages[index_of(Priority::kLow)].value(), 9u);
  EXPECT_EQ(s->oldest_age_ms(Priority::kLow), 0) << "none left";

  clock_.advance_ms(1000);
  EXPECT_EQ(s->expire(), 1u);
  EXPECT_EQ(st.expired[index_of(Priority::kNormal)].value(), 1u);
  EXPECT_EQ(st.expired_messages[index_of(Priority::kNormal)].value(), 3u);

  clock_.advance_ms(365LL * 86'400'000);
  EXPECT_EQ(s->expire(), 0u);
  EXPECT_EQ(s->batches(Priority::kCritical), 1u);
  EXPECT_EQ(st.expired[index_of(Priority::kCritical)].value(), 0u);
  expect_gauges(*s);

  ASSERT_TRUE(s->commit().has_value());
  s.reset();
  s = open();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->total_bytes(), 100u);
  EXPECT_EQ(s->batches(Priority::kCritical), 1u);
}

TEST_F(SpoolTest, GarbageFileIsMovedAsideAndAFreshSpoolWorks) {
  const std::string garbage = "\x13\x37 definitely not SQLite " + blob(600, 42);
  write_file(options_.path, garbage);
  write_file(options_.path + "-wal", "stale wal");
  auto s = open();
  ASSERT_TRUE(s);
  const std::string aside = "spool.db.corrupt-" + std::to_string(clock_.wall_ms());
  // SQLite made a -shm for the -wal it found; all three move together.
  EXPECT_EQ(moved_aside(dir_.path()), (std::vector<std::string>{aside, aside + "-shm", aside + "-wal"}));
  EXPECT_EQ(slurp(dir_.path() + "/" + aside), garbage);
  EXPECT_EQ(slurp(dir_.path() + "/" + aside + "-wal"), "stale wal");
  EXPECT_EQ(s->batches(Priority::kNormal), 0u);
  const BatchInfo a = add(*s, Priority::kNormal, 1);
  ASSERT_TRUE(s->commit().has_value());
  s.reset();
  s = open();
  ASSERT_TRUE(s);
  EXPECT_EQ(*s->read(a.id), blob(100, 1));
  EXPECT_EQ(moved_aside(dir_.path()).size(), 3u) << "the fresh spool is kept";
}

TEST_F(SpoolTest, HostileFixtureIsMovedAside) {
  const fs::path fixture = fs::path(FOGGATE_TEST_DATA_DIR) / "hostile" / "spool_not_sqlite.db";
  ASSERT_TRUE(fs::exists(fixture));
  fs::copy_file(fixture, options_.path);
  auto s = open();
  ASSERT_TRUE(s);
  const auto aside = moved_aside(dir_.path());
  ASSERT_EQ(aside.size(), 1u) << "no -wal/-shm was there to move";
  EXPECT_EQ(slurp(dir_.path() + "/" + aside[0]), slurp(fixture.string()));
  add(*s, Priority::kLow, 1);
  EXPECT_TRUE(s->commit().has_value());
}

TEST_F(SpoolTest, WrongFormatOrMissingTableOrForeignDatabaseIsMovedAside) {
  const char* tampering[] = {
      "UPDATE meta SET value = 2 WHERE key = 'format'",
      "DELETE FROM meta WHERE key = 'format'",
      "DROP TABLE batches",
      "DROP TABLE meta",
      "ALTER TABLE batches DROP COLUMN raw_bytes",
      "UPDATE batches SET priority = 9",
  };
  for (const char* sql : tampering) {
    SCOPED_TRACE(sql);
    {
      auto s = open();
      ASSERT_TRUE(s);
      add(*s, Priority::kNormal, 1);
      ASSERT_TRUE(s->commit().has_value());
    }
    tamper(options_.path, sql);
    clock_.advance_ms(1);  // a new name for each file moved aside
    const std::size_t before = databases_aside(dir_.path()).size();
    auto s = open();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->batches(Priority::kNormal), 0u);
    EXPECT_EQ(databases_aside(dir_.path()).size(), before + 1);
  }
  // Someone else's database.
  fs::remove(options_.path);
  tamper(options_.path, "CREATE TABLE readings (t INTEGER, v REAL)");
  clock_.advance_ms(1);
  auto s = open();
  ASSERT_TRUE(s);
  EXPECT_EQ(databases_aside(dir_.path()).size(), std::size(tampering) + 1);
}

TEST_F(SpoolTest, UnopenableIsAnError) {
  options_.path = dir_.path() + "/no/such/dir/spool.db";
  auto s = Spool::open(options_, clock_);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().reason, "spool_open");
  EXPECT_EQ(s.error().kind, ErrorKind::kPermanent);
}

// SD-card wear (issue #15): deleting an acknowledged batch must not write
// its bytes again. Debian's SQLite zeroes freed pages by default
// (SQLITE_SECURE_DELETE), which doubled the writes per byte sent; the
// spool turns that off for overflow pages. Read off the WAL's growth: the
// removal's commit may touch a few B-tree and free-list pages, not the
// blob's 50 pages.
TEST_F(SpoolTest, RemovingABatchDoesNotRewriteItsBytes) {
  constexpr std::size_t kSize = 200 * 1024;
  auto s = open();
  ASSERT_TRUE(s);
  const auto info = add(*s, Priority::kLow, 1, kSize);
  add(*s, Priority::kLow, 2, 1000);  // so the removed batch is not the file's tail
  ASSERT_TRUE(s->commit());
  const auto wal = options_.path + "-wal";
  const auto before = fs::file_size(wal);
  ASSERT_GE(before, kSize);
  s->remove(info.id);
  ASSERT_TRUE(s->commit());
  const auto after = fs::file_size(wal);
  EXPECT_LT(after - before, kSize / 10) << "WAL grew by " << (after - before) << " bytes for one removal";
}

// Crash test: a child commits N batches, stages M more (large enough to
// spill into the WAL uncommitted), and is killed with SIGKILL. The parent
// must find exactly the N committed batches, blobs intact.
TEST_F(SpoolTest, KilledProcessLosesNothingCommitted) {
  constexpr int kCommitted = 20, kStaged = 40;
  constexpr std::size_t kSize = 64 * 1024;
  ASSERT_TRUE(testing::killed_after([&] {
    auto r = Spool::open(options_, clock_);
    if (!r) return 2;
    Spool& s = **r;
    for (int i = 1; i <= kCommitted + kStaged; ++i) {
      const auto seq = static_cast<uint64_t>(i);
      const Priority p = kAllPriorities[seq % kPriorityCount];
      if (!s.append(p, seq, clock_.wall_ms(), 1, kSize, blob(kSize, seq))) return 3;
      if (i % 5 == 0 && i <= kCommitted && !s.commit()) return 4;
    }
    return 0;
  }));

  auto s = open();
  ASSERT_TRUE(s);
  expect_gauges(*s);
  EXPECT_EQ(s->last_seq(), static_cast<uint64_t>(kCommitted));
  EXPECT_EQ(s->total_bytes(), kCommitted * kSize);
  std::size_t found = 0;
  for (Priority p : kAllPriorities) {
    uint64_t prev = 0;
    while (auto n = s->next(p)) {
      EXPECT_GT(n->seq, prev) << "FIFO";
      prev = n->seq;
      EXPECT_EQ(static_cast<std::size_t>(index_of(p)), n->seq % kPriorityCount);
      EXPECT_EQ(*s->read(n->id), blob(kSize, n->seq)) << n->seq;
      s->set_in_flight(n->id, true);
      ++found;
    }
  }
  EXPECT_EQ(found, static_cast<std::size_t>(kCommitted));
}

// A commit that fails for lack of space (here: a file size limit) rolls
// back, counts a write error, leaves the index equal to the database, and
// the spool keeps working once space is back. Runs in a child because the
// limit is process-wide.
TEST_F(SpoolTest, FailedCommitRollsBackAndKeepsCommittedBatches) {
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto check = [](bool ok, int code) {
      if (!ok) _exit(code);
    };
    signal(SIGXFSZ, SIG_IGN);  // get EFBIG instead of being killed
    auto r = Spool::open(options_, clock_);
    check(r.has_value(), 10);
    Spool& s = **r;
    const int64_t now = clock_.wall_ms();
    check(s.append(Priority::kHigh, 1, now, 1, 1, blob(1000, 1)).has_value(), 11);
    check(s.commit().has_value(), 12);
    struct stat wal{};
    check(stat((options_.path + "-wal").c_str(), &wal) == 0, 13);
    rlimit old{};
    check(getrlimit(RLIMIT_FSIZE, &old) == 0, 14);
    rlimit tight = old;
    tight.rlim_cur = static_cast<rlim_t>(wal.st_size);
    check(setrlimit(RLIMIT_FSIZE, &tight) == 0, 15);

    auto b = s.append(Priority::kHigh, 2, now, 1, 1, blob(200'000, 2));
    check(b.has_value(), 16);  // staged in memory: fits
    check(s.batches(Priority::kHigh) == 2, 17);
    auto c = s.commit();
    check(!c.has_value(), 18);
    check(c.error().reason == "spool_write" && c.error().kind == ErrorKind::kTransient, 19);
    check(s.stats().write_errors.value() == 1 && s.stats().commits.value() == 1, 20);
    check(s.batches(Priority::kHigh) == 1 && s.total_bytes() == 1000, 21);
    check(s.stats().batches[1].value() == 1 && s.stats().bytes[1].value() == 1000, 22);
    check(s.last_seq() == 1, 23);

    check(setrlimit(RLIMIT_FSIZE, &old) == 0, 24);
    auto again = s.append(Priority::kHigh, 2, now, 1, 1, blob(200'000, 2));  // the caller retries
    check(again.has_value() && s.commit().has_value(), 25);
    r = Spool::open(options_, clock_);  // a second connection sees it committed
    check(r.has_value(), 26);
    Spool& t = **r;
    check(t.batches(Priority::kHigh) == 2 && t.last_seq() == 2, 27);
    check(*t.read(again->id) == blob(200'000, 2), 28);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "see the step numbers in the test";
}

}  // namespace
}  // namespace foggate::storage
