#include "config/secrets.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace foggate::gateway {
namespace {

TEST(SecretsTest, InlineValueWhenNoSourceIsNamed) {
  auto pw = resolve_password("inline", "", "");
  ASSERT_TRUE(pw.has_value());
  EXPECT_EQ(*pw, "inline");
}

TEST(SecretsTest, FileContentWithoutTrailingNewline) {
  const std::string path = testing::TempDir() + "/foggate-secret-" + std::to_string(getpid());
  std::ofstream(path) << "s3cret\r\n";
  auto pw = resolve_password("", path, "");
  std::remove(path.c_str());
  ASSERT_TRUE(pw.has_value());
  EXPECT_EQ(*pw, "s3cret");
}

TEST(SecretsTest, EnvironmentVariable) {
  ::setenv("FOGGATE_SECRETS_TEST", "from-env", 1);
  auto pw = resolve_password("", "", "FOGGATE_SECRETS_TEST");
  ::unsetenv("FOGGATE_SECRETS_TEST");
  ASSERT_TRUE(pw.has_value());
  EXPECT_EQ(*pw, "from-env");
}

TEST(SecretsTest, ErrorsNameTheSourceNeverAValue) {
  auto f = resolve_password("", "/nonexistent/foggate.pw", "");
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error().reason, "secret");
  EXPECT_NE(f.error().detail.find("/nonexistent/foggate.pw"), std::string::npos);
  ::unsetenv("FOGGATE_SECRETS_UNSET");
  auto e = resolve_password("", "", "FOGGATE_SECRETS_UNSET");
  ASSERT_FALSE(e.has_value());
  EXPECT_NE(e.error().detail.find("FOGGATE_SECRETS_UNSET"), std::string::npos);
}

// A reload renews a connection only when this changes: the password,
// the user name, or what a TLS file holds (replaced under the same name).
TEST(SecretsTest, FingerprintChangesWithThePasswordAndTheTlsFilesContents) {
  const std::string ca = testing::TempDir() + "/foggate-fp-ca-" + std::to_string(getpid());
  std::ofstream(ca) << "ca one";
  protocols::MqttOptions mo;
  mo.username = "gw";
  mo.password = "pw";
  mo.tls.ca_file = ca;
  const uint64_t first = credentials_fingerprint(mo);
  EXPECT_EQ(credentials_fingerprint(mo), first) << "nothing changed";

  std::ofstream(ca) << "ca two";  // rotated in place
  const uint64_t rotated = credentials_fingerprint(mo);
  EXPECT_NE(rotated, first);

  mo.password = "pw2";
  EXPECT_NE(credentials_fingerprint(mo), rotated);
  mo.password = "pw";
  EXPECT_EQ(credentials_fingerprint(mo), rotated);

  std::remove(ca.c_str());
  EXPECT_NE(credentials_fingerprint(mo), rotated) << "an unreadable file is a change";
}

}  // namespace
}  // namespace foggate::gateway

namespace foggate::gateway {
namespace {

std::string write_temp(const std::string& name, const std::string& content) {
  const std::string path = testing::TempDir() + "/foggate-" + name + "-" + std::to_string(getpid());
  std::ofstream(path) << content;
  return path;
}

TEST(PskFileTest, IdentitiesTextAndHexKeysAndComments) {
  const auto path = write_temp("psk", "# devices\n\npump-1  secret-1   # trailing comment\nvalve-2 hex:0A0b00ff\n");
  auto keys = read_psk_file(path);
  std::remove(path.c_str());
  ASSERT_TRUE(keys.has_value()) << keys.error().detail;
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].identity, "pump-1");
  EXPECT_EQ((*keys)[0].key, "secret-1");
  EXPECT_EQ((*keys)[1].key, std::string("\x0a\x0b\x00\xff", 4));
}

TEST(PskFileTest, ErrorsNameTheLineNeverTheKey) {
  for (const auto& [content, why] : std::vector<std::pair<std::string, std::string>>{
           {"pump-1\n", "without a key"},
           {"pump-1 k1 extra\n", "more than"},
           {"a/b k1\n", "device id"},
           {"pump-1 hex:abc\n", "even number"},
           {"pump-1 hex:zz\n", "non-hex"},
           {"pump-1 k1\npump-1 k2-secret\n", "twice"}}) {
    const auto path = write_temp("psk-bad", content);
    auto keys = read_psk_file(path);
    std::remove(path.c_str());
    ASSERT_FALSE(keys.has_value()) << content;
    EXPECT_NE(keys.error().detail.find(why), std::string::npos) << keys.error().detail;
    EXPECT_EQ(keys.error().detail.find("k2-secret"), std::string::npos);
  }
  EXPECT_FALSE(read_psk_file("/nonexistent/psk").has_value());
}

}  // namespace
}  // namespace foggate::gateway
