// ForwardSink: where "forward" tasks go. This is the hand-off point to the
// store-and-forward uplink: the uplink implements this interface; until it
// is configured, the gateway plugs in a sink that counts what it was given.
//
// Threads: forward() is called from worker threads, possibly several at
// once; implementations must not block for long (hand over to a queue).
#pragma once

#include <cstdint>
#include <memory>

#include "foggate/message/message.h"
#include "foggate/message/priority.h"

namespace foggate::routing {

// Flag bits travelling with a forwarded message into the uplink batch
// (docs/uplink-format.md, "flags").
inline constexpr uint32_t kForwardOffloaded = 1;  // sent upstream instead of being processed here

class ForwardSink {
 public:
  virtual ~ForwardSink() = default;
  // Takes a share of the message. Returns false when the sink refused it
  // (it must then have counted the refusal itself).
  virtual bool forward(std::shared_ptr<const Message> message, Priority priority, uint32_t flags) = 0;
};

}  // namespace foggate::routing
