// `foggate config push` and `foggate config pull`: publish a (signed)
// configuration section retained, and print what a gateway has in force.
#pragma once

#include <cstdint>
#include <string>

#include "foggate/protocols/mqtt_client.h"

namespace foggate::gateway {

struct ConfigToolOptions {
  std::string action;   // "push" or "pull"
  protocols::MqttOptions server;  // the site broker (resolve_connection())
  std::string section;  // push
  std::string file;     // push: the section document (JSON)
  std::string sign_key; // push: signing key file (PEM EC private key or HMAC secret); none = unsigned
  std::string target;   // push: gateway id or "all"; pull: gateway id
  uint64_t version = 0; // push: 0 = now in milliseconds (monotonic enough across pushes)
  bool remove = false;  // push: remove the section from that layer
  long timeout_s = 5;
};

int run_config_tool(const ConfigToolOptions& options);

}  // namespace foggate::gateway
