// batch_readings(): turns a spooled uplink batch back into the readings it
// holds, as Messages with decoded fields, so that a degraded uplink can fold
// a full-resolution backlog into summaries (Uplink, "compaction").
//
// Thread-safety: a free function, no shared state.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "foggate/base/result.h"
#include "foggate/message/message.h"

namespace foggate::gateway {

struct BatchReadings {
  bool summary = false;  // a summary batch (version 2): its messages are summaries, not readings
  std::vector<std::shared_ptr<const Message>> messages;
  std::vector<bool> offloaded;  // parallel to messages
};

// Decodes `blob` (docs/uplink-format.md). Payload maps become fields as
// ingest makes them: nested objects flattened with '.', arrays and nulls
// left out; raw payloads get no fields. Errors: those of decode_batch().
Result<BatchReadings> batch_readings(std::string_view blob);

}  // namespace foggate::gateway
