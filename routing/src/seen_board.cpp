#include "foggate/routing/seen_board.h"

namespace foggate::routing {
namespace {

std::string key_of(std::string_view detector, std::string_view device) {
  std::string k;
  k.reserve(detector.size() + 1 + device.size());
  k.append(detector).push_back('\0');
  k.append(device);
  return k;
}

}  // namespace

SeenBoard::Shard& SeenBoard::shard_for(const std::string& key) {
  return shards_[std::hash<std::string>{}(key) % kShards];
}

// The cap is checked without a global lock: two workers adding at once may
// pass it by one each, which only matters as a bound, not exactly.
bool SeenBoard::room_for_one_more() {
  if (size_.load(std::memory_order_relaxed) >= max_entries_) {
    refused_.add();
    return false;
  }
  size_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool SeenBoard::seen(std::string_view detector, std::string_view device, int64_t now_ms) {
  std::string key = key_of(detector, device);
  Shard& s = shard_for(key);
  std::lock_guard lock(s.mu);
  auto it = s.entries.find(key);
  if (it == s.entries.end()) {
    if (room_for_one_more()) s.entries.emplace(std::move(key), Entry{now_ms, false});
    return false;
  }
  it->second.last_seen_ms = now_ms;
  const bool was_stale = it->second.stale;
  it->second.stale = false;
  return was_stale;
}

void SeenBoard::collect_stale(int64_t now_ms, const std::function<int64_t(std::string_view)>& stale_after,
                              std::vector<Silent>& out) {
  for (Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    for (auto it = s.entries.begin(); it != s.entries.end();) {
      const std::string& key = it->first;
      const std::size_t cut = key.find('\0');
      const std::string_view detector(key.data(), cut);
      const int64_t after = stale_after(detector);
      if (after <= 0) {
        it = s.entries.erase(it);
        size_.fetch_sub(1, std::memory_order_relaxed);
        continue;
      }
      Entry& e = it->second;
      if (!e.stale && now_ms - e.last_seen_ms > after) {
        e.stale = true;
        out.push_back({std::string(detector), key.substr(cut + 1), e.last_seen_ms});
      }
      ++it;
    }
  }
}

void SeenBoard::restore_stale(std::string_view detector, std::string_view device, int64_t now_ms) {
  std::string key = key_of(detector, device);
  Shard& s = shard_for(key);
  std::lock_guard lock(s.mu);
  auto it = s.entries.find(key);
  if (it == s.entries.end()) {
    if (!room_for_one_more()) return;
    it = s.entries.emplace(std::move(key), Entry{}).first;
  }
  it->second = Entry{now_ms, true};
}

std::size_t SeenBoard::size() const { return size_.load(std::memory_order_relaxed); }

}  // namespace foggate::routing
