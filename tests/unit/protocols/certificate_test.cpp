#include "foggate/protocols/certificate.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace foggate::protocols {
namespace {

namespace fs = std::filesystem;

// Fixtures and their dates: tests/data/certs/make.sh.
std::string cert_path(const std::string& name) {
  return (fs::path(FOGGATE_TEST_DATA_DIR) / "certs" / name).string();
}

constexpr int64_t kJan2025 = 1'735'689'600'000;      // 2025-01-01T00:00:00Z
constexpr int64_t kJun2030Noon = 1'907'755'200'000;  // 2030-06-15T12:00:00Z
constexpr int64_t kJan2031 = 1'924'992'000'000;      // 2031-01-01T00:00:00Z
constexpr int64_t kMar2029 = 1'867'017'600'000;      // 2029-03-01T00:00:00Z

TEST(CertificateTest, PemDatesExactToTheSecond) {
  auto certs = read_certificates(cert_path("valid-2030.crt"));
  ASSERT_TRUE(certs.has_value()) << certs.error().detail;
  ASSERT_EQ(certs->size(), 1u);
  EXPECT_EQ((*certs)[0].not_before_ms, kJan2025);
  EXPECT_EQ((*certs)[0].not_after_ms, kJun2030Noon);
  EXPECT_NE((*certs)[0].subject.find("CN=foggate-gateway"), std::string::npos)
      << (*certs)[0].subject;
}

TEST(CertificateTest, DerFileReadsLikeItsPem) {
  auto certs = read_certificates(cert_path("valid-2030.der"));
  ASSERT_TRUE(certs.has_value()) << certs.error().detail;
  ASSERT_EQ(certs->size(), 1u);
  EXPECT_EQ((*certs)[0].not_after_ms, kJun2030Noon);
  EXPECT_EQ((*certs)[0].subject, "CN=foggate-gateway");
}

TEST(CertificateTest, BundleReturnsEveryCertificateInFileOrder) {
  auto certs = read_certificates(cert_path("bundle.crt"));
  ASSERT_TRUE(certs.has_value()) << certs.error().detail;
  ASSERT_EQ(certs->size(), 2u);
  EXPECT_EQ((*certs)[0].subject, "CN=foggate-bundle-2031");
  EXPECT_EQ((*certs)[0].not_after_ms, kJan2031);
  EXPECT_EQ((*certs)[1].subject, "CN=foggate-bundle-2029");
  EXPECT_EQ((*certs)[1].not_after_ms, kMar2029);
}

TEST(CertificateTest, GarbageIsCertParseNamingTheFile) {
  const auto path = cert_path("not-a-cert.crt");
  auto certs = read_certificates(path);
  ASSERT_FALSE(certs.has_value());
  EXPECT_EQ(certs.error().reason, "cert_parse");
  EXPECT_NE(certs.error().detail.find(path), std::string::npos) << certs.error().detail;
  EXPECT_NE(certs.error().detail.find("X509"), std::string::npos) << certs.error().detail;
}

TEST(CertificateTest, EmptyFileIsCertParse) {
  const auto path = (fs::path(testing::TempDir()) / "foggate-empty.crt").string();
  std::ofstream(path, std::ios::binary).close();
  auto certs = read_certificates(path);
  fs::remove(path);
  ASSERT_FALSE(certs.has_value());
  EXPECT_EQ(certs.error().reason, "cert_parse");
}

TEST(CertificateTest, MissingFileIsCertReadNamingTheFile) {
  const auto path = cert_path("no-such.crt");
  auto certs = read_certificates(path);
  ASSERT_FALSE(certs.has_value());
  EXPECT_EQ(certs.error().reason, "cert_read");
  EXPECT_NE(certs.error().detail.find(path), std::string::npos) << certs.error().detail;
}

TEST(CertificateTest, DirectoryIsCertRead) {
  auto certs = read_certificates(cert_path(""));
  ASSERT_FALSE(certs.has_value());
  EXPECT_EQ(certs.error().reason, "cert_read");
}

}  // namespace
}  // namespace foggate::protocols
