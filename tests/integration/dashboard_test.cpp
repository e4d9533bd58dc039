// The Grafana dashboard (examples/grafana/foggate-dashboard.json) against a
// running gateway: every foggate_* name that a panel query or a template
// variable uses must be a sample on the Prometheus listener of a gateway
// with an uplink (so the uplink and spool families exist) after MQTT and
// CoAP readings (so labelled series such as decode_errors_total exist).
// A renamed metric, or a panel added over a name foggate never exports,
// fails here instead of drawing an empty graph in the field.
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "fixture.h"
#include "loopback_http.h"

namespace foggate::itest {
namespace {

// The sample names of a Prometheus text page (HTTP response included):
// "foggate_x" for both "foggate_x 1" and "foggate_x{k=\"v\"} 1".
std::set<std::string> sample_names(const std::string& response) {
  std::set<std::string> out;
  const auto body = response.find("\r\n\r\n");
  std::istringstream in(body == std::string::npos ? "" : response.substr(body + 4));
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    out.insert(line.substr(0, line.find_first_of("{ ")));
  }
  return out;
}

// Where a name is used: a panel's title, or "variable <name>".
using Uses = std::map<std::string, std::set<std::string>>;

void names_in(const std::string& query, const std::string& where, Uses& uses) {
  static const std::regex name("foggate_[a-z0-9_]+");
  for (std::sregex_iterator it(query.begin(), query.end(), name), end; it != end; ++it) uses[it->str()].insert(where);
}

// Every foggate_* name in the panels' target expressions (rows included,
// collapsed ones hold their panels inside) and the template variables'
// queries. A panel with targets but no foggate_* name is reported as
// "(none)" so that a query field the walk does not know fails too.
void panel_names(const protocols::JsonValue& panels, Uses& uses) {
  for (const auto& panel : panels.items()) {
    const auto* title = panel.find("title");
    const std::string where = title && title->is_string() ? title->as_string() : "(untitled)";
    if (const auto* targets = panel.find("targets"); targets && targets->is_array()) {
      std::size_t found = 0;
      for (const auto& t : targets->items()) {
        const auto* expr = t.find("expr");
        if (expr == nullptr || !expr->is_string()) continue;
        Uses here;
        names_in(expr->as_string(), where, here);
        found += here.size();
        for (auto& [n, w] : here) uses[n].insert(w.begin(), w.end());
      }
      if (found == 0) uses["(none)"].insert(where);
    }
    if (const auto* inner = panel.find("panels"); inner && inner->is_array()) panel_names(*inner, uses);
  }
}

Uses dashboard_names(const protocols::JsonValue& dashboard) {
  Uses uses;
  if (const auto* panels = dashboard.find("panels"); panels && panels->is_array()) panel_names(*panels, uses);
  const auto* templating = dashboard.find("templating");
  const auto* list = templating ? templating->find("list") : nullptr;
  if (list == nullptr || !list->is_array()) return uses;
  for (const auto& var : list->items()) {
    const auto* name = var.find("name");
    const std::string where = "variable " + (name && name->is_string() ? name->as_string() : "?");
    // A query variable's query is a string, or since Grafana 9 an object
    // holding it.
    const auto* q = var.find("query");
    if (q && q->is_object()) q = q->find("query");
    if (q && q->is_string()) names_in(q->as_string(), where, uses);
  }
  return uses;
}

// The names the dashboard uses that the page lacks, each with its users.
std::string missing(const Uses& uses, const std::set<std::string>& exposed) {
  std::string out;
  for (const auto& [name, where] : uses) {
    if (exposed.contains(name)) continue;
    out += name + " (";
    for (const auto& w : where) out += (w == *where.begin() ? "" : ", ") + w;
    out += ")\n";
  }
  return out;
}

class DashboardTest : public ::testing::Test {
 protected:
  DashboardTest()
      : site_(dir_),
        cloud_(dir_, {.name = "cloud"}),
        http_port_(free_tcp_port()),
        gw_(dir_, site_,
            R"("uplink":{"uris":[")" + cloud_.uri() + R"("],"commit_interval_ms":100})") {
    gw_.set_metrics_extra(R"("prometheus":{"enabled":true,"bind":"127.0.0.1","port":)" +
                          std::to_string(http_port_) + "}");
    gw_.start();
  }

  std::string scrape() {
    return testing_support::http_exchange(http_port_, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  }

  TempDir dir_;
  Mosquitto site_;
  Mosquitto cloud_;
  uint16_t http_port_;
  Foggate gw_;
};

TEST_F(DashboardTest, EveryMetricTheDashboardQueriesIsExposed) {
  // Readings of every kind the panels break down: valid MQTT, malformed
  // MQTT (decode_errors_total has no series before its first error) and CoAP.
  Probe probe(site_.uri());
  for (int i = 0; i < 4; ++i) probe.publish("sensors/dev-" + std::to_string(i) + "/t", R"({"t":20.5})");
  probe.publish("sensors/bad/t", R"({"t":)");
  const auto coap = run_command({COAP_CLIENT_BIN, "-B", "5", "-m", "post", "-t", "50", "-e", R"({"t":21})",
                                 "coap://127.0.0.1:" + std::to_string(gw_.coap_port()) + "/sensors/c-1/t"});

  // Until the page shows all of it, the uplink's sent bytes included.
  std::string page;
  const bool settled = eventually(
      [&] {
        page = scrape();
        return page.find(R"(foggate_decode_errors_total{source="mqtt",reason="json_syntax"} 1)") != std::string::npos &&
               page.find(R"(foggate_messages_received_total{source="coap"} 1)") != std::string::npos &&
               page.find("foggate_uplink_bytes_sent_total{priority=\"low\"} 0\n") == std::string::npos &&
               page.find(R"(foggate_uplink_bytes_sent_total{priority="low"})") != std::string::npos;
      },
      30s, 100ms);
  ASSERT_TRUE(settled) << "coap-client: " << coap << "\npage:\n" << page << "\nlog:\n" << gw_.log();
  const auto exposed = sample_names(page);

  const std::string path = std::string(FOGGATE_SOURCE_DIR) + "/examples/grafana/foggate-dashboard.json";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::stringstream text;
  text << in.rdbuf();
  auto dashboard = protocols::parse_json(text.str());
  ASSERT_TRUE(dashboard.has_value()) << path << ": " << dashboard.error().reason << " " << dashboard.error().detail;

  const Uses uses = dashboard_names(*dashboard);
  // A walk that found next to nothing would pass vacuously.
  ASSERT_GE(uses.size(), 20u) << "foggate_* names found in the dashboard: " << uses.size();
  EXPECT_EQ(missing(uses, exposed), "") << "queried by the dashboard, not on a running gateway's /metrics";

  // The check itself can fail: a name foggate does not export is reported
  // with the panel that uses it, and so is a panel without any name.
  auto bogus = protocols::parse_json(R"json({"panels":[
      {"type":"row","title":"r","panels":[{"title":"Bogus","targets":[
        {"expr":"rate(foggate_messages_received_total[5m]) + rate(foggate_no_such_metric_total[5m])"}]}]},
      {"title":"Empty","targets":[{"expr":"vector(1)"}]}]})json");
  ASSERT_TRUE(bogus.has_value());
  EXPECT_EQ(missing(dashboard_names(*bogus), exposed), "(none) (Empty)\nfoggate_no_such_metric_total (Bogus)\n");
}

}  // namespace
}  // namespace foggate::itest
