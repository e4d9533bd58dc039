// The shipped site-broker ACL (examples/mosquitto/site-broker.acl) decides
// who may command alarms: mosquitto runs with it, and a device's, an
// on-call user's and an operator's commands are sent with mosquitto_pub.
#include "fixture.h"

namespace foggate::itest {
namespace {

class AlarmsAclTest : public ::testing::Test {
 protected:
  AlarmsAclTest() {
    const auto passwd = password_file(dir_, {{"foggate", "gw-pass"}, {"operator", "op-pass"}, {"oncall", "oc-pass"},
                                             {"d1", "dev-pass"}});
    dir_.write("gw.pass", "gw-pass\n");
    // The second listener takes logins and the shipped ACL; probes keep the
    // plain anonymous one (they play the sensors and watch the results).
    broker_ = std::make_unique<Mosquitto>(
        dir_, BrokerOptions{.extra_listener = "allow_anonymous false\npassword_file " + passwd + "\nacl_file " +
                                              FOGGATE_SOURCE_DIR "/examples/mosquitto/site-broker.acl"});
  }

  // mosquitto_pub as `user` on the ACL's listener; true when it exited 0
  // (a denied publish is still acknowledged: the broker drops it silently).
  bool command(const std::string& user, const std::string& password, const std::string& topic,
               const std::string& body) {
    int code = -1;
    const auto out = run_command({"mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(broker_->extra_port()),
                                  "-u", user, "-P", password, "-q", "1", "-t", topic, "-m", body},
                                 &code);
    EXPECT_EQ(code, 0) << out;
    return code == 0;
  }

  TempDir dir_;
  std::unique_ptr<Mosquitto> broker_;
};

TEST_F(AlarmsAclTest, OnlyOperatorsAndOnCallMayCommandAlarms) {
  Foggate gw(dir_, *broker_, R"("detectors":[
    {"name":"overheat","type":"threshold","field":"t","max":50,"severity":"critical","cooldown_ms":0}])");
  gw.set_broker(R"({"uris":["tcp://127.0.0.1:)" + std::to_string(broker_->extra_port()) +
                R"("],"username":"foggate","password_file":")" + dir_.file("gw.pass") + R"("})");
  gw.start();
  Probe p(broker_->uri());
  p.subscribe("foggate/gw1/alarms/#");
  p.publish("sensors/d1/temp", R"({"t":60})");
  p.publish("sensors/d2/temp", R"({"t":60})");
  const std::string d1 = "foggate/gw1/alarms/d1/overheat";
  const std::string d2 = "foggate/gw1/alarms/d2/overheat";
  ASSERT_TRUE(p.wait_for([&](const std::vector<Received>& all) {
    int n = 0;
    for (const auto& m : all) n += (m.topic == d1 || m.topic == d2) && !m.payload.empty();
    return n >= 2;
  })) << gw.log();

  // The device may write only sensors/d1/#; on-call may acknowledge but not
  // shelve. Each refused command is sent before the allowed one on the same
  // alarm: had it passed, it would have been applied first.
  ASSERT_TRUE(command("d1", "dev-pass", d1 + "/ack", R"({"operator":"mallory"})"));
  ASSERT_TRUE(command("oncall", "oc-pass", d1 + "/shelve", R"({"operator":"olive","duration_ms":60000})"));
  ASSERT_TRUE(command("oncall", "oc-pass", d1 + "/ack", R"({"operator":"olive"})"));
  ASSERT_TRUE(command("d1", "dev-pass", d2 + "/shelve", R"({"operator":"mallory","duration_ms":60000})"));
  ASSERT_TRUE(command("operator", "op-pass", d2 + "/shelve", R"({"operator":"oscar","duration_ms":60000})"));

  auto newest_in = [](const std::vector<Received>& all, const std::string& topic) {
    std::string last;
    for (const auto& m : all)
      if (m.topic == topic) last = m.payload;
    return last;
  };
  auto newest = [&](const std::string& topic) { return newest_in(p.messages(), topic); };
  ASSERT_TRUE(p.wait_for([&](const std::vector<Received>& all) {
    return newest_in(all, d1).find("acknowledged_by") != std::string::npos &&
           newest_in(all, d2).find("shelved_by") != std::string::npos;
  })) << gw.log();
  EXPECT_NE(newest(d1).find(R"("acknowledged_by":"olive")"), std::string::npos) << newest(d1);
  EXPECT_EQ(newest(d1).find("shelved_by"), std::string::npos) << newest(d1);
  EXPECT_NE(newest(d2).find(R"("shelved_by":"oscar")"), std::string::npos) << newest(d2);
  EXPECT_EQ(newest(d2).find("acknowledged_by"), std::string::npos) << newest(d2);
}

}  // namespace
}  // namespace foggate::itest
