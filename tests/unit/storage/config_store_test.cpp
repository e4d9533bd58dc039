#include "foggate/storage/config_store.h"

#include "database_files.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "foggate/base/clock.h"

namespace foggate::storage {
namespace {

namespace fs = std::filesystem;
using namespace testing;  // database_files.h

StoredSection section(std::string layer, std::string name, uint64_t version, std::string body,
                      int64_t applied_ms = 1'700'000'000'000) {
  return {std::move(layer), std::move(name), version, std::move(body), applied_ms};
}

// The moved-aside name carries the system's wall-clock ms (open() takes no
// Clock): waits for the next ms so two files moved aside get two names.
void next_wall_ms() {
  const int64_t now = SystemClock::instance().wall_ms();
  while (SystemClock::instance().wall_ms() == now) std::this_thread::yield();
}

void expect_same(const StoredSection& got, const StoredSection& want) {
  EXPECT_EQ(got.layer, want.layer);
  EXPECT_EQ(got.name, want.name);
  EXPECT_EQ(got.version, want.version);
  EXPECT_EQ(got.body, want.body);
  EXPECT_EQ(got.applied_ms, want.applied_ms);
}

class ConfigStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<ConfigStore> open() {
    auto s = ConfigStore::open(path_);
    EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().detail);
    return s ? std::move(*s) : nullptr;
  }

  static void put(ConfigStore& s, const StoredSection& sec) {
    auto r = s.put(sec);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().detail);
  }

  static std::vector<StoredSection> load(ConfigStore& s) {
    auto r = s.load_all();
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().detail);
    if (!r) return {};
    // The contract promises no order.
    std::vector<StoredSection> out = std::move(*r);
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return std::tie(a.layer, a.name) < std::tie(b.layer, b.name); });
    return out;
  }

  TempDir dir_;
  std::string path_ = dir_.path() + "/config.db";
};

TEST_F(ConfigStoreTest, EmptyStoreLoadsNothing) {
  auto s = open();
  ASSERT_TRUE(s);
  EXPECT_TRUE(load(*s).empty());
  EXPECT_EQ(s->max_version("gateway", "rules"), 0u);
  s.reset();
  s = open();
  ASSERT_TRUE(s);
  EXPECT_TRUE(load(*s).empty());
  EXPECT_TRUE(databases_aside(dir_.path()).empty()) << "an empty store is a valid store";
}

TEST_F(ConfigStoreTest, PutAndLoadRoundTripAcrossReopen) {
  // A body with a NUL, quotes and non-ASCII survives byte for byte.
  const std::string body = std::string("{\"rules\":[{\"topic\":\"t/\xC3\xA9\"}],\"x\":\"a") + '\0' + "b\"}";
  const StoredSection rules = section("gateway", "rules", 7, body, 1'700'000'123'456);
  const StoredSection detectors = section("gateway", "detectors", 3, "{\"detectors\":[]}");
  {
    auto s = open();
    ASSERT_TRUE(s);
    put(*s, rules);
    put(*s, detectors);
  }
  auto s = open();
  ASSERT_TRUE(s);
  const auto all = load(*s);
  ASSERT_EQ(all.size(), 2u);
  expect_same(all[0], detectors);
  expect_same(all[1], rules);
  EXPECT_EQ(s->max_version("gateway", "rules"), 7u);
  EXPECT_EQ(s->max_version("gateway", "detectors"), 3u);
  EXPECT_EQ(s->max_version("gateway", "alerts"), 0u);
}

TEST_F(ConfigStoreTest, PutReplacesTheSection) {
  auto s = open();
  ASSERT_TRUE(s);
  put(*s, section("gateway", "rules", 1, "{\"v\":1}", 100));
  const StoredSection second = section("gateway", "rules", 2, "{\"v\":2}", 200);
  put(*s, second);
  s.reset();
  s = open();
  ASSERT_TRUE(s);
  const auto all = load(*s);
  ASSERT_EQ(all.size(), 1u);
  expect_same(all[0], second);
  EXPECT_EQ(s->max_version("gateway", "rules"), 2u);
}

