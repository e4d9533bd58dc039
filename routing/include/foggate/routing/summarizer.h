// Summarizer: folds the forward traffic of one priority, while the uplink
// is degraded for it, into one summary per (device, topic, field) instead
// of keeping every reading (issue #15; the summary document is described
// in docs/uplink-format.md, "Summary batches").
//
// For a numeric field a summary holds count, min, max, mean, the first and
// the last value with their timestamps (the sensor's own, or the receipt
// time when the reading carried none); for any other field (bool, string)
// count and the last value with its timestamp. A field that is numeric in
// some readings and not in others gets the numeric figures over its
// numeric values and the last value of any type. The payload's timestamp
// field is not summarized (it is the timestamps). A reading with no scalar
// field besides it (raw bytes, arrays, bare strings) is counted in a
// summary of the field "" so that every folded reading is represented.
//
// The receipts of QoS 1 readings folded in are kept with the summaries
// until flush(): the uplink releases them when the summary batch is
// committed, so the site broker redelivers what a kill -9 took from an
// open window.
//
// Threads: owned by the uplink thread; not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "foggate/message/message.h"
#include "foggate/message/receipt.h"

namespace foggate::routing {

// One flushed window: the summary messages (payload: a flat JSON map) and
// the receipts of the readings they stand for.
struct SummaryWindow {
  std::vector<std::shared_ptr<const Message>> summaries;
  std::vector<uint32_t> offloaded;  // parallel to summaries: 1 when any folded reading was offloaded
  std::vector<ReceiptPtr> receipts;
  uint64_t readings = 0;  // readings folded into this window
};

class Summarizer {
 public:
  // `timestamp_field`: the payload key that holds the sensor timestamp
  // (ingest.payload.timestamp_field); it is left out of the summaries.
  explicit Summarizer(std::string timestamp_field = "ts") : timestamp_field_(std::move(timestamp_field)) {}

  // Folds a reading; `offloaded` is its forward flag (kForwardOffloaded).
  void add(const Message& m, bool offloaded);
  // Readings folded since the last flush.
  uint64_t readings() const { return readings_; }
  bool empty() const { return readings_ == 0; }
  // Distinct (device, topic, field) summaries in the open window.
  std::size_t entries() const { return entries_.size(); }
  // Takes the summaries of everything folded so far, in order of first use
  // of each (device, topic, field); `now_ms` (wall clock) becomes their
  // received_ms. Starts a new window.
  SummaryWindow flush(int64_t now_ms);

 private:
  struct Entry {
    std::string device, topic, field;
    Source source = Source::kMqtt;
    bool offloaded = false;
    bool any_sensor_ts = false;
    uint64_t count = 0;
    uint64_t numeric = 0;  // how many of count were numbers
    double min = 0, max = 0, sum = 0, first = 0;
    int64_t first_ts = 0, numeric_last_ts = 0;
    std::variant<double, bool, std::string> last;
    int64_t last_ts = 0;
  };
  void fold(const std::string& key, const Message& m, const std::string& field, const Field* value, bool offloaded);

  std::string timestamp_field_;
  std::unordered_map<std::string, std::size_t> index_;  // key -> entries_
  std::vector<Entry> entries_;                          // in order of first use
  std::vector<ReceiptPtr> receipts_;
  uint64_t readings_ = 0;
};

// The summary payload of one entry, as flat JSON (exposed for tests).
std::string summary_json(std::string_view field, uint64_t count, uint64_t numeric, double min, double max,
                         double mean, double first, int64_t first_ts,
                         const std::variant<double, bool, std::string>* last, int64_t last_ts);

}  // namespace foggate::routing
