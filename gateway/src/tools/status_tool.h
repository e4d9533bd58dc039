// `foggate status`: one gateway's health at a glance, from what it
// publishes on the site broker (retained status and config state, the
// periodic metrics document); nothing is asked of the gateway itself.
#pragma once

#include <cstdint>
#include <string>

#include "foggate/protocols/mqtt_client.h"

namespace foggate::gateway {

struct StatusToolOptions {
  protocols::MqttOptions server;  // the site broker (resolve_connection())
  std::string id;      // the gateway id
  long timeout_s = 15; // how long to wait for the status and one metrics document
};

// Returns the exit code: 0 online, 1 offline or unknown (no status, no
// broker). Prints the summary on stdout.
int run_status_tool(const StatusToolOptions& options);

// The documents received, "" for those that did not arrive.
struct GatewayDocuments {
  std::string status;        // foggate/<id>/status (retained)
  std::string metrics;       // foggate/<id>/metrics (the newest)
  std::string config_state;  // foggate/<id>/state/config (retained)
};

struct StatusSummary {
  std::string text;  // lines ending in '\n'
  bool online = false;
};

// The human summary of what arrived; now_ms is wall-clock time, for ages.
StatusSummary summarize_status(const std::string& id, const GatewayDocuments& docs, long timeout_s, int64_t now_ms);

}  // namespace foggate::gateway
