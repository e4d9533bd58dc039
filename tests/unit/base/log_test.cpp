#include "foggate/base/log.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace foggate::log {
namespace {

// A Logger writing into a vector, on a ManualClock.
struct Captured {
  ManualClock clock;
  std::mutex mu;
  std::vector<std::string> lines;  // guarded by mu
  Logger logger{clock, [this](std::string_view l) {
                  std::lock_guard lock(mu);
                  lines.emplace_back(l);
                }};
  std::vector<std::string> take() {
    std::lock_guard lock(mu);
    return std::exchange(lines, {});
  }
};

TEST(LogTest, FormatsOneStructuredLine) {
  EXPECT_EQ(format_line(Level::kWarn, "coap", "bad \"payload\"", {{"reason", "json_syntax"}, {"detail", "a b\nc"}}),
            "level=warn module=coap msg=\"bad 'payload'\" reason=json_syntax detail=\"a b c\"");
  EXPECT_EQ(format_line(Level::kInfo, "m", "x", {{"empty", ""}, {"ctl", std::string_view("a\x01", 2)}}),
            "level=info module=m msg=\"x\" empty=\"\" ctl=a?");
}

TEST(LogTest, ParsesLevelNames) {
  Level l = Level::kInfo;
  EXPECT_TRUE(parse_level("debug", l));
  EXPECT_EQ(l, Level::kDebug);
  EXPECT_TRUE(parse_level("error", l));
  EXPECT_EQ(l, Level::kError);
  EXPECT_FALSE(parse_level("verbose", l));
  EXPECT_FALSE(parse_level("WARN", l));
}

TEST(LogTest, ModuleLevelsOverrideTheGlobalOneBothWays) {
  Captured c;
  c.logger.set_level(Level::kInfo);
  c.logger.set_module_levels({{"coap", Level::kDebug}, {"mqtt", Level::kError}});
  c.logger.write(Level::kDebug, "coap", "coap debug");
  c.logger.write(Level::kDebug, "uplink", "uplink debug");  // global: info
  c.logger.write(Level::kInfo, "uplink", "uplink info");
  c.logger.write(Level::kWarn, "mqtt", "mqtt warn");
  c.logger.write(Level::kError, "mqtt", "mqtt error");
  auto lines = c.take();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].find("coap debug"), std::string::npos);
  EXPECT_NE(lines[1].find("uplink info"), std::string::npos);
  EXPECT_NE(lines[2].find("mqtt error"), std::string::npos);
  // Removing the overrides restores the global level everywhere.
  c.logger.set_module_levels({});
  EXPECT_FALSE(c.logger.enabled(Level::kDebug, "coap"));
  EXPECT_TRUE(c.logger.enabled(Level::kWarn, "mqtt"));
}

TEST(LogTest, IdenticalWarningsAreHeldBackAndCounted) {
  Captured c;
  for (int i = 0; i < 50; ++i) c.logger.write(Level::kWarn, "mqtt", "connect failed", {{"uri", "tcp://b:1883"}});
  c.logger.write(Level::kWarn, "mqtt", "connect failed", {{"uri", "tcp://other:1883"}});  // other fields: its own line
  auto lines = c.take();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "level=warn module=mqtt msg=\"connect failed\" uri=tcp://b:1883\n");
  c.clock.advance_ms(5'000);
  c.logger.flush_repeats();
  EXPECT_TRUE(c.take().empty()) << "the window has not ended";
  c.clock.advance_ms(5'000);
  c.logger.flush_repeats();
  lines = c.take();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "level=warn module=mqtt msg=\"connect failed\" uri=tcp://b:1883 repeated=49\n");
  // Afterwards the line starts afresh.
  c.logger.write(Level::kWarn, "mqtt", "connect failed", {{"uri", "tcp://b:1883"}});
  EXPECT_EQ(c.take().size(), 1u);
}

TEST(LogTest, WithoutAFlushTheNextOccurrenceReportsTheCountFirst) {
  Captured c;
  for (int i = 0; i < 3; ++i) c.logger.write(Level::kError, "spool", "commit failed");
  c.clock.advance_ms(10'000);
  c.logger.write(Level::kError, "spool", "commit failed");
  auto lines = c.take();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1], "level=error module=spool msg=\"commit failed\" repeated=2\n");
  EXPECT_EQ(lines[2], "level=error module=spool msg=\"commit failed\"\n");
}

TEST(LogTest, InfoLinesAreNeverHeldBack) {
  Captured c;
  for (int i = 0; i < 3; ++i) c.logger.write(Level::kInfo, "gateway", "summary");
  EXPECT_EQ(c.take().size(), 3u);
}

TEST(LogTest, LinesBelowTheLevelAreNotCounted) {
  Captured c;
  c.logger.set_level(Level::kError);
  for (int i = 0; i < 3; ++i) c.logger.write(Level::kWarn, "m", "w");
  c.clock.advance_ms(10'000);
  c.logger.flush_repeats();
  EXPECT_TRUE(c.take().empty());
}

TEST(LogTest, ConcurrentWritersCountEveryRepeat) {
  Captured c;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 250; ++i) c.logger.write(Level::kWarn, "m", "same");
    });
  for (auto& t : threads) t.join();
  c.clock.advance_ms(10'000);
  c.logger.flush_repeats();
  auto lines = c.take();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1], "level=warn module=m msg=\"same\" repeated=999\n");
}

// warn_once keeps its meaning: once per (module, reason) for the process,
// whatever the repeat filter does.
TEST(LogTest, WarnOnceLogsOncePerModuleAndReason) {
  EXPECT_TRUE(first_time("log-test", "reason-a"));
  EXPECT_FALSE(first_time("log-test", "reason-a"));
  EXPECT_TRUE(first_time("log-test", "reason-b"));
  EXPECT_TRUE(first_time("other-module", "reason-a"));
}

}  // namespace
}  // namespace foggate::log
