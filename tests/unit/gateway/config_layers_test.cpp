#include "config/config_layers.h"

#include <gtest/gtest.h>

#include "foggate/protocols/json.h"

namespace foggate::gateway {
namespace {

Config bootstrap() {
  auto c = parse_config(R"({"gateway":{"id":"gw1"},
    "rules":{"ordered":[{"name":"file-rule","tasks":[]}]},
    "alerts":{"qos":0}})");
  EXPECT_TRUE(c.has_value());
  return c.has_value() ? c.value() : Config{};
}

ConfigLayers::Outcome offer(ConfigLayers& l, ConfigLayer layer, const std::string& section, uint64_t v,
                            const std::string& body, ConfigIssues* out = nullptr) {
  ConfigIssues issues;
  auto r = l.offer(layer, section, {v, body, 1000}, issues);
  if (out) *out = issues;
  return r;
}

std::string rule_name(const ConfigLayers& l) {
  const auto& r = l.effective().rules.ordered;
  return r.empty() ? "" : r[0].name;
}

TEST(ConfigLayersTest, GatewayOverAllOverFile) {
  ConfigLayers l(bootstrap());
  EXPECT_EQ(rule_name(l), "file-rule");
  const std::string all = R"({"ordered":[{"name":"fleet","tasks":[]}]})";
  const std::string own = R"({"ordered":[{"name":"own","tasks":[]}]})";
  EXPECT_EQ(offer(l, ConfigLayer::kAll, "rules", 1, all), ConfigLayers::Outcome::kApplied);
  EXPECT_EQ(rule_name(l), "fleet");
  EXPECT_EQ(offer(l, ConfigLayer::kGateway, "rules", 1, own), ConfigLayers::Outcome::kApplied);
  EXPECT_EQ(rule_name(l), "own");
  // A new fleet version is kept but stays shadowed.
  EXPECT_EQ(offer(l, ConfigLayer::kAll, "rules", 2, R"({"ordered":[]})"), ConfigLayers::Outcome::kApplied);
  EXPECT_EQ(rule_name(l), "own");
  // Removing the gateway's own falls back to the fleet's, then to the file.
  EXPECT_EQ(offer(l, ConfigLayer::kGateway, "rules", 0, ""), ConfigLayers::Outcome::kApplied);
  EXPECT_EQ(rule_name(l), "");
  EXPECT_EQ(offer(l, ConfigLayer::kAll, "rules", 0, ""), ConfigLayers::Outcome::kApplied);
  EXPECT_EQ(rule_name(l), "file-rule");
  EXPECT_EQ(offer(l, ConfigLayer::kAll, "rules", 0, ""), ConfigLayers::Outcome::kUnchanged);
}

TEST(ConfigLayersTest, ASectionReplacesWholeFromDefaultsNotMergedWithTheFile) {
  ConfigLayers l(bootstrap());
  EXPECT_EQ(l.effective().alerts.qos, 0);
  EXPECT_EQ(offer(l, ConfigLayer::kGateway, "alerts", 1, R"({"retain":true})"), ConfigLayers::Outcome::kApplied);
  EXPECT_TRUE(l.effective().alerts.retain);
  EXPECT_EQ(l.effective().alerts.qos, 1) << "the default, not the file's 0";
  EXPECT_EQ(l.effective().rules.ordered[0].name, "file-rule") << "other sections untouched";
}

TEST(ConfigLayersTest, InvalidIsRejectedWithPathsAndChangesNothing) {
  ConfigLayers l(bootstrap());
  ConfigIssues issues;
  EXPECT_EQ(offer(l, ConfigLayer::kGateway, "rules", 3, R"({"ordered":[{"name":"x","when":["t >"],"tasks":[]}]})",
                  &issues),
            ConfigLayers::Outcome::kRejected);
  ASSERT_FALSE(issues.empty());
  EXPECT_EQ(issues[0].path, "rules.ordered[0].when[0]");
  EXPECT_EQ(rule_name(l), "file-rule");
  EXPECT_FALSE(l.value(ConfigLayer::kGateway, "rules").has_value());
  // A shadowed fleet section is validated too.
  EXPECT_EQ(offer(l, ConfigLayer::kAll, "detectors", 1, R"([{"name":"d","type":"nope","field":"t"}])"),
            ConfigLayers::Outcome::kRejected);
  EXPECT_EQ(offer(l, ConfigLayer::kAll, "gateway", 1, R"({})"), ConfigLayers::Outcome::kRejected);
  EXPECT_EQ(offer(l, ConfigLayer::kAll, "rules", 1, "{not json"), ConfigLayers::Outcome::kRejected);

  auto state = protocols::parse_json(l.state_json(5));
  ASSERT_TRUE(state.has_value());
  const auto* rules = state->find("sections")->find("rules");
  EXPECT_EQ(rules->find("layer")->as_string(), "file");
  ASSERT_NE(rules->find("rejected"), nullptr) << l.state_json(5);
}

TEST(ConfigLayersTest, RedeliveryIsUnchangedAndStateReportsVersionAndHash) {
  ConfigLayers l(bootstrap());
  const std::string body = R"({"interval_ms":500})";
  EXPECT_EQ(offer(l, ConfigLayer::kGateway, "metrics", 7, body), ConfigLayers::Outcome::kApplied);
  EXPECT_EQ(offer(l, ConfigLayer::kGateway, "metrics", 7, body), ConfigLayers::Outcome::kUnchanged);
  EXPECT_EQ(l.effective().metrics.interval_ms, 500);
  auto state = protocols::parse_json(l.state_json(5));
  const auto* m = state->find("sections")->find("metrics");
  EXPECT_EQ(m->find("layer")->as_string(), "gateway");
  EXPECT_EQ(m->find("version")->as_number(), 7);
  EXPECT_EQ(m->find("hash")->as_string(), body_hash(body));
  EXPECT_EQ(m->find("applied_ms")->as_number(), 1000);
}

}  // namespace
}  // namespace foggate::gateway
