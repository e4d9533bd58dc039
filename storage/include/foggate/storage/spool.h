// Spool: the store-and-forward buffer of sealed uplink batches, in SQLite
// (WAL) in the data dir. Batches are opaque blobs with a little metadata;
// a batch leaves the spool only when the upstream broker acknowledged it
// (remove), or when it was evicted for space or expired by TTL, both counted.
//
// Durability: append() stages rows in the open transaction; commit() makes
// everything staged durable in one transaction (group commit). After a crash
// every committed batch is there at reopen; uncommitted ones are not.
//
// Order: within a priority, batches come back in append order (FIFO).
//
// Eviction (when committed + staged bytes exceed max_bytes after an append):
// the oldest batch of the lowest priority that has batches goes first;
// critical batches are evicted only when no lower-priority batch is left.
// Batches marked in flight are skipped by eviction while others exist.
//
// Threads: one thread owns a Spool (the uplink thread); it is not
// thread-safe. stats() may be read from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "foggate/base/clock.h"
#include "foggate/base/counter.h"
#include "foggate/base/result.h"
#include "foggate/message/priority.h"

namespace foggate::storage {

struct SpoolOptions {
  std::string path;                      // the SQLite file; its directory must exist
  uint64_t max_bytes = 256ull << 20;     // Default: 256 MiB of batch payload
  // Per-priority time to live in ms; 0 = never expires.
  // Default: critical 7 d, high 7 d, normal 3 d, low 1 d.
  std::array<int64_t, kPriorityCount> ttl_ms{7 * 86'400'000LL, 7 * 86'400'000LL, 3 * 86'400'000LL, 86'400'000LL};
};

// What the spool knows about one batch without reading its blob.
struct BatchInfo {
  int64_t id = 0;            // spool row id, increasing with append order
  Priority priority = Priority::kNormal;
  uint64_t seq = 0;          // the batch sequence number inside the blob
  int64_t created_ms = 0;    // wall clock at sealing
  uint32_t messages = 0;     // messages in the batch
  uint64_t raw_bytes = 0;    // topic+payload bytes of the messages before encoding
  uint64_t bytes = 0;        // blob size
};

struct SpoolStats {
  std::array<Gauge, kPriorityCount> batches;   // held now
  std::array<Gauge, kPriorityCount> bytes;     // blob bytes held now
  std::array<Counter, kPriorityCount> appended;
  std::array<Counter, kPriorityCount> removed;  // acknowledged upstream
  std::array<Counter, kPriorityCount> evicted;  // batches pushed out for space
  std::array<Counter, kPriorityCount> evicted_messages;
  std::array<Counter, kPriorityCount> expired;  // batches past their TTL
  std::array<Counter, kPriorityCount> expired_messages;
  std::array<Counter, kPriorityCount> compacted;  // batches replaced by a summary of them (remove_compacted)
  std::array<Counter, kPriorityCount> compacted_messages;
  Counter commits;
  Counter write_errors;
};

class Spool {
 public:
  // Opens or creates the spool; loads the index of every committed batch.
  // A file that is not a valid spool is moved aside to "<path>.corrupt-<ms>"
  // and a fresh spool is created (logged as an error): the gateway keeps
  // working. Errors (permanent): "spool_open" when even that fails.
  static Result<std::unique_ptr<Spool>> open(SpoolOptions options, const Clock& clock);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Stages a batch; may evict older batches to stay within max_bytes.
  // Returns the new batch's info (id assigned).
  Result<BatchInfo> append(Priority priority, uint64_t seq, int64_t created_ms, uint32_t messages,
                           uint64_t raw_bytes, std::string_view blob);
  // Makes all staged appends and removals durable.
  Result<void> commit();

  // The oldest batch of `priority` that is not in flight, if any.
  std::optional<BatchInfo> next(Priority priority) const;
  // Up to `max` batches of `priority` that are not in flight, oldest first.
  std::vector<BatchInfo> waiting(Priority priority, std::size_t max) const;
  // Reads a batch's blob. Error "spool_missing" if it is gone.
  Result<std::string> read(int64_t id);
  void set_in_flight(int64_t id, bool in_flight);
  void clear_in_flight();  // after a lost connection: everything is sendable again
  // Staged removal after an upstream acknowledgement; no-op for unknown ids.
  void remove(int64_t id);
  // Staged removal of a batch whose messages the caller has folded into a
  // summary batch appended in the same transaction (counted as compacted,
  // not as acknowledged). No-op for unknown ids.
  void remove_compacted(int64_t id);

  // New size cap and TTLs (a live configuration change); the path stays.
  // A smaller cap takes effect at the next append, a shorter TTL at the
  // next expire().
  void set_limits(uint64_t max_bytes, const std::array<int64_t, kPriorityCount>& ttl_ms);

  // Removes batches past their priority's TTL (staged); returns how many.
  std::size_t expire();

  // The highest batch sequence number ever appended (survives restarts), 0 if none.
  uint64_t last_seq() const;
  std::size_t batches(Priority p) const;
  uint64_t bytes(Priority p) const;
  uint64_t total_bytes() const;
  // Age in ms of the oldest batch of `p` (0 when none).
  int64_t oldest_age_ms(Priority p) const;

  const SpoolStats& stats() const { return stats_; }

 private:
  struct Impl;
  explicit Spool(std::unique_ptr<Impl> impl);
  void remove_staged(int64_t id, bool compacted);
  std::unique_ptr<Impl> impl_;
  SpoolStats stats_;
};

}  // namespace foggate::storage
