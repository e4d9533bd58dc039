// The command-line tools against the site broker the deployment guide
// recommends: TLS, user names and passwords, no anonymous clients. A signed
// section is pushed with explicit mosquitto_pub-style options, then pulled
// and the gateway's status read with nothing but its own configuration
// file (--config). Secrets never appear in any output.
#include "fixture.h"
#include "foggate/protocols/json.h"

namespace foggate::itest {
namespace {

class ToolsSecuredBrokerTest : public ::testing::Test {
 protected:
  ToolsSecuredBrokerTest() {
    const auto passwd = password_file(dir_, {{"gw", kGatewayPassword}, {"operator", kOperatorPassword}});
    dir_.write("gw.pass", std::string(kGatewayPassword) + "\n");
    dir_.write("operator.pass", std::string(kOperatorPassword) + "\n");
    // The second listener: TLS with the dev PKI's server certificate, and a
    // login; probes keep the plain anonymous one.
    site_ = std::make_unique<Mosquitto>(
        dir_, BrokerOptions{.extra_listener = tls_listener_conf() + "\npassword_file " + passwd +
                                              "\nallow_anonymous false"});
  }

  std::string secured_uri() const { return "ssl://localhost:" + std::to_string(site_->extra_port()); }

  // `foggate ARGS...`; fails the test if any output shows a password.
  std::string tool(std::vector<std::string> args, int* code) {
    args.insert(args.begin(), FOGGATE_BIN);
    const auto out = run_command(args, code);
    EXPECT_EQ(out.find(kGatewayPassword), std::string::npos) << out;
    EXPECT_EQ(out.find(kOperatorPassword), std::string::npos) << out;
    return out;
  }

  static constexpr const char* kGatewayPassword = "gw-7d1e-secret";
  static constexpr const char* kOperatorPassword = "op-42aa-secret";
  TempDir dir_;
  std::unique_ptr<Mosquitto> site_;
};

TEST_F(ToolsSecuredBrokerTest, SignedPushPullAndStatusThroughTlsWithLogins) {
  const std::string keys = FOGGATE_SOURCE_DIR "/tests/data/keys/";
  Foggate gw(dir_, *site_, "", "gw1", R"("config_key_file":")" + keys + "config-ec.pub\"");
  gw.set_broker(R"({"uris":[")" + secured_uri() + R"("],"username":"gw","password_file":")" + dir_.file("gw.pass") +
                R"(","tls":{"ca_file":")" + pki("ca.crt") + R"("}})");
  gw.start();  // online only through the secured listener

  dir_.write("rules.json", R"({"ordered":[{"name":"mute","topics":["sensors/+/temp"],"tasks":[]}]})");
  int code = -1;
  auto out = tool({"config", "push", "--uri", secured_uri(), "--cafile", pki("ca.crt"), "-u", "operator",
                   "--password-file", dir_.file("operator.pass"), "--sign-key", keys + "config-ec.key", "--target",
                   "gw1", "--section", "rules", "--file", dir_.file("rules.json"), "--version", "7"},
                  &code);
  ASSERT_EQ(code, 0) << out << gw.log();

  // The gateway's own file says where the broker is and how to log in.
  ASSERT_TRUE(eventually(
      [&] {
        out = tool({"config", "pull", "--config", gw.config_path(), "--id", "gw1"}, &code);
        auto doc = protocols::parse_json(out);
        if (code != 0 || !doc) return false;
        const auto* rules = doc->find("state") ? doc->find("state")->find("sections") : nullptr;
        rules = rules ? rules->find("rules") : nullptr;
        return rules && rules->find("layer") && rules->find("layer")->as_string() == "gateway" &&
               rules->find("version") && rules->find("version")->as_number() == 7;
      },
      15s))
      << code << "\n" << out << gw.log();
  EXPECT_NE(out.find("\"mute\""), std::string::npos) << "the signed section is in force\n" << out;

  out = tool({"status", "--config", gw.config_path(), "--id", "gw1", "--timeout", "10"}, &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("gw1: online since "), std::string::npos) << out;
}

TEST_F(ToolsSecuredBrokerTest, WrongPasswordOrNoCaFailsToConnectWithoutSayingTheSecret) {
  dir_.write("wrong.pass", "not-it-0000\n");
  int code = -1;
  auto out = tool({"status", "--uri", secured_uri(), "--cafile", pki("ca.crt"), "-u", "operator", "--password-file",
                   dir_.file("wrong.pass"), "--id", "gw1", "--timeout", "2"},
                  &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("cannot connect to " + secured_uri()), std::string::npos) << out;
  EXPECT_EQ(out.find("not-it-0000"), std::string::npos) << out;
  // The broker's certificate is signed by the dev CA, not the system store.
  out = tool({"status", "--uri", secured_uri(), "-u", "operator", "--password-file", dir_.file("operator.pass"),
              "--id", "gw1", "--timeout", "2"},
             &code);
  EXPECT_EQ(code, 1) << out;
  // A password file that cannot be read is named; like a bad --config file
  // it is a configuration error (78), not a failure worth retrying.
  out = tool({"status", "--uri", secured_uri(), "--password-file", dir_.file("absent.pass"), "--id", "gw1"}, &code);
  EXPECT_EQ(code, 78) << out;
  EXPECT_NE(out.find("absent.pass"), std::string::npos) << out;
}

TEST_F(ToolsSecuredBrokerTest, UplinkFlagTakesTheCloudSideOfTheConfiguration) {
  // The uplink section points at the secured listener too, as a cloud
  // broker would be.
  Foggate gw(dir_, *site_, R"("uplink":{"uris":[")" + secured_uri() + R"("],"username":"operator","password_file":")" +
                               dir_.file("operator.pass") + R"(","tls":{"ca_file":")" + pki("ca.crt") + R"("}})");
  int code = -1;
  auto out = tool({"decode", "--config", gw.config_path(), "--uplink", "--timeout", "3"}, &code);
  EXPECT_EQ(code, 0) << "connected to the uplink broker and waited\n" << out;
  out = tool({"decode", "--config", gw.config_path(), "--timeout", "3"}, &code);
  EXPECT_EQ(code, 0) << "the broker section: the plain anonymous listener\n" << out;
  // Without the login the secured listener refuses, and decode says so.
  out = tool({"decode", "--uri", secured_uri(), "--cafile", pki("ca.crt"), "--timeout", "3"}, &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("cannot connect"), std::string::npos) << out;
}

}  // namespace
}  // namespace foggate::itest
