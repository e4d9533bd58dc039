// SubscriptionMemory: the MQTT filters each ingest connection last had
// acknowledged, kept in the data directory (ingest-subscriptions.json), so
// that after a restart with fewer filters the broker's persistent session
// can be told to drop the rest: otherwise it keeps queueing messages for a
// filter nobody configures any more.
//
// File: {"<client_id>": ["filter", ...], ...}, replaced atomically (write,
// fsync, rename). A missing or unreadable file means nothing remembered
// (logged once when unreadable); the next acknowledgement rewrites it.
//
// Threads: the supervisor (and the constructor's caller); not thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace foggate::gateway {

class SubscriptionMemory {
 public:
  explicit SubscriptionMemory(std::string data_dir);

  // What `client_id` had last time; empty when nothing is remembered.
  std::vector<std::string> last(const std::string& client_id) const;
  // Records what `client_id` has now; written at once. False (logged) when
  // the file cannot be written: the stale filters are then found again at
  // the next start.
  bool remember(const std::string& client_id, std::vector<std::string> filters);

 private:
  std::string path_;
  std::map<std::string, std::vector<std::string>> by_client_;
};

}  // namespace foggate::gateway
