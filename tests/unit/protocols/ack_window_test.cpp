// The ingest connection's acknowledgement bookkeeping (ack_book.h, private
// to mqtt_ingest): AckWindow turns released sequence numbers into PUBACKs
// in arrival order; AckBook carries releases from any thread and drops
// those of an earlier connection; PubackReceipt releases once, unless
// disarmed.
#include "ack_book.h"

#include <poll.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace foggate::protocols {
namespace {

using Ids = std::vector<uint16_t>;
using Seqs = std::vector<uint64_t>;

// What releasing `seq` makes due.
Ids release(AckWindow& w, uint64_t seq) {
  Ids ready;
  w.release(seq, ready);
  return ready;
}

bool woken(const AckBook& book) {
  pollfd p{book.wake_fd(), POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

TEST(AckWindowTest, ReleasedBehindAHeldMessageWaitsForIt) {
  AckWindow w;
  const uint64_t first = w.add(101);
  const uint64_t second = w.add(102);
  const uint64_t third = w.add(103);
  EXPECT_EQ(w.size(), 3u);

  EXPECT_EQ(release(w, second), Ids{}) << "102 must wait for 101 (MQTT-4.6.0-2)";
  EXPECT_EQ(release(w, first), (Ids{101, 102}));
  EXPECT_EQ(w.size(), 1u);
  EXPECT_EQ(release(w, third), Ids{103});
  EXPECT_EQ(w.size(), 0u);
}

TEST(AckWindowTest, SequenceNumbersFollowOnAndAreNeverReleasedTwice) {
  AckWindow w;
  const uint64_t a = w.add(1);
  EXPECT_EQ(release(w, a), Ids{1});
  const uint64_t b = w.add(2);
  EXPECT_EQ(b, a + 1) << "numbers keep counting after the window empties";
  EXPECT_EQ(release(w, a), Ids{}) << "already acknowledged";
  EXPECT_EQ(release(w, b + 1), Ids{}) << "not handed out yet";
  EXPECT_EQ(w.size(), 1u);
  EXPECT_EQ(release(w, b), Ids{2});
}

TEST(AckWindowTest, ClearForgetsTheOldWindowAndIgnoresItsNumbers) {
  AckWindow w;
  const uint64_t old1 = w.add(7);
  const uint64_t old2 = w.add(8);
  w.clear();  // the connection ended: the broker redelivers 7 and 8
  EXPECT_EQ(w.size(), 0u);
  const uint64_t fresh = w.add(7);  // the same packet id on the new connection
  EXPECT_GT(fresh, old2);
  EXPECT_EQ(release(w, old1), Ids{});
  EXPECT_EQ(release(w, old2), Ids{});
  EXPECT_EQ(w.size(), 1u) << "a stale release must not acknowledge the new 7";
  EXPECT_EQ(release(w, fresh), Ids{7});
}

TEST(AckWindowTest, UndoAddTakesBackTheLastMessageAndReusesItsNumber) {
  AckWindow w;
  const uint64_t kept = w.add(1);
  const uint64_t refused = w.add(2);
  w.undo_add();  // the handler said kFull: 2 is offered again later
  EXPECT_EQ(w.size(), 1u);
  const uint64_t again = w.add(2);
  EXPECT_EQ(again, refused);
  EXPECT_EQ(release(w, again), Ids{});
  EXPECT_EQ(release(w, kept), (Ids{1, 2}));
}

TEST(AckBookTest, ReleaseWakesTheConnectionOnceAndTakeHandsOverInOrder) {
  AckBook book;
  ASSERT_GE(book.wake_fd(), 0);
  EXPECT_FALSE(woken(book));
  const uint32_t g = book.generation();
  book.release(g, 5);
  book.release(g, 3);
  EXPECT_TRUE(woken(book));
  Seqs got;
  book.take(got);
  EXPECT_EQ(got, (Seqs{5, 3}));
  EXPECT_FALSE(woken(book)) << "take() clears the wake-up";
  got.clear();
  book.take(got);
  EXPECT_EQ(got, Seqs{});
  EXPECT_EQ(book.abandoned().value(), 0u);
}

TEST(AckBookTest, ReleaseFromAnEarlierConnectionIsAbandonedNotTaken) {
  AckBook book;
  const uint32_t old = book.generation();
  book.next_generation();
  EXPECT_NE(book.generation(), old);
  book.release(old, 1);
  book.release(old, 2);
  EXPECT_EQ(book.abandoned().value(), 2u);
  Seqs got;
  book.take(got);
  EXPECT_EQ(got, Seqs{});
  book.release(book.generation(), 3);
  book.take(got);
  EXPECT_EQ(got, Seqs{3});
}

// Released on the ending connection but never taken: no PUBACK went out,
// so the broker delivers those again too.
TEST(AckBookTest, ReleasedButNotTakenWhenTheGenerationEndsIsAbandoned) {
  AckBook book;
  const uint32_t old = book.generation();
  book.release(old, 1);
  book.release(old, 2);
  book.next_generation();
  EXPECT_EQ(book.abandoned().value(), 2u);
  Seqs got;
  book.take(got);
  EXPECT_EQ(got, Seqs{});
  book.next_generation();
  EXPECT_EQ(book.abandoned().value(), 2u) << "counted once";
}

TEST(PubackReceiptTest, LastCopyReleasesOnce) {
  auto book = std::make_shared<AckBook>();
  const uint32_t g = book->generation();
  {
    ReceiptPtr first = std::make_shared<PubackReceipt>(book, g, 42);
    ReceiptPtr copy = first;  // e.g. the uplink's copy until its commit
    first.reset();
    Seqs got;
    book->take(got);
    EXPECT_EQ(got, Seqs{}) << "a copy is still held";
  }
  Seqs got;
  book->take(got);
  EXPECT_EQ(got, Seqs{42});
}

TEST(PubackReceiptTest, DisarmedAcknowledgesNothing) {
  auto book = std::make_shared<AckBook>();
  {
    auto r = std::make_shared<PubackReceipt>(book, book->generation(), 9);
    r->disarm();  // the handler did not take the message
  }
  EXPECT_FALSE(woken(*book));
  Seqs got;
  book->take(got);
  EXPECT_EQ(got, Seqs{});
  EXPECT_EQ(book->abandoned().value(), 0u);
}

}  // namespace
}  // namespace foggate::protocols