TEST_F(ConfigStoreTest, EraseRemovesTheSectionButKeepsMaxVersion) {
  auto s = open();
  ASSERT_TRUE(s);
  put(*s, section("gateway", "rules", 5, "{}"));
  put(*s, section("gateway", "detectors", 2, "{}"));
  ASSERT_TRUE(s->erase("gateway", "rules").has_value());
  EXPECT_TRUE(s->erase("gateway", "never-stored").has_value()) << "erasing nothing is fine";
  s.reset();
  s = open();
  ASSERT_TRUE(s);
  const auto all = load(*s);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].name, "detectors");
  EXPECT_EQ(s->max_version("gateway", "rules"), 5u) << "the replay guard outlives the section";
  EXPECT_EQ(s->max_version("gateway", "never-stored"), 0u);
}

// put() stores whatever it is given (the caller checks versions); only the
// remembered maximum refuses to go down.
TEST_F(ConfigStoreTest, LowerVersionIsStoredButMaxVersionNeverDecreases) {
  auto s = open();
  ASSERT_TRUE(s);
  put(*s, section("gateway", "rules", 9, "{\"v\":9}"));
  const StoredSection older = section("gateway", "rules", 4, "{\"v\":4}");
  put(*s, older);
  EXPECT_EQ(s->max_version("gateway", "rules"), 9u);
  s.reset();
  s = open();
  ASSERT_TRUE(s);
  auto all = load(*s);
  ASSERT_EQ(all.size(), 1u);
  expect_same(all[0], older);
  EXPECT_EQ(s->max_version("gateway", "rules"), 9u);

  // After an erase too, and with versions at and above 2^63 (uint64 stored
  // bit for bit; a signed comparison would call them smaller than 4).
  ASSERT_TRUE(s->erase("gateway", "rules").has_value());
  put(*s, section("gateway", "rules", 1, "{}"));
  EXPECT_EQ(s->max_version("gateway", "rules"), 9u);
  const uint64_t huge = (uint64_t{1} << 63) + 5;
  put(*s, section("gateway", "rules", huge, "{}"));
  put(*s, section("gateway", "rules", 10, "{}"));
  EXPECT_EQ(s->max_version("gateway", "rules"), huge);
  put(*s, section("gateway", "rules", UINT64_MAX, "{}"));
  s.reset();
  s = open();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->max_version("gateway", "rules"), UINT64_MAX);
  all = load(*s);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].version, UINT64_MAX);
}

TEST_F(ConfigStoreTest, LayersAreIndependent) {
  auto s = open();
  ASSERT_TRUE(s);
  const StoredSection mine = section("gateway", "rules", 3, "{\"layer\":\"gateway\"}");
  const StoredSection fleet = section("all", "rules", 8, "{\"layer\":\"all\"}");
  put(*s, mine);
  put(*s, fleet);
  EXPECT_EQ(s->max_version("gateway", "rules"), 3u);
  EXPECT_EQ(s->max_version("all", "rules"), 8u);

  ASSERT_TRUE(s->erase("all", "rules").has_value());
  s.reset();
  s = open();
  ASSERT_TRUE(s);
  const auto all = load(*s);
  ASSERT_EQ(all.size(), 1u);
  expect_same(all[0], mine);
  EXPECT_EQ(s->max_version("gateway", "rules"), 3u);
  EXPECT_EQ(s->max_version("all", "rules"), 8u);
}

TEST_F(ConfigStoreTest, GarbageFileIsMovedAsideAndAFreshStoreWorks) {
  std::string garbage = "\x13\x37 not a config store at all ";
  for (int i = 0; i < 4096; ++i) garbage += static_cast<char>((i * 131 + 7) & 0xff);
  write_file(path_, garbage);
  write_file(path_ + "-wal", "stale wal");
  auto s = open();
  ASSERT_TRUE(s);
  const auto aside = databases_aside(dir_.path());
  ASSERT_EQ(aside.size(), 1u);
  EXPECT_TRUE(aside[0].starts_with("config.db.corrupt-")) << aside[0];
  EXPECT_EQ(slurp(dir_.path() + "/" + aside[0]), garbage);
  EXPECT_EQ(slurp(dir_.path() + "/" + aside[0] + "-wal"), "stale wal") << "the WAL moves along";
  EXPECT_TRUE(load(*s).empty());
  EXPECT_EQ(s->max_version("gateway", "rules"), 0u);

  const StoredSection rules = section("gateway", "rules", 1, "{}");
  put(*s, rules);
  s.reset();
  s = open();
  ASSERT_TRUE(s);
  const auto all = load(*s);
  ASSERT_EQ(all.size(), 1u);
  expect_same(all[0], rules);
  EXPECT_EQ(databases_aside(dir_.path()).size(), 1u) << "the fresh store is kept";
}

