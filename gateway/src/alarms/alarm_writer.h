// AlarmWriter: the "alarm-store" thread, owner of the AlarmStore (alarms.db)
// once started. The alarms thread hands it, per turn, the documents of the
// alarms that changed ("" for one removed), the documents to publish again
// after a reconnect, and the readings behind the turn's alerts. It writes
// the changes in one durable transaction, then publishes the documents
// (retained), then lets the readings go (their PUBACKs come due). So a
// document a client has seen is on disk, while the alert events, which the
// alarms thread publishes itself, never wait for the disk's fsync.
//
// Turns handed over while a write is under way are merged into the next
// write (group commit). A failed write is kept and retried with the next
// one; the documents still go out (memory is right, the disk is behind:
// alarm_store_failures_total and one warning line from the store).
//
// Threads: start()/stop() from the gateway's controlling thread (through
// AlarmService); hand() from the alarms thread; failures() from any.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "foggate/base/counter.h"
#include "foggate/message/message.h"
#include "foggate/protocols/mqtt_client.h"
#include "foggate/routing/alarm_book.h"
#include "foggate/storage/alarm_store.h"

namespace foggate::gateway {

class AlarmWriter {
 public:
  struct Work {
    std::vector<std::pair<routing::AlarmKey, std::string>> changed;    // written, then published
    std::vector<std::pair<routing::AlarmKey, std::string>> republish;  // published only
    std::vector<std::shared_ptr<const Message>> readings;              // let go last
    bool empty() const { return changed.empty() && republish.empty() && readings.empty(); }
  };

  AlarmWriter(std::string gateway_id, protocols::MqttClient& publisher, std::unique_ptr<storage::AlarmStore> store);
  ~AlarmWriter();  // stop()

  // `background_nice`: gateway.background_nice, for the writer's thread.
  void start(int background_nice);
  // Writes and publishes what was handed over, then joins. Idempotent.
  void stop();
  // Never blocks beyond a short lock.
  void hand(Work w);

  const Counter& failures() const { return failures_; }

 private:
  void run();
  void write_and_publish(std::vector<Work>& works);

  const std::string gateway_id_;
  protocols::MqttClient& publisher_;
  std::unique_ptr<storage::AlarmStore> store_;           // this thread's
  std::map<routing::AlarmKey, std::string> unwritten_;  // this thread's: changed, not yet in the store
  Counter failures_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Work> queue_;  // guarded by mu_
  bool stopping_ = false;    // guarded by mu_
  std::jthread thread_;
};

}  // namespace foggate::gateway
