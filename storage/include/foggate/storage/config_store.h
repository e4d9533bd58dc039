// ConfigStore: the last good version of each configuration section per
// layer, in SQLite in the data dir (config.db), so a gateway that boots
// while the broker is unreachable still runs its last rules and detectors.
// It also remembers the highest version ever accepted per (layer, section),
// even after a removal, so an older signed version cannot be replayed.
//
// Threads: one owner (the gateway's configuration thread); not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "foggate/base/result.h"

namespace foggate::storage {

struct StoredSection {
  std::string layer;    // "gateway" or "all"
  std::string name;     // section name: "rules", "detectors", ...
  uint64_t version = 0;
  std::string body;     // the section's JSON text as received
  int64_t applied_ms = 0;  // wall clock when it was applied
};

class ConfigStore {
 public:
  // Opens or creates the store. A file that is not a valid store is moved
  // aside to "<path>.corrupt-<ms>" and a fresh one is created (logged).
  // Error "config_store_open" when even that fails.
  static Result<std::unique_ptr<ConfigStore>> open(const std::string& path);
  ~ConfigStore();
  ConfigStore(const ConfigStore&) = delete;
  ConfigStore& operator=(const ConfigStore&) = delete;

  // Stores (replaces) a section of a layer, durably, and raises the
  // layer's remembered max version to s.version. Error "config_store_write".
  Result<void> put(const StoredSection& s);
  // Removes a layer's section (its max version is kept).
  Result<void> erase(const std::string& layer, const std::string& name);
  // Every stored section.
  Result<std::vector<StoredSection>> load_all();
  // Highest version ever accepted for (layer, name); 0 if none. Fails
  // closed: UINT64_MAX (nothing is newer) when the store cannot be read.
  uint64_t max_version(const std::string& layer, const std::string& name);

 private:
  struct Impl;
  explicit ConfigStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace foggate::storage
