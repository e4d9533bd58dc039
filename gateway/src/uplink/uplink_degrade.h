// UplinkDegrade: the uplink's degraded mode (issue #15), owned by the
// uplink thread like everything else in Uplink::Impl.
//
// While routing::DegradePolicy says a priority's backlog cannot drain in
// time, that priority's readings are folded into one summary window
// (routing::Summarizer) instead of batched one by one; the window is sealed
// into summary batches when it ends, when the priority recovers, and on
// stop or reconfigure, and early when the link has nothing of that
// priority or a more important one waiting (it would idle otherwise) and
// the window folds at least kMinReadingsPerSummary readings per summary:
// the summaries' resolution follows what the link can carry. The policy
// also sees each priority's recent traffic (InflowRate, in spooled bytes
// at full resolution), so a priority resumes only when it fits the budget.
// Compaction folds that priority's full-resolution batches already in the
// spool into one summary batch that replaces them.
//
// It also keeps the spool ids of summary batches this process sealed (to
// count summaries acknowledged upstream) and of spooled batches that must
// not be compacted again.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "foggate/base/clock.h"
#include "foggate/routing/batcher.h"
#include "foggate/routing/degrade_policy.h"
#include "foggate/routing/inflow_rate.h"
#include "foggate/routing/summarizer.h"
#include "foggate/storage/spool.h"
#include "uplink/uplink.h"

namespace foggate::gateway {

// A summary batch that replaces spooled batches: the uplink appends it and
// removes them in one transaction, so a crash keeps one or the other.
struct CompactedBatch {
  routing::SealedBatch batch;
  std::vector<int64_t> replaces;
};

class UplinkDegrade {
 public:
  static constexpr uint64_t kMinReadingsPerSummary = 10;

  UplinkDegrade(const routing::DegradeOptions& options, const std::string& timestamp_field, UplinkStats& stats,
                const Clock& clock);

  void set_options(const routing::DegradeOptions& options) { policy_.set_options(options); }
  bool degraded(Priority p) const { return policy_.degraded(p); }

  // Every forwarded reading, degraded or not (topic + payload bytes).
  void offered(Priority p, uint64_t raw_bytes) { inflow_[index_of(p)].add(raw_bytes); }
  // Every full-resolution batch encoded: its spooled bytes per raw byte.
  void encoded(uint64_t raw_bytes, uint64_t spooled_bytes);

  // Re-evaluates the policy from the spool's backlog; seals the window of a
  // priority that returns to full resolution and of one whose window ended.
  void update(int64_t now, const storage::Spool& spool, const UplinkSection& cfg,
              std::vector<routing::SealedBatch>& sealed);
  // Folds a reading of a degraded priority into its window; seals the window
  // early once it holds as many summaries as a full batch holds messages.
  void add(Priority p, const Message& m, bool offloaded, const UplinkSection& cfg,
           std::vector<routing::SealedBatch>& sealed);
  // Seals the open window of `p` (if any) into summary batches.
  void flush(Priority p, const UplinkSection& cfg, std::vector<routing::SealedBatch>& sealed);
  // A few of `p`'s spooled full-resolution batches folded into one summary
  // batch, or nothing when none is left (or a read failed: next turn).
  std::optional<CompactedBatch> compact(Priority p, storage::Spool& spool);

  // Spool bookkeeping, from the uplink's append, give-up, rollback and ack.
  void appended(int64_t spool_id, bool summary, uint32_t messages, const std::vector<int64_t>& replaced);
  void given_up(const std::vector<int64_t>& replaces);
  void rolled_back(const std::vector<int64_t>& replaces);  // per staged batch, after forget_row_ids()
  void forget_row_ids() { summary_ids_.clear(); }          // a rollback may reuse them
  void acknowledged(int64_t spool_id, Priority p);

  // Readings in the open window: not yet durable.
  uint64_t window_readings(Priority p) const { return summarizers_[index_of(p)].readings(); }

 private:
  routing::DegradePolicy policy_;
  const std::string timestamp_field_;
  UplinkStats& stats_;
  const Clock& clock_;
  std::array<routing::Summarizer, kPriorityCount> summarizers_;
  std::array<routing::InflowRate, kPriorityCount> inflow_;  // raw bytes
  double spooled_per_raw_ = 1.0;  // recent full-resolution batches; 1 until one is seen
  bool seen_encoded_ = false;
  std::array<int64_t, kPriorityCount> window_end_{};     // mono ms: when the open window is sealed
  std::unordered_map<int64_t, uint32_t> summary_ids_;    // spool id -> summaries in it (sealed by this process)
  std::unordered_set<int64_t> not_compactable_;          // spooled summary batches and undecodable ones
  std::unordered_set<int64_t> compacting_;               // replaced by a summary batch not yet appended
  int64_t last_turn_ms_ = 0;
};

}  // namespace foggate::gateway
