#include "ops/cert_watch.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace foggate::gateway {
namespace {

namespace fs = std::filesystem;

// Fixtures and their dates: tests/data/certs/make.sh.
std::string cert_path(const std::string& name) {
  return (fs::path(FOGGATE_TEST_DATA_DIR) / "certs" / name).string();
}

constexpr int64_t kDayMs = 24 * 60 * 60 * 1000;
constexpr int64_t kJun2030Noon = 1'907'755'200'000;  // valid-2030.crt notAfter
constexpr int64_t kMar2029 = 1'867'017'600'000;      // bundle.crt's second notAfter

// A ManualClock whose wall time reads `wall_ms` now.
ManualClock clock_at(int64_t wall_ms) {
  constexpr int64_t kMono = 1'000'000;
  return ManualClock(kMono, wall_ms - kMono);
}

std::vector<WatchedCertificate> one(const std::string& file) {
  return {{"uplink.tls.cert_file", cert_path(file)}};
}

TEST(CertWatchTest, ThirtyOneDaysLeftWithThirtyDayWindowIsQuiet) {
  auto clock = clock_at(kJun2030Noon - 31 * kDayMs);
  CertWatch watch(one("valid-2030.crt"), 30, clock);
  const CertCheck r = watch.check();
  EXPECT_TRUE(r.warnings.empty());
  EXPECT_TRUE(r.problems.empty());
}

TEST(CertWatchTest, TwentyNineDaysLeftWarnsOnce) {
  auto clock = clock_at(kJun2030Noon - 29 * kDayMs);
  CertWatch watch(one("valid-2030.crt"), 30, clock);
  const CertCheck r = watch.check();
  ASSERT_EQ(r.warnings.size(), 1u);
  const auto& w = r.warnings[0];
  EXPECT_EQ(w.role, "uplink.tls.cert_file");
  EXPECT_EQ(w.path, cert_path("valid-2030.crt"));
  EXPECT_NE(w.subject.find("CN=foggate-gateway"), std::string::npos) << w.subject;
  EXPECT_EQ(w.not_after_ms, kJun2030Noon);
  EXPECT_EQ(w.days_left, 29);
  EXPECT_FALSE(w.expired);
  EXPECT_TRUE(r.problems.empty());
}

TEST(CertWatchTest, DaysLeftRoundDown) {
  auto clock = clock_at(kJun2030Noon - 29 * kDayMs + 1);
  CertWatch watch(one("valid-2030.crt"), 30, clock);
  const CertCheck r = watch.check();
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].days_left, 28);
}

TEST(CertWatchTest, AtNotAfterStillValid) {
  auto clock = clock_at(kJun2030Noon);
  CertWatch watch(one("valid-2030.crt"), 30, clock);
  const CertCheck r = watch.check();
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].days_left, 0);
  EXPECT_FALSE(r.warnings[0].expired);
}

TEST(CertWatchTest, AfterExpiryIsExpiredWithNegativeDaysLeft) {
  auto clock = clock_at(kJun2030Noon + 1);
  CertWatch watch(one("valid-2030.crt"), 30, clock);
  CertCheck r = watch.check();
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_TRUE(r.warnings[0].expired);
  EXPECT_EQ(r.warnings[0].days_left, -1);

  clock.advance_ms(10 * kDayMs);
  r = watch.check();
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_TRUE(r.warnings[0].expired);
  EXPECT_EQ(r.warnings[0].days_left, -11);
}

TEST(CertWatchTest, DueAtStartThenEvery24Hours) {
  auto clock = clock_at(kJun2030Noon - 100 * kDayMs);
  CertWatch watch(one("valid-2030.crt"), 30, clock);
  EXPECT_TRUE(watch.due());
  (void)watch.check();
  EXPECT_FALSE(watch.due());
  clock.advance_ms(kDayMs - 1);
  EXPECT_FALSE(watch.due());
  clock.advance_ms(1);
  EXPECT_TRUE(watch.due());
  (void)watch.check();
  EXPECT_FALSE(watch.due());
}

TEST(CertWatchTest, NewCertificatesMakeACheckDue) {
  auto clock = clock_at(kMar2029 - 10 * kDayMs);
  CertWatch watch(one("valid-2030.crt"), 30, clock);
  EXPECT_TRUE(watch.check().warnings.empty());
  EXPECT_FALSE(watch.due());
  watch.set_certificates({{"uplink.tls.ca_file", cert_path("bundle.crt")}});
  EXPECT_TRUE(watch.due());
  EXPECT_EQ(watch.check().warnings.size(), 1u);
}

TEST(CertWatchTest, BundleWarnsOnlyForTheSoonExpiringCertificate) {
  auto clock = clock_at(kMar2029 - 14 * kDayMs);
  CertWatch watch({{"uplink.tls.ca_file", cert_path("bundle.crt")}}, 30, clock);
  const CertCheck r = watch.check();
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].role, "uplink.tls.ca_file");
  EXPECT_EQ(r.warnings[0].subject, "CN=foggate-bundle-2029");
  EXPECT_EQ(r.warnings[0].not_after_ms, kMar2029);
  EXPECT_EQ(r.warnings[0].days_left, 14);
  EXPECT_TRUE(r.problems.empty());
}

TEST(CertWatchTest, UnreadableAndUnparsableFilesAreProblemsNotWarnings) {
  auto clock = clock_at(kJun2030Noon - 29 * kDayMs);
  CertWatch watch({{"broker.tls.cert_file", cert_path("no-such.crt")},
                   {"broker.tls.ca_file", cert_path("not-a-cert.crt")},
                   {"uplink.tls.cert_file", cert_path("valid-2030.crt")}},
                  30, clock);
  const CertCheck r = watch.check();
  ASSERT_EQ(r.problems.size(), 2u);
  EXPECT_EQ(r.problems[0].rfind("broker.tls.cert_file: cert_read: " + cert_path("no-such.crt"), 0),
            0u)
      << r.problems[0];
  EXPECT_EQ(r.problems[1].rfind("broker.tls.ca_file: cert_parse: " + cert_path("not-a-cert.crt"), 0),
            0u)
      << r.problems[1];
  // The readable certificate is still checked.
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].role, "uplink.tls.cert_file");
  // A failed read does not hold back the schedule.
  EXPECT_FALSE(watch.due());
}

}  // namespace
}  // namespace foggate::gateway
