#include "alarms/alarm_writer.h"

#include "alarms/alarm_document.h"
#include "foggate/base/log.h"
#include "foggate/base/this_thread.h"

namespace foggate::gateway {

AlarmWriter::AlarmWriter(std::string gateway_id, protocols::MqttClient& publisher,
                         std::unique_ptr<storage::AlarmStore> store)
    : gateway_id_(std::move(gateway_id)), publisher_(publisher), store_(std::move(store)) {}

AlarmWriter::~AlarmWriter() { stop(); }

void AlarmWriter::start(int background_nice) {
  thread_ = std::jthread([this, background_nice] {
    name_this_background_thread("alarm-store", background_nice);
    run();
  });
}

void AlarmWriter::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AlarmWriter::hand(Work w) {
  if (w.empty()) return;
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(w));
  }
  cv_.notify_one();
}

void AlarmWriter::run() {
  std::vector<Work> works;
  for (;;) {
    bool stopping = false;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      works.swap(queue_);
      stopping = stopping_;
    }
    try {
      write_and_publish(works);
    } catch (const std::exception& e) {
      // Only allocation failure can throw here; keep the thread alive.
      log::warn_once("alarms", "write_failed", "alarm store turn failed", {{"what", e.what()}});
    }
    works.clear();  // the readings are let go: their PUBACKs come due
    if (stopping) {
      std::lock_guard lock(mu_);
      if (queue_.empty()) break;
    }
  }
}

void AlarmWriter::write_and_publish(std::vector<Work>& works) {
  for (const auto& w : works)
    for (const auto& [k, doc] : w.changed) unwritten_[k] = doc;
  if (!unwritten_.empty()) {
    std::vector<storage::AlarmRow> rows;
    rows.reserve(unwritten_.size());
    for (const auto& [k, doc] : unwritten_) rows.push_back({k.device, k.detector, doc});
    if (store_->write(rows)) unwritten_.clear();
    else failures_.add();
  }
  // An empty retained message removes the document (cleared and acknowledged).
  auto publish = [&](const routing::AlarmKey& k, const std::string& doc) {
    auto r = publisher_.publish(alarm_topic(gateway_id_, k), doc, 1, true);
    if (!r) log::warn_once("alarms", "publish_failed", "alarm state could not be queued for publishing",
                           {{"detail", r.error().detail}});
  };
  for (const auto& w : works) {
    for (const auto& [k, doc] : w.changed) publish(k, doc);
    for (const auto& [k, doc] : w.republish) publish(k, doc);
  }
}

}  // namespace foggate::gateway
