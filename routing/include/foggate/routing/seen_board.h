// SeenBoard: when each (detector, device) pair of a detector with
// stale_after_ms last reported, for stale-sensor alarms. Workers record
// readings (seen(), from DetectorBank::evaluate); the alarm thread scans
// for silence (collect_stale()) on its tick.
//
// Threads: any. The entries are split over shards by key, each under its
// own mutex, so workers meet each other (and the scan) only on a shard.
// A pair enters the board at its first reading ("a device that reported
// and then stays silent"); past max_entries new pairs are not tracked
// (counted in refused(), so they can never go stale).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "foggate/base/counter.h"

namespace foggate::routing {

class SeenBoard {
 public:
  explicit SeenBoard(std::size_t max_entries = 100'000) : max_entries_(max_entries) {}

  // A reading of `device` for `detector` at monotonic `now_ms`. True when
  // the pair was stale: the caller clears its stale alarm.
  bool seen(std::string_view detector, std::string_view device, int64_t now_ms);

  struct Silent {
    std::string detector;
    std::string device;
    int64_t last_seen_ms = 0;  // monotonic
  };
  // Marks stale, and appends to `out`, every pair not yet stale whose
  // detector's stale_after(detector) has passed since its last reading.
  // Pairs of detectors for which stale_after() answers 0 (removed or
  // turned off) are forgotten.
  void collect_stale(int64_t now_ms, const std::function<int64_t(std::string_view)>& stale_after,
                     std::vector<Silent>& out);

  // Start-up: the pair's stale alarm was active when foggate stopped: it
  // starts stale (as seen at `now_ms`), so its next reading clears it.
  void restore_stale(std::string_view detector, std::string_view device, int64_t now_ms);

  std::size_t size() const;
  uint64_t refused() const { return refused_.value(); }

 private:
  struct Entry {
    int64_t last_seen_ms = 0;
    bool stale = false;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Entry> entries;  // guarded by mu; key: detector '\0' device
  };
  static constexpr std::size_t kShards = 16;
  Shard& shard_for(const std::string& key);
  bool room_for_one_more();

  const std::size_t max_entries_;
  std::array<Shard, kShards> shards_;
  std::atomic<std::size_t> size_{0};
  Counter refused_;
};

}  // namespace foggate::routing
