// Configuration over retained MQTT topics, against a real mosquitto and the
// real foggate binary; sections pushed with `foggate config push`.
#include "foggate/protocols/config_envelope.h"
#include "fixture.h"

namespace foggate::itest {
namespace {

constexpr const char* kHot = R"("detectors":[
  {"name":"overheat","type":"threshold","field":"t","max":50,"cooldown_ms":0}])";

class RemoteConfigTest : public ::testing::Test {
 protected:
  RemoteConfigTest() : broker_(dir_) {}

  // Publishes a section retained: bare JSON (unsigned) or through the CLI.
  void put_bare(const std::string& target, const std::string& section, const std::string& body) {
    Probe p(broker_.uri());
    p.publish("foggate/" + target + "/config/" + section, body, 1, true);
  }
  int push(const std::string& target, const std::string& section, const std::string& body,
           const std::string& key = "", uint64_t version = 0, std::string* out = nullptr) {
    const std::string file = dir_.file(section + "-" + std::to_string(++pushes_) + ".json");
    dir_.write(section + "-" + std::to_string(pushes_) + ".json", body);
    std::vector<std::string> argv{FOGGATE_BIN, "config", "push", "--uri", broker_.uri(), "--section", section,
                                  "--target", target, "--file", file};
    if (!key.empty()) argv.insert(argv.end(), {"--sign-key", key});
    if (version) argv.insert(argv.end(), {"--version", std::to_string(version)});
    int code = -1;
    auto text = run_command(argv, &code);
    if (out) *out = text;
    return code;
  }

  // Waits for a state document whose `section` entry satisfies `pred`.
  bool wait_state(Probe& p, const std::string& section,
                  const std::function<bool(const protocols::JsonValue&)>& pred) {
    return p.wait_for([&](const std::vector<Received>& all) {
      for (auto it = all.rbegin(); it != all.rend(); ++it) {
        if (it->topic != "foggate/gw1/state/config") continue;
        auto doc = protocols::parse_json(it->payload);
        const auto* sec = doc ? doc->find("sections") : nullptr;
        const auto* s = sec ? sec->find(section) : nullptr;
        return s != nullptr && pred(*s);
      }
      return false;
    });
  }
  static bool in_force(const protocols::JsonValue& s, const std::string& layer) {
    return s.find("layer") && s.find("layer")->as_string() == layer;
  }
  static std::string rejection(const protocols::JsonValue& s) {
    const auto* r = s.find("rejected");
    return r ? protocols::to_json(*r) : "";
  }

  // Publishes t=99 for `device` and reports whether an alert for it arrives.
  bool alerts_for(Probe& p, const std::string& device, std::chrono::milliseconds wait = 3s) {
    const std::string topic = "foggate/gw1/alerts/warning/" + device;
    p.publish("sensors/" + device + "/temp", R"({"t":99})");
    return p.wait_count(topic, 1, wait);
  }

  TempDir dir_;
  Mosquitto broker_;
  int pushes_ = 0;
};

TEST_F(RemoteConfigTest, RulesSectionChangesAlertsLiveAndBrokenOneIsRejected) {
  Foggate gw(dir_, broker_, kHot);
  gw.start();
  Probe p(broker_.uri());
  p.subscribe("foggate/gw1/#");
  ASSERT_TRUE(alerts_for(p, "before")) << gw.log();

  // Mute temperature readings: matched, no tasks.
  ASSERT_EQ(push("gw1", "rules", R"({"ordered":[{"name":"mute","topics":["sensors/+/temp"],"tasks":[]}]})"), 0);
  ASSERT_TRUE(wait_state(p, "rules", [](const auto& s) { return in_force(s, "gateway"); })) << gw.log();
  p.subscribe("foggate/gw1/metrics", 0);
  p.publish("sensors/muted/temp", R"({"t":99})");
  EXPECT_EQ(gw.wait_metric(p, "rule_matches_total{rule=mute}", 1), 1);
  EXPECT_TRUE(p.messages("foggate/gw1/alerts/#").size() == 1) << "only the alert from before";

  // A broken section: rejected with its path; the mute rule stays in force.
  put_bare("gw1", "rules", R"({"ordered":[{"name":"bad","when":["t >"],"tasks":[]}]})");
  ASSERT_TRUE(wait_state(p, "rules", [](const auto& s) {
    return rejection(s).find("rules.ordered[0].when[0]") != std::string::npos;
  })) << gw.log();
  p.publish("sensors/muted2/temp", R"({"t":99})");
  EXPECT_EQ(gw.wait_metric(p, "rule_matches_total{rule=mute}", 2), 2);
  EXPECT_EQ(p.messages("foggate/gw1/alerts/#").size(), 1u);
  EXPECT_TRUE(gw.running());

  // Removing the section falls back to the file's rules: alerts again.
  Probe(broker_.uri()).publish("foggate/gw1/config/rules", "", 1, true);
  ASSERT_TRUE(wait_state(p, "rules", [](const auto& s) { return in_force(s, "file"); }));
  EXPECT_TRUE(alerts_for(p, "after")) << gw.log();
}

