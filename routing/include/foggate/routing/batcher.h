// Batcher: groups forward tasks per priority into batches. A batch seals
// when it reaches max_messages or max_raw_bytes (topic + payload bytes), or
// when the uplink's commit tick asks for everything (seal_all): open batches
// never outlive one commit interval, which bounds what a kill -9 can lose.
// Critical batches seal at once (max_messages 1 by default).
//
// Threads: owned by the uplink thread; not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "foggate/message/message.h"
#include "foggate/message/priority.h"

namespace foggate::routing {

struct BatchLimits {
  // Each batch carries its own topic and device dictionaries, so with many
  // devices small batches pay for them again and again: at 1000 devices a
  // 1000-message batch is 13% of the bytes in, a 5000-message one ~5%
  // (docs/benchmarks.md). At low rates commit_interval_ms seals them first.
  uint32_t max_messages = 5000;       // Default: 5000
  uint64_t max_raw_bytes = 256 * 1024;  // Default: 256 KiB of topic+payload
};

struct SealedBatch {
  Priority priority = Priority::kNormal;
  std::vector<std::shared_ptr<const Message>> messages;
  std::vector<uint32_t> flags;  // parallel to messages
  uint64_t raw_bytes = 0;
  // A batch of summaries (routing::Summarizer) rather than readings; its
  // `receipts` are those of the readings summarized, released with it.
  bool summary = false;
  std::vector<ReceiptPtr> receipts;
};

class Batcher {
 public:
  // Default: critical seals every message at once; the rest use BatchLimits{}.
  explicit Batcher(std::array<BatchLimits, kPriorityCount> limits = default_limits()) : limits_(limits) {}

  static std::array<BatchLimits, kPriorityCount> default_limits() {
    std::array<BatchLimits, kPriorityCount> l{};
    l[index_of(Priority::kCritical)].max_messages = 1;
    return l;
  }

  // Adds a message; appends to `sealed` the batch it completed, if any.
  void add(std::shared_ptr<const Message> m, Priority p, uint32_t flags, std::vector<SealedBatch>& sealed) {
    auto& open = open_[index_of(p)];
    open.priority = p;
    open.raw_bytes += m->topic.size() + m->payload.size();
    open.messages.push_back(std::move(m));
    open.flags.push_back(flags);
    const auto& lim = limits_[index_of(p)];
    if (open.messages.size() >= lim.max_messages || open.raw_bytes >= lim.max_raw_bytes) seal(p, sealed);
  }

  // Seals every open batch (commit tick, shutdown).
  void seal_all(std::vector<SealedBatch>& sealed) {
    for (Priority p : kAllPriorities) seal(p, sealed);
  }

  std::size_t open_messages() const {
    std::size_t n = 0;
    for (const auto& b : open_) n += b.messages.size();
    return n;
  }

 private:
  void seal(Priority p, std::vector<SealedBatch>& sealed) {
    auto& open = open_[index_of(p)];
    if (open.messages.empty()) return;
    sealed.push_back(std::move(open));
    open = SealedBatch{};
  }

  std::array<BatchLimits, kPriorityCount> limits_;
  std::array<SealedBatch, kPriorityCount> open_;
};

}  // namespace foggate::routing
