// Spool files on disk: garbage, hostile and foreign files moved aside
// for a fresh spool, an unopenable path, removals that do not rewrite a
// batch's bytes, and a killed or failing writer that loses nothing it
// committed.
#include "spool_fixture.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <iterator>

namespace foggate::storage {
namespace {

using namespace testing;  // spool_fixture.h, database_files.h
namespace fs = std::filesystem;
using SpoolFilesTest = SpoolTest;

TEST_F(SpoolFilesTest, GarbageFileIsMovedAsideAndAFreshSpoolWorks) {
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

TEST_F(SpoolFilesTest, HostileFixtureIsMovedAside) {
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

TEST_F(SpoolFilesTest, WrongFormatOrMissingTableOrForeignDatabaseIsMovedAside) {
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

TEST_F(SpoolFilesTest, UnopenableIsAnError) {
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
TEST_F(SpoolFilesTest, RemovingABatchDoesNotRewriteItsBytes) {
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
TEST_F(SpoolFilesTest, KilledProcessLosesNothingCommitted) {
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
TEST_F(SpoolFilesTest, FailedCommitRollsBackAndKeepsCommittedBatches) {
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
