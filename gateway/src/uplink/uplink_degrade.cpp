#include "uplink/uplink_degrade.h"

#include <algorithm>

#include "foggate/base/log.h"
#include "uplink/batch_readings.h"

namespace foggate::gateway {
namespace {

// Spooled batches folded into one summary batch per priority and loop turn
// while degraded: bounds the decoding work of one turn.
constexpr std::size_t kCompactPerTurn = 64;

// Moves summaries [from, to) of a flushed window into a summary batch.
void take_summaries(routing::SummaryWindow& w, std::size_t from, std::size_t to, routing::SealedBatch& b) {
  for (std::size_t j = from; j < to; ++j) {
    b.raw_bytes += w.summaries[j]->topic.size() + w.summaries[j]->payload.size();
    b.flags.push_back(w.offloaded[j] != 0 ? routing::kForwardOffloaded : 0u);
    b.messages.push_back(std::move(w.summaries[j]));
  }
}

routing::SealedBatch summary_batch(Priority p) {
  routing::SealedBatch b;
  b.priority = p;
  b.summary = true;
  return b;
}

}  // namespace

UplinkDegrade::UplinkDegrade(const routing::DegradeOptions& options, const std::string& timestamp_field,
                             UplinkStats& stats, const Clock& clock)
    : policy_(options), timestamp_field_(timestamp_field), stats_(stats), clock_(clock) {
  for (auto& s : summarizers_) s = routing::Summarizer(timestamp_field_);
}

void UplinkDegrade::update(int64_t now, const storage::Spool& spool, const UplinkSection& cfg,
                           std::vector<routing::SealedBatch>& sealed) {
  routing::BacklogView v;
  for (Priority p : kAllPriorities) v.bytes[index_of(p)] = spool.bytes(p);
  v.max_bytes = cfg.spool_max_bytes;
  v.budget_bytes_per_s = cfg.bytes_per_s;
  for (Priority p : kAllPriorities) v.inflow_bytes_per_s[index_of(p)] = inflow_[index_of(p)].per_s(now) * spooled_per_raw_;
  std::array<bool, kPriorityCount> was{};
  for (Priority p : kAllPriorities) was[index_of(p)] = policy_.degraded(p);
  policy_.update(v);
  const int64_t elapsed = last_turn_ms_ > 0 ? std::max<int64_t>(0, now - last_turn_ms_) : 0;
  last_turn_ms_ = now;
  bool link_idle = true;  // nothing of p or a more important priority waits in the spool
  for (Priority p : kAllPriorities) {
    const auto i = index_of(p);
    link_idle = link_idle && !spool.next(p).has_value();
    const auto& sum = summarizers_[i];
    const bool worth_sealing = link_idle && sum.readings() >= kMinReadingsPerSummary * sum.entries();
    const bool on = policy_.degraded(p);
    const int64_t window_ms = policy_.options().limits[i].window_s * 1000;
    if (was[i]) stats_.degraded_ms[i].add(static_cast<uint64_t>(elapsed));
    if (on && !was[i]) {
      window_end_[i] = now + window_ms;
      log::warn("uplink", "uplink cannot keep up: forwarding summaries instead of readings",
                {{"priority", to_string(p)}, {"window_s", std::to_string(window_ms / 1000)},
                 {"spool_bytes", std::to_string(spool.total_bytes())}});
    } else if (!on && was[i]) {
      flush(p, cfg, sealed);
      log::info("uplink", "uplink keeps up again: forwarding every reading", {{"priority", to_string(p)}});
    } else if (on && (now >= window_end_[i] || worth_sealing)) {
      flush(p, cfg, sealed);
      window_end_[i] = now + window_ms;
    }
    stats_.degraded[i].set(on ? 1 : 0);
  }
}

void UplinkDegrade::encoded(uint64_t raw_bytes, uint64_t spooled_bytes) {
  if (raw_bytes == 0) return;
  const double r = static_cast<double>(spooled_bytes) / static_cast<double>(raw_bytes);
  spooled_per_raw_ = seen_encoded_ ? 0.8 * spooled_per_raw_ + 0.2 * r : r;
  seen_encoded_ = true;
}

void UplinkDegrade::add(Priority p, const Message& m, bool offloaded, const UplinkSection& cfg,
                        std::vector<routing::SealedBatch>& sealed) {
  const auto i = index_of(p);
  summarizers_[i].add(m, offloaded);
  stats_.summarized[i].add();
  // Bounded memory: a window with as many summaries as a full batch holds
  // messages (many devices, or topics that never repeat) is sealed early.
  if (summarizers_[i].entries() >= cfg.batch[i].max_messages) flush(p, cfg, sealed);
}

// At most max_messages summaries per batch; the first carries the receipts.
void UplinkDegrade::flush(Priority p, const UplinkSection& cfg, std::vector<routing::SealedBatch>& sealed) {
  auto& sum = summarizers_[index_of(p)];
  if (sum.empty()) return;
  auto w = sum.flush(clock_.wall_ms());
  const std::size_t per_batch = std::max<std::size_t>(1, cfg.batch[index_of(p)].max_messages);
  for (std::size_t i = 0; i < w.summaries.size(); i += per_batch) {
    auto b = summary_batch(p);
    if (i == 0) b.receipts = std::move(w.receipts);
    take_summaries(w, i, std::min(w.summaries.size(), i + per_batch), b);
    sealed.push_back(std::move(b));
  }
}

// Without compaction a backlog spooled before degrading would still wait for
// the budget reading by reading, and be evicted when the spool fills.
std::optional<CompactedBatch> UplinkDegrade::compact(Priority p, storage::Spool& spool) {
  routing::Summarizer sum(timestamp_field_);
  std::vector<int64_t> ids;
  for (const auto& info : spool.waiting(p, not_compactable_.size() + compacting_.size() + kCompactPerTurn)) {
    if (ids.size() >= kCompactPerTurn) break;
    if (not_compactable_.contains(info.id) || compacting_.contains(info.id) || summary_ids_.contains(info.id))
      continue;
    auto blob = spool.read(info.id);
    if (!blob) return std::nullopt;  // transient: try again next turn
    auto readings = batch_readings(*blob);
    if (!readings || readings->summary) {
      not_compactable_.insert(info.id);  // sent as it is
      continue;
    }
    for (std::size_t i = 0; i < readings->messages.size(); ++i) sum.add(*readings->messages[i], readings->offloaded[i]);
    ids.push_back(info.id);
  }
  if (ids.empty()) return std::nullopt;
  stats_.compacted[index_of(p)].add(sum.readings());
  auto w = sum.flush(clock_.wall_ms());
  CompactedBatch c{summary_batch(p), std::move(ids)};
  take_summaries(w, 0, w.summaries.size(), c.batch);
  compacting_.insert(c.replaces.begin(), c.replaces.end());
  return c;
}

void UplinkDegrade::appended(int64_t spool_id, bool summary, uint32_t messages, const std::vector<int64_t>& replaced) {
  if (summary) summary_ids_[spool_id] = messages;
  for (int64_t id : replaced) compacting_.erase(id);
}

// A compaction's summary given up is not lost: the batches it replaces stay.
void UplinkDegrade::given_up(const std::vector<int64_t>& replaces) {
  for (int64_t id : replaces) compacting_.erase(id);
}

// The replaced batches are back in the spool until the summary is appended again.
void UplinkDegrade::rolled_back(const std::vector<int64_t>& replaces) {
  compacting_.insert(replaces.begin(), replaces.end());
}

void UplinkDegrade::acknowledged(int64_t spool_id, Priority p) {
  if (auto sum = summary_ids_.find(spool_id); sum != summary_ids_.end()) {
    stats_.summaries_sent[index_of(p)].add(sum->second);
    summary_ids_.erase(sum);
  }
  not_compactable_.erase(spool_id);
}

}  // namespace foggate::gateway
