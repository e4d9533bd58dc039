// The settings both MQTT clients share (mqtt_settings.h): broker URIs and
// the capped full-jitter reconnect backoff.
#include "foggate/protocols/mqtt_settings.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace foggate::protocols {
namespace {

struct GoodUri {
  const char* uri;
  const char* host;
  uint16_t port;
  bool tls;
};

class BrokerUriTest : public ::testing::TestWithParam<GoodUri> {};

TEST_P(BrokerUriTest, Parses) {
  const auto& want = GetParam();
  auto a = parse_broker_uri(want.uri);
  ASSERT_TRUE(a.has_value()) << want.uri << ": " << a.error().detail;
  EXPECT_EQ(a->host, want.host);
  EXPECT_EQ(a->port, want.port);
  EXPECT_EQ(a->tls, want.tls);
  EXPECT_EQ(is_tls_uri(want.uri), want.tls);
}

INSTANTIATE_TEST_SUITE_P(
    Uris, BrokerUriTest,
    ::testing::Values(GoodUri{"tcp://broker.local:1884", "broker.local", 1884, false},
                      GoodUri{"tcp://10.0.0.2", "10.0.0.2", 1883, false},
                      GoodUri{"mqtt://site", "site", 1883, false},
                      GoodUri{"ssl://site", "site", 8883, true},
                      GoodUri{"mqtts://site:443", "site", 443, true},
                      GoodUri{"tcp://[::1]:1999", "::1", 1999, false},
                      GoodUri{"ssl://[fe80::1]", "fe80::1", 8883, true},
                      GoodUri{"localhost:65535", "localhost", 65535, false},
                      GoodUri{"localhost", "localhost", 1883, false}));

class BadBrokerUriTest : public ::testing::TestWithParam<const char*> {};

TEST_P(BadBrokerUriTest, IsRefusedWithTheUriInTheDetail) {
  auto a = parse_broker_uri(GetParam());
  ASSERT_FALSE(a.has_value()) << GetParam() << " -> " << a->host << ":" << a->port;
  EXPECT_EQ(a.error().reason, "mqtt_uri");
  EXPECT_NE(a.error().detail.find(GetParam()), std::string::npos) << a.error().detail;
}

INSTANTIATE_TEST_SUITE_P(Uris, BadBrokerUriTest,
                         ::testing::Values("http://site:1883", "ws://site", "tcp://site:0", "tcp://site:65536",
                                           "tcp://site:", "tcp://site:18x3", "tcp://site:-1", "tcp://",
                                           "tcp://:1883", "ssl://[]:8883", "tcp://[::1", "tcp://[::1]x",
                                           "tcp://[::1]1883"));

// The n-th delay of `samples` fresh backoffs: how far the jitter reaches.
int64_t largest_nth_delay(int n, int samples, int64_t min_ms, int64_t max_ms) {
  int64_t largest = 0;
  for (int s = 0; s < samples; ++s) {
    ReconnectBackoff b(min_ms, max_ms);
    int64_t d = 0;
    for (int i = 0; i < n; ++i) d = b.next_delay_ms();
    largest = std::max(largest, d);
  }
  return largest;
}

TEST(ReconnectBackoffTest, DelaysStayWithinTheDoublingCap) {
  ReconnectBackoff b(100, 5'000);
  for (int n = 1; n <= 40; ++n) {
    const int64_t cap = std::min<int64_t>(5'000, int64_t{100} << std::min(n, 16));
    const int64_t d = b.next_delay_ms();
    ASSERT_GE(d, 0) << "failure " << n;
    ASSERT_LE(d, cap) << "failure " << n;
    EXPECT_EQ(b.failures_in_row(), std::min(n, 20));
  }
}

// With 400 uniform draws the largest lies in the top quarter of its range
// unless something is wrong: (3/4)^400 < 1e-49.
TEST(ReconnectBackoffTest, CapDoublesUntilTheMaximum) {
  constexpr int kSamples = 400;
  for (int n = 1; n <= 5; ++n) {
    const int64_t cap = int64_t{100} << n;  // 200, 400, ... 3200: under the maximum
    const int64_t largest = largest_nth_delay(n, kSamples, 100, 5'000);
    EXPECT_LE(largest, cap) << "failure " << n;
    EXPECT_GT(largest, cap * 3 / 4) << "failure " << n << ": the jitter does not reach its cap";
  }
  const int64_t capped = largest_nth_delay(12, kSamples, 100, 5'000);
  EXPECT_LE(capped, 5'000);
  EXPECT_GT(capped, 5'000 * 3 / 4);
}

TEST(ReconnectBackoffTest, ResetStartsOver) {
  constexpr int kSamples = 400;
  int64_t largest = 0;
  for (int s = 0; s < kSamples; ++s) {
    ReconnectBackoff b(100, 30'000);
    for (int i = 0; i < 10; ++i) (void)b.next_delay_ms();
    b.reset();
    EXPECT_EQ(b.failures_in_row(), 0);
    largest = std::max(largest, b.next_delay_ms());
  }
  EXPECT_LE(largest, 200) << "after reset() the first cap is min * 2 again";
}

TEST(ReconnectBackoffTest, ZeroMinimumRetriesAtOnce) {
  ReconnectBackoff b(0, 1'000);
  for (int i = 0; i < 30; ++i) EXPECT_EQ(b.next_delay_ms(), 0);
}

}  // namespace
}  // namespace foggate::protocols