TEST_F(RemoteConfigTest, FleetSectionAppliesUntilTheGatewaysOwnOverridesIt) {
  Foggate gw(dir_, broker_, "");  // no detectors in the file
  gw.start();
  Probe p(broker_.uri());
  p.subscribe("foggate/gw1/#");
  put_bare("all", "detectors", R"([{"name":"fleet","type":"threshold","field":"t","max":50,"cooldown_ms":0}])");
  ASSERT_TRUE(wait_state(p, "detectors", [](const auto& s) { return in_force(s, "all"); })) << gw.log();
  ASSERT_TRUE(alerts_for(p, "a"));
  EXPECT_NE(p.messages("foggate/gw1/alerts/#").back().payload.find("\"detector\":\"fleet\""), std::string::npos);

  put_bare("gw1", "detectors", R"([{"name":"own","type":"threshold","field":"t","max":50,"cooldown_ms":0}])");
  ASSERT_TRUE(wait_state(p, "detectors", [](const auto& s) { return in_force(s, "gateway"); }));
  ASSERT_TRUE(alerts_for(p, "b"));
  EXPECT_NE(p.messages("foggate/gw1/alerts/#").back().payload.find("\"detector\":\"own\""), std::string::npos);
}

TEST_F(RemoteConfigTest, RestartWithTheBrokerDownAppliesThePersistedSections) {
  Foggate gw(dir_, broker_, kHot);
  gw.start();
  {
    Probe p(broker_.uri());
    p.subscribe("foggate/gw1/state/config");
    ASSERT_EQ(push("gw1", "rules", R"({"ordered":[{"name":"mute","topics":["sensors/+/temp"],"tasks":[]}]})"), 0);
    ASSERT_TRUE(wait_state(p, "rules", [](const auto& s) { return in_force(s, "gateway"); })) << gw.log();
  }
  ASSERT_EQ(gw.stop(), 0);
  broker_.stop();  // no persistence: the retained section is gone with it
  gw.start(/*wait_online=*/false);
  broker_.start();
  Probe p(broker_.uri());
  p.subscribe("foggate/gw1/#");
  ASSERT_TRUE(wait_state(p, "rules", [](const auto& s) { return in_force(s, "gateway"); })) << gw.log();
  p.subscribe("foggate/gw1/metrics", 0);
  p.publish("sensors/x/temp", R"({"t":99})");
  EXPECT_EQ(gw.wait_metric(p, "rule_matches_total{rule=mute}", 1), 1) << gw.log();
  EXPECT_TRUE(p.messages("foggate/gw1/alerts/#").empty());
}

TEST_F(RemoteConfigTest, WithAKeyOnlySignedNewerSectionsApply) {
  dir_.write("hmac.key", "correct horse battery staple\n");
  dir_.write("other.key", "not the gateway's key\n");
  Foggate gw(dir_, broker_, kHot, "gw1", R"("config_key_file":")" + dir_.file("hmac.key") + "\"");
  gw.start();
  Probe p(broker_.uri());
  p.subscribe("foggate/gw1/#");
  const std::string mute = R"({"ordered":[{"name":"mute","topics":["sensors/+/temp"],"tasks":[]}]})";

  put_bare("gw1", "rules", mute);
  ASSERT_TRUE(wait_state(p, "rules", [](const auto& s) { return rejection(s).find("unsigned") != std::string::npos; }))
      << gw.log();
  ASSERT_EQ(push("gw1", "rules", mute, dir_.file("other.key"), 10), 0);
  ASSERT_TRUE(wait_state(p, "rules", [](const auto& s) {
    return rejection(s).find("bad_signature") != std::string::npos;
  }));
  EXPECT_TRUE(alerts_for(p, "still-alerting")) << "nothing unsigned or badly signed applied";

  ASSERT_EQ(push("gw1", "rules", mute, dir_.file("hmac.key"), 20), 0);
  ASSERT_TRUE(wait_state(p, "rules", [](const auto& s) {
    return in_force(s, "gateway") && s.find("version")->as_number() == 20;
  }));
  // A replay of an older signed version is refused.
  ASSERT_EQ(push("gw1", "rules", R"({"ordered":[]})", dir_.file("hmac.key"), 15), 0);
  ASSERT_TRUE(wait_state(p, "rules", [](const auto& s) {
    return rejection(s).find("replayed older version 15") != std::string::npos &&
           s.find("version")->as_number() == 20;
  })) << gw.log();
}

