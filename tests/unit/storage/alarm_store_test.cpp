#include "foggate/storage/alarm_store.h"

#include "database_files.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace foggate::storage {
namespace {

using namespace testing;  // database_files.h

class AlarmStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<AlarmStore> open() {
    auto r = AlarmStore::open(path_);
    EXPECT_TRUE(r) << (r ? "" : r.error().detail);
    return r ? std::move(*r) : nullptr;
  }
  static std::vector<AlarmRow> load(AlarmStore& s) {
    auto r = s.load_all();
    EXPECT_TRUE(r);
    return r ? *r : std::vector<AlarmRow>{};
  }
  TempDir dir_;
  std::string path_ = dir_.path() + "/alarms.db";
};

TEST_F(AlarmStoreTest, WriteReplaceAndRemoveRoundTripAcrossReopen) {
  {
    auto s = open();
    ASSERT_TRUE(s);
    EXPECT_TRUE(load(*s).empty());
    ASSERT_TRUE(s->write({{"d1", "hot", "{\"v\":1}"}, {"d2", "hot", "{\"v\":2}"}, {"d1", "cold", "{\"v\":3}"}}));
    ASSERT_TRUE(s->write({{"d1", "hot", "{\"v\":4}"}, {"d2", "hot", ""}}));  // replace one, remove one
  }
  auto s = open();
  ASSERT_TRUE(s);
  const auto rows = load(*s);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].device + "/" + rows[0].detector + " " + rows[0].body, "d1/cold {\"v\":3}");
  EXPECT_EQ(rows[1].device + "/" + rows[1].detector + " " + rows[1].body, "d1/hot {\"v\":4}");
}

TEST_F(AlarmStoreTest, RemovingARowThatIsNotThereIsNoError) {
  auto s = open();
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->write({{"nobody", "nothing", ""}}));
  EXPECT_TRUE(load(*s).empty());
}

TEST_F(AlarmStoreTest, AFileThatIsNotAStoreIsMovedAsideAndAFreshOneServes) {
  write_file(path_, std::string(4096, 'x'));
  auto s = open();
  ASSERT_TRUE(s);
  EXPECT_TRUE(load(*s).empty());
  ASSERT_TRUE(s->write({{"d1", "hot", "{}"}}));
  EXPECT_EQ(load(*s).size(), 1u);
}

// Crash test: a child writes and is killed with SIGKILL right after the
// last write returned. Every write that returned is there at reopen.
TEST_F(AlarmStoreTest, KilledProcessLosesNothingWritten) {
  constexpr int kWrites = 30;
  ASSERT_TRUE(killed_after([&] {
    auto r = AlarmStore::open(path_);
    if (!r) return 2;
    for (int i = 1; i <= kWrites; ++i)
      if (!(*r)->write({{"d" + std::to_string(i % 5), "hot", std::to_string(i)}})) return 3;
    return 0;
  }));
  auto s = open();
  ASSERT_TRUE(s);
  const auto rows = load(*s);
  ASSERT_EQ(rows.size(), 5u);
  for (const auto& row : rows) EXPECT_GT(std::stoi(row.body), kWrites - 5) << row.device;
}

}  // namespace
}  // namespace foggate::storage
