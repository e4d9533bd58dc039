#include "workers/worker_watch.h"

#include <gtest/gtest.h>

namespace foggate::gateway {
namespace {

TEST(WorkerWatchTest, AWorkerWithQueuedTasksAndNoProgressIsStuckAfterTheStallTime) {
  WorkerWatch w(2, 1000);
  EXPECT_TRUE(w.observe(0, 5, 3, 10'000));
  EXPECT_TRUE(w.observe(0, 5, 3, 10'999));
  EXPECT_FALSE(w.observe(0, 5, 3, 11'000));
  EXPECT_EQ(w.stalled_ms(0, 11'500), 1500);
  // The other worker is not affected.
  EXPECT_TRUE(w.observe(1, 0, 0, 11'000));
  // Progress again: alive at once.
  EXPECT_TRUE(w.observe(0, 6, 3, 11'600));
  EXPECT_TRUE(w.observe(0, 6, 3, 12'500));
}

TEST(WorkerWatchTest, AnIdleWorkerIsNeverStuck) {
  WorkerWatch w(1, 1000);
  for (int64_t t = 0; t < 60'000; t += 5'000) EXPECT_TRUE(w.observe(0, 7, 0, t));
}

// A task arriving for a worker that waited idle for long: the stall time
// counts from when the queue was last seen empty, not from the last task.
TEST(WorkerWatchTest, StallTimeStartsWhenTasksAreFirstSeenWaiting) {
  WorkerWatch w(1, 1000);
  EXPECT_TRUE(w.observe(0, 7, 0, 0));
  EXPECT_TRUE(w.observe(0, 7, 1, 50'000));  // idle for 50 s, then one task queued
  EXPECT_TRUE(w.observe(0, 7, 1, 50'900));
  EXPECT_FALSE(w.observe(0, 7, 1, 51'100));
}

}  // namespace
}  // namespace foggate::gateway
