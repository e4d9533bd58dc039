// AlarmStore: the alarm book's state in SQLite in the data dir (alarms.db),
// with the configuration store's durability (WAL, synchronous=FULL, one
// transaction per write), so a restart or a power cut neither forgets an
// active alarm nor re-raises an acknowledged one. One row per listed
// alarm, its body the alarm's state document as published (opaque here;
// docs/alarms.md and docs/alarm-store-format.md).
//
// Threads: one owner (opened by the gateway's alarm thread's owner, then
// the alarm store thread, AlarmWriter); not thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "foggate/base/result.h"

namespace foggate::storage {

struct AlarmRow {
  std::string device;
  std::string detector;
  std::string body;  // the state document; "" in write(): remove the row
};

class AlarmStore {
 public:
  // Opens or creates the store. A file that is not a valid store is moved
  // aside to "<path>.corrupt-<ms>" and a fresh one is created (logged).
  // Error "alarm_store_open" when even that fails.
  static Result<std::unique_ptr<AlarmStore>> open(const std::string& path);
  ~AlarmStore();
  AlarmStore(const AlarmStore&) = delete;
  AlarmStore& operator=(const AlarmStore&) = delete;

  // Stores (replaces) or removes every row in one durable transaction:
  // all of them or none. Error "alarm_store_write" (transient).
  Result<void> write(const std::vector<AlarmRow>& rows);
  // Every stored row, ordered by device and detector.
  Result<std::vector<AlarmRow>> load_all();

 private:
  struct Impl;
  explicit AlarmStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace foggate::storage
