#include "secrets.h"

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

}  // namespace
}  // namespace foggate::gateway