TEST_F(ConfigStoreTest, WrongFormatOrForeignDatabaseIsMovedAside) {
  const char* tampering[] = {
      "UPDATE meta SET value = 2 WHERE key = 'format'",
      "DELETE FROM meta WHERE key = 'format'",
      "DROP TABLE versions",
      "ALTER TABLE sections DROP COLUMN applied_ms",
  };
  std::size_t expected_aside = 0;
  for (const char* sql : tampering) {
    SCOPED_TRACE(sql);
    {
      auto s = open();
      ASSERT_TRUE(s);
      put(*s, section("gateway", "rules", 1, "{}"));
    }
    tamper(path_, sql);
    next_wall_ms();
    auto s = open();
    ASSERT_TRUE(s);
    EXPECT_TRUE(load(*s).empty());
    EXPECT_EQ(s->max_version("gateway", "rules"), 0u);
    EXPECT_EQ(databases_aside(dir_.path()).size(), ++expected_aside);
  }
  // Someone else's database, e.g. the spool opened by mistake.
  fs::remove(path_);
  tamper(path_, "CREATE TABLE readings (t INTEGER, v REAL)");
  next_wall_ms();
  auto s = open();
  ASSERT_TRUE(s);
  EXPECT_EQ(databases_aside(dir_.path()).size(), ++expected_aside);
}

// Damage past the header: SQLite opens the file fine, and only reading the
// tables would fail. open() checks every page, so this too is moved aside
// rather than failing each later load_all().
TEST_F(ConfigStoreTest, DamagedPagesAreMovedAside) {
  {
    auto s = open();
    ASSERT_TRUE(s);
    for (int i = 0; i < 200; ++i) put(*s, section("gateway", "s" + std::to_string(i), 1, std::string(1000, 'x')));
  }  // closing checkpoints the WAL into the file and removes it
  ASSERT_FALSE(fs::exists(path_ + "-wal"));
  const std::string intact = slurp(path_);
  ASSERT_GT(intact.size(), 40u * 4096);
  std::string damaged = intact;
  for (std::size_t i = 8 * 4096; i < 24 * 4096; ++i) damaged[i] = static_cast<char>((i * 131 + 7) & 0xff);
  write_file(path_, damaged);
  next_wall_ms();

  auto s = open();
  ASSERT_TRUE(s);
  const auto aside = databases_aside(dir_.path());
  ASSERT_EQ(aside.size(), 1u);
  EXPECT_EQ(slurp(dir_.path() + "/" + aside[0]), damaged);
  EXPECT_TRUE(load(*s).empty());
}

TEST_F(ConfigStoreTest, UnopenableIsAnError) {
  auto s = ConfigStore::open(dir_.path() + "/no/such/dir/config.db");
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().reason, "config_store_open");
  EXPECT_EQ(s.error().kind, ErrorKind::kPermanent);
}

// Crash test: a child puts sections and is killed with SIGKILL right after
// the last put returned. Every put that returned is there at reopen.
TEST_F(ConfigStoreTest, KilledProcessLosesNothingPut) {
  constexpr int kPuts = 20;
  ASSERT_TRUE(testing::killed_after([&] {
    auto r = ConfigStore::open(path_);
    if (!r) return 2;
    for (int i = 1; i <= kPuts; ++i) {
      const auto v = static_cast<uint64_t>(i);
      if (!(*r)->put(section(i % 2 ? "gateway" : "all", "s" + std::to_string(i % 5), v, std::to_string(i)))) return 3;
    }
    return 0;
  }));

  auto s = open();
  ASSERT_TRUE(s);
  const auto all = load(*s);
  ASSERT_EQ(all.size(), 10u);  // 2 layers x 5 names
  for (const auto& sec : all) {
    // The last put for each (layer, name) wins: the highest i with that key.
    EXPECT_EQ(sec.body, std::to_string(sec.version));
    EXPECT_GT(sec.version, static_cast<uint64_t>(kPuts - 10)) << sec.layer << "/" << sec.name;
    EXPECT_EQ(s->max_version(sec.layer, sec.name), sec.version);
  }
}

}  // namespace
}  // namespace foggate::storage
