// `foggate decode`: prints the messages inside uplink batches, one JSON
// object per line: the cloud-side engineer's check of what arrived.
#pragma once

#include <optional>
#include <string>

#include "foggate/protocols/mqtt_client.h"
#include <vector>

namespace foggate::gateway {

struct DecodeToolOptions {
  std::vector<std::string> files;  // "-" or empty (without uri) = stdin
  std::optional<protocols::MqttOptions> server;  // subscribe to this broker instead of reading files
  std::string topic = "foggate/+/uplink/#";
  long count = 0;                  // stop after this many batches (0 = no limit)
  long timeout_s = 0;              // stop after this long (0 = no limit)
  long max_bytes = 64l << 20;      // decompressed size a batch may reach (a zip bomb stops here)
};

// Returns the process exit code: 0 ok, 1 when any input failed to decode.
int run_decode_tool(const DecodeToolOptions& options);

}  // namespace foggate::gateway
