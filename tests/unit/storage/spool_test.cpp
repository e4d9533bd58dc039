// Spool: order within and across priorities, what a commit makes durable,
// compaction, eviction and expiry. The files on disk (corrupt, foreign,
// killed writers): spool_files_test.cpp.
#include "spool_fixture.h"

namespace foggate::storage {
namespace {

using namespace testing;  // spool_fixture.h, database_files.h
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

}  // namespace
}  // namespace foggate::storage
