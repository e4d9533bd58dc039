// AlarmService: the "alarms" thread, owner of the alarm state
// (docs/alarms.md, docs/architecture.md). It owns the AlarmBook (which
// the workers also use, under book_mu_) and the SeenBoard's scan, and
// starts the AlarmWriter ("alarm-store" thread), which owns the
// AlarmStore (alarms.db) from then on.
//
// A worker's detector alert (submit()) is applied to the book by the
// worker itself, under book_mu_, and the events the book lets through
// are published from there: an alert event is never one more thread
// hand-over away. What the alert changed (the alarm keys) and its reading
// go into the inbox. The publisher's Paho thread hands in the operator
// commands (on_command()). Each turn of the alarm thread (an item, or
// every 100 ms) applies the commands, scans for silent sensors, ends
// shelves and flood windows, publishes the events of those, then hands
// the changed alarms' documents and the readings behind the alerts to the
// AlarmWriter, which writes them to the store in one transaction, then
// publishes the documents (retained: a document a client has seen is on
// disk), then lets the readings go (their PUBACKs come due). The next
// turn does not wait for that fsync.
//
// Threads: open()/start()/stop() from the gateway's controlling thread;
// submit() from the workers; on_command() from a Paho thread;
// request_republish() from the supervisor; collect() from any thread.
// submit() and on_command() never block on I/O: a full inbox refuses
// (counted). Lock order: book_mu_ before mu_.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "foggate/base/clock.h"
#include "foggate/base/counter.h"
#include "foggate/base/result.h"
#include "foggate/gateway/config.h"
#include "foggate/protocols/mqtt_client.h"
#include "foggate/routing/alarm_book.h"
#include "foggate/routing/seen_board.h"
#include "foggate/storage/alarm_store.h"
#include "alarms/alarm_writer.h"

namespace foggate::gateway {

class AlertPublisher;

// Where the workers' alerts go when alarms are on (WorkerPool::set_alarms).
class AlarmSink {
 public:
  virtual ~AlarmSink() = default;
  // Applies the alert to the alarm state and publishes the events it lets
  // through, on the caller's thread; `reading` is held until the alarm
  // state is durable. False when the inbox is full (nothing applied: the
  // caller publishes the event itself).
  virtual bool submit(const routing::Alert& a, std::shared_ptr<const Message> reading) = 0;
};

class AlarmService final : public AlarmSink {
 public:
  static constexpr std::size_t kInboxCapacity = 65'536;
  static constexpr int64_t kTurnMs = 100;

  AlarmService(std::string gateway_id, const LiveConfig& live, protocols::MqttClient& publisher,
               AlertPublisher& alerts, const Clock& clock);
  ~AlarmService() override;  // stops

  // Opens (creates) the store at `path` and loads the book from it.
  // Error "alarm_store_open" (start-up).
  Result<void> open(const std::string& path);
  // What the workers start from: the active threshold alarms (each
  // worker's DetectorBank restores those of its devices).
  std::vector<routing::Alarm> active_alarms() const;
  routing::SeenBoard& seen_board() { return seen_; }

  void start();
  // Applies what is queued, writes and publishes it, joins. Idempotent.
  void stop();

  bool submit(const routing::Alert& a, std::shared_ptr<const Message> reading) override;
  void on_command(std::string topic, std::string payload, bool retained);
  // Publishes every state document again at the next turn (after a
  // publisher reconnect: a broker without persistence forgot them).
  void request_republish();

  void collect(MetricSink& out) const;

 private:
  // An alert a worker applied to the book: what it changed, and the
  // reading held until those documents are durable.
  struct Applied {
    std::vector<routing::AlarmKey> changed;
    std::shared_ptr<const Message> reading;
  };
  struct Command {
    std::string topic;
    std::string payload;
    bool retained = false;
  };
  using Item = std::variant<Applied, Command>;

  void run();
  void turn(std::vector<Item>& items, bool republish);
  void apply_command(const Command& c, routing::AlarmOutput& out);
  void scan_stale(const Config& cfg, routing::AlarmOutput& out);
  void refuse(const std::string& reason, const std::string& detail, const std::string& topic);
  routing::AlarmKey resolve(const routing::AlarmKey& levels) const;
  std::string document_of(const routing::AlarmKey& k) const;  // "" when no longer listed

  const std::string gateway_id_;
  const LiveConfig& live_;
  protocols::MqttClient& publisher_;
  AlertPublisher& alerts_;
  const Clock& clock_;
  routing::AlarmStats stats_;
  routing::SeenBoard seen_;
  std::unique_ptr<storage::AlarmStore> store_;  // open() to start(), then the writer's
  std::unique_ptr<AlarmWriter> writer_;         // created by start()

  std::mutex book_mu_;                          // the book: workers' submit() and the alarm turns
  std::unique_ptr<routing::AlarmBook> book_;    // guarded by book_mu_ after start() (open() before)

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Item> inbox_;   // guarded by mu_
  bool republish_ = false;    // guarded by mu_
  bool stopping_ = false;     // guarded by mu_
  std::jthread thread_;

  Counter inbox_full_;
  Counter store_rows_skipped_;  // rows of alarms.db that were not alarm documents
  Counter commands_applied_;
  std::map<std::string, Counter, std::less<>> refused_;  // by reason; keys fixed at construction
};

}  // namespace foggate::gateway
