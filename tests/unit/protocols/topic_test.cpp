#include "foggate/message/topic.h"

#include <gtest/gtest.h>

namespace foggate {
namespace {

TEST(TopicMatchTest, Wildcards) {
  EXPECT_TRUE(topic_matches("a/b/c", "a/b/c"));
  EXPECT_FALSE(topic_matches("a/b/c", "a/b"));
  EXPECT_FALSE(topic_matches("a/b", "a/b/c"));
  EXPECT_TRUE(topic_matches("a/+/c", "a/x/c"));
  EXPECT_FALSE(topic_matches("a/+/c", "a/x/y/c"));
  EXPECT_TRUE(topic_matches("a/+", "a/"));
  EXPECT_TRUE(topic_matches("a/#", "a"));
  EXPECT_TRUE(topic_matches("a/#", "a/b/c"));
  EXPECT_TRUE(topic_matches("#", "a/b"));
  EXPECT_FALSE(topic_matches("#", "$SYS/broker"));
  EXPECT_FALSE(topic_matches("+/broker", "$SYS/broker"));
  EXPECT_TRUE(topic_matches("$SYS/#", "$SYS/broker"));
  EXPECT_TRUE(topic_matches("+/+", "/x"));
  EXPECT_FALSE(topic_matches("a/b", "a/bc"));
  EXPECT_TRUE(topic_matches("$share/g/sensors/#", "sensors/x"));
}

TEST(TopicMatchTest, ValidFilters) {
  EXPECT_TRUE(valid_topic_filter("a/+/#"));
  EXPECT_TRUE(valid_topic_filter("#"));
  EXPECT_FALSE(valid_topic_filter(""));
  EXPECT_FALSE(valid_topic_filter("a/#/b"));
  EXPECT_FALSE(valid_topic_filter("a/b+"));
  EXPECT_FALSE(valid_topic_filter("a#"));
}

TEST(TopicPatternTest, ExtractsCaptures) {
  TopicCaptures c;
  ASSERT_TRUE(extract_topic("sensors/{device}/{metric}", "sensors/d1/temp", c));
  EXPECT_EQ(c.device, "d1");
  EXPECT_EQ(c.metric, "temp");
  TopicCaptures c2;
  EXPECT_FALSE(extract_topic("sensors/{device}/{metric}", "sensors/d1", c2));
  TopicCaptures c3;
  ASSERT_TRUE(extract_topic("site/+/{device}/#", "site/a/pump/x/y", c3));
  EXPECT_EQ(c3.device, "pump");
  EXPECT_TRUE(c3.metric.empty());
}

TEST(GlobTest, Matches) {
  EXPECT_TRUE(glob_matches("pump-*", "pump-12"));
  EXPECT_TRUE(glob_matches("*", ""));
  EXPECT_TRUE(glob_matches("p?mp", "pump"));
  EXPECT_FALSE(glob_matches("pump-*", "valve-1"));
  EXPECT_TRUE(glob_matches("*-1*", "a-b-12"));
  EXPECT_FALSE(glob_matches("a*b", "acbd"));
}

}  // namespace
}  // namespace foggate