TEST_F(RemoteConfigTest, EcdsaSignedSectionApplies) {
  const std::string keys = FOGGATE_SOURCE_DIR "/tests/data/keys/";
  Foggate gw(dir_, broker_, kHot, "gw1", R"("config_key_file":")" + keys + "config-ec.pub\"");
  gw.start();
  Probe p(broker_.uri());
  p.subscribe("foggate/gw1/#");
  const std::string body = R"([{"name":"signed","type":"threshold","field":"t","max":50,"cooldown_ms":0}])";
  ASSERT_EQ(push("gw1", "detectors", body, keys + "other-ec.key", 1), 0);
  ASSERT_TRUE(wait_state(p, "detectors", [](const auto& s) {
    return rejection(s).find("bad_signature") != std::string::npos;
  })) << gw.log();
  ASSERT_EQ(push("gw1", "detectors", body, keys + "config-ec.key", 2), 0);
  ASSERT_TRUE(wait_state(p, "detectors", [](const auto& s) { return in_force(s, "gateway"); })) << gw.log();
  ASSERT_TRUE(alerts_for(p, "z"));
  EXPECT_NE(p.messages("foggate/gw1/alerts/#").back().payload.find("\"detector\":\"signed\""), std::string::npos);
}

TEST_F(RemoteConfigTest, IngestSectionResubscribesLive) {
  Foggate gw(dir_, broker_, kHot);
  gw.start();
  Probe p(broker_.uri());
  p.subscribe("foggate/gw1/#");
  put_bare("gw1", "ingest", R"({"mqtt":[{"filter":"plant/#","pattern":"plant/{device}/{metric}"}],
                                "coap":{"enabled":false}})");
  ASSERT_TRUE(wait_state(p, "ingest", [](const auto& s) { return in_force(s, "gateway"); })) << gw.log();
  // The new filter is live once its first message is processed; the old one is gone.
  p.publish("plant/press-1/temp", R"({"t":99})");
  ASSERT_TRUE(p.wait_count("foggate/gw1/alerts/warning/press-1", 1)) << gw.log();
  p.subscribe("foggate/gw1/metrics", 0);
  const double before = gw.metric(p, "messages_received_total{source=mqtt}");
  p.publish("sensors/old/temp", R"({"t":99})");
  p.publish("plant/press-2/temp", R"({"t":99})");
  ASSERT_TRUE(p.wait_count("foggate/gw1/alerts/warning/press-2", 1));
  EXPECT_EQ(gw.metric(p, "messages_received_total{source=mqtt}"), before + 1) << "sensors/# unsubscribed";
  EXPECT_TRUE(p.messages("foggate/gw1/alerts/warning/old").empty());
}

TEST_F(RemoteConfigTest, UplinkSectionTurnsTheUplinkOnOffAndOnAgain) {
  Mosquitto cloud_broker(dir_, {.name = "cloud"});
  Foggate gw(dir_, broker_, R"("rules":{"default":[{"task":"forward","priority":"normal"}]})");
  gw.start();
  Probe p(broker_.uri());
  p.subscribe("foggate/gw1/#");
  Probe cloud(cloud_broker.uri());
  cloud.subscribe("foggate/gw1/uplink/#");
  const std::string on = R"({"uris":[")" + cloud_broker.uri() + R"("],"commit_interval_ms":100})";

  put_bare("gw1", "uplink", on);
  ASSERT_TRUE(wait_state(p, "uplink", [](const auto& s) { return in_force(s, "gateway"); })) << gw.log();
  p.publish("sensors/a/temp", R"({"t":1})");
  ASSERT_TRUE(cloud.wait_count("foggate/gw1/uplink/#", 1)) << gw.log();

  Probe(broker_.uri()).publish("foggate/gw1/config/uplink", "", 1, true);  // off: the file has none
  ASSERT_TRUE(wait_state(p, "uplink", [](const auto& s) { return in_force(s, "file"); }));
  p.subscribe("foggate/gw1/metrics", 0);
  p.publish("sensors/b/temp", R"({"t":2})");
  EXPECT_EQ(gw.wait_metric(p, "forward_unconfigured_total", 1), 1);

  put_bare("gw1", "uplink", on);  // on again
  ASSERT_TRUE(wait_state(p, "uplink", [](const auto& s) { return in_force(s, "gateway"); }));
  p.publish("sensors/c/temp", R"({"t":3})");
  EXPECT_TRUE(cloud.wait_count("foggate/gw1/uplink/#", 2)) << gw.log();
}

TEST_F(RemoteConfigTest, PullPrintsWhatIsInForce) {
  Foggate gw(dir_, broker_, kHot);
  gw.start();
  Probe p(broker_.uri());
  p.subscribe("foggate/gw1/state/config");
  ASSERT_EQ(push("gw1", "alerts", R"({"qos":0})"), 0);
  ASSERT_TRUE(wait_state(p, "alerts", [](const auto& s) { return in_force(s, "gateway"); }));
  int code = -1;
  auto out = run_command({FOGGATE_BIN, "config", "pull", "--uri", broker_.uri(), "--id", "gw1"}, &code);
  ASSERT_EQ(code, 0) << out;
  auto doc = protocols::parse_json(out);
  ASSERT_TRUE(doc.has_value()) << out;
  EXPECT_EQ(doc->find("in_force")->find("alerts")->find("qos")->as_number(), 0);
  EXPECT_EQ(doc->find("state")->find("sections")->find("rules")->find("layer")->as_string(), "file");
}

}  // namespace
}  // namespace foggate::itest
