#include "alarms/alarm_service.h"

#include <filesystem>

#include "alarms/alarm_command.h"
#include "alarms/alarm_document.h"
#include "documents.h"
#include "foggate/base/log.h"
#include "foggate/base/this_thread.h"
#include "workers/worker_pool.h"

namespace foggate::gateway {
namespace {

constexpr std::string_view kModule = "alarms";
constexpr std::array<std::string_view, 10> kRefusals{"retained",     "too_large",    "bad_topic",  "unknown_command",
                                                     "bad_json",     "bad_operator", "bad_comment", "bad_duration",
                                                     "unknown_key",  "no_such_alarm"};

routing::AlarmPolicy policy_of(const AlarmsSection& s) {
  return {.flood_max_events = s.flood_max_events, .flood_window_ms = s.flood_window_ms,
          .max_shelve_ms = s.max_shelve_ms};
}

}  // namespace

AlarmService::AlarmService(std::string gateway_id, const LiveConfig& live, protocols::MqttClient& publisher,
                           AlertPublisher& alerts, const Clock& clock)
    : gateway_id_(std::move(gateway_id)), live_(live), publisher_(publisher), alerts_(alerts), clock_(clock),
      seen_(live.load()->gateway.max_tracked_devices) {
  for (auto r : kRefusals) refused_.try_emplace(std::string(r));
}

AlarmService::~AlarmService() { stop(); }

Result<void> AlarmService::open(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  auto store = storage::AlarmStore::open(path);
  if (!store) return unexpected(std::move(store.error()));
  store_ = std::move(*store);
  book_ = std::make_unique<routing::AlarmBook>(policy_of(live_.load()->alarms), clock_, stats_);
  auto rows = store_->load_all();
  if (!rows) return unexpected(std::move(rows.error()));
  const int64_t now = clock_.mono_ms();
  for (const auto& row : *rows) {
    auto a = parse_alarm_json(row.body);
    if (!a || a->device != row.device || a->detector != row.detector) {
      store_rows_skipped_.add();
      log::warn_once(kModule, "store_row_skipped", "alarm store row is not an alarm document; skipped",
                     {{"device", row.device}, {"detector", row.detector}});
      continue;
    }
    // A stale alarm still active: its pair starts stale, so the next
    // reading clears it and continued silence raises nothing new.
    if (a->kind == "stale" && a->active() && a->detector.ends_with(".stale"))
      seen_.restore_stale(std::string_view(a->detector).substr(0, a->detector.size() - 6), a->device, now);
    book_->restore(std::move(*a));
  }
  // Everything listed goes out again once the publisher connects.
  republish_ = true;
  if (!rows->empty())
    log::info(kModule, "alarm state restored", {{"alarms", std::to_string(book_->alarms().size())}});
  return {};
}

std::vector<routing::Alarm> AlarmService::active_alarms() const {
  std::vector<routing::Alarm> out;
  for (const auto& [k, a] : book_->alarms())
    if (a.active() && a.kind == "threshold") out.push_back(a);
  return out;
}

void AlarmService::start() {
  writer_ = std::make_unique<AlarmWriter>(gateway_id_, publisher_, std::move(store_));
  writer_->start(live_.load()->gateway.background_nice);
  thread_ = std::jthread([this] { run(); });
}

// The alarm thread drains into the writer, then the writer drains.
void AlarmService::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (writer_) writer_->stop();
}

bool AlarmService::submit(const routing::Alert& a, std::shared_ptr<const Message> reading) {
  std::lock_guard book(book_mu_);
  {
    std::lock_guard lock(mu_);
    if (inbox_.size() >= kInboxCapacity || stopping_) {
      inbox_full_.add();
      return false;
    }
  }
  routing::AlarmOutput out;
  book_->on_alert(a, out);
  // Under book_mu_: events leave in the order the book made them.
  for (const auto& e : out.events) alerts_.publish(e);
  {
    std::lock_guard lock(mu_);
    inbox_.emplace_back(Applied{std::move(out.changed), std::move(reading)});
  }
  cv_.notify_one();
  return true;
}

void AlarmService::on_command(std::string topic, std::string payload, bool retained) {
  {
    std::lock_guard lock(mu_);
    if (inbox_.size() >= kInboxCapacity || stopping_) {
      inbox_full_.add();
      log::warn_once(kModule, "inbox_full", "alarm inbox full; command dropped");
      return;
    }
    inbox_.emplace_back(Command{std::move(topic), std::move(payload), retained});
  }
  cv_.notify_one();
}

void AlarmService::request_republish() {
  {
    std::lock_guard lock(mu_);
    republish_ = true;
  }
  cv_.notify_one();
}

void AlarmService::run() {
  name_this_thread("alarms");
  std::vector<Item> items;
  for (;;) {
    bool republish = false;
    bool stopping = false;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(kTurnMs),
                   [&] { return stopping_ || republish_ || !inbox_.empty(); });
      items.swap(inbox_);
      republish = std::exchange(republish_, false);
      stopping = stopping_;
    }
    try {
      turn(items, republish);
    } catch (const std::exception& e) {
      // Only allocation failure can throw here; keep the thread alive.
      log::warn_once(kModule, "turn_failed", "alarm turn failed", {{"what", e.what()}});
    }
    items.clear();  // the readings went to the writer with the turn's documents
    if (stopping) {
      std::lock_guard lock(mu_);
      if (inbox_.empty()) break;
    }
  }
}

void AlarmService::turn(std::vector<Item>& items, bool republish) {
  const auto cfg = live_.load();
  AlarmWriter::Work work;
  {
    std::lock_guard book(book_mu_);
    book_->set_policy(policy_of(cfg->alarms));
    routing::AlarmOutput out;
    std::set<routing::AlarmKey> changed;  // by the workers' alerts, then by this turn
    for (const auto& item : items) {
      if (const auto* a = std::get_if<Applied>(&item)) changed.insert(a->changed.begin(), a->changed.end());
      else apply_command(std::get<Command>(item), out);
    }
    scan_stale(*cfg, out);
    book_->tick(out);

    for (const auto& e : out.events) alerts_.publish(e);

    changed.insert(out.changed.begin(), out.changed.end());
    for (const auto& k : changed) work.changed.emplace_back(k, document_of(k));
    if (republish)
      for (const auto& [k, a] : book_->alarms())
        if (!changed.contains(k)) work.republish.emplace_back(k, alarm_json(gateway_id_, a));
  }
  for (auto& item : items)
    if (auto* a = std::get_if<Applied>(&item); a && a->reading) work.readings.push_back(std::move(a->reading));
  writer_->hand(std::move(work));
}

std::string AlarmService::document_of(const routing::AlarmKey& k) const {
  const auto* a = book_->find(k);
  return a ? alarm_json(gateway_id_, *a) : std::string();
}

void AlarmService::scan_stale(const Config& cfg, routing::AlarmOutput& out) {
  bool any = false;
  for (const auto& d : cfg.detectors) any = any || d.stale_after_ms > 0;
  if (!any && seen_.size() == 0) return;
  auto spec_of = [&](std::string_view name) -> const routing::DetectorSpec* {
    for (const auto& d : cfg.detectors)
      if (d.name == name && d.stale_after_ms > 0) return &d;
    return nullptr;
  };
  std::vector<routing::SeenBoard::Silent> silent;
  const int64_t now = clock_.mono_ms();
  seen_.collect_stale(now, [&](std::string_view name) { const auto* d = spec_of(name); return d ? d->stale_after_ms : 0; },
                      silent);
  for (const auto& s : silent) {
    const auto* d = spec_of(s.detector);
    routing::Alert a;
    a.kind = routing::AlertKind::kStale;
    a.detector = routing::stale_alarm_name(s.detector);
    a.severity = d->severity;
    a.device = s.device;
    a.field = d->field;
    a.value = static_cast<double>(now - s.last_seen_ms);
    a.limit = static_cast<double>(d->stale_after_ms);
    a.received_ms = clock_.wall_ms();
    book_->on_alert(a, out);
  }
}

// Commands name topic levels; a device or detector whose name had to be
// made topic-safe is found by its level.
routing::AlarmKey AlarmService::resolve(const routing::AlarmKey& levels) const {
  if (book_->find(levels) != nullptr) return levels;
  for (const auto& [k, a] : book_->alarms())
    if (topic_level(k.device) == levels.device && topic_level(k.detector) == levels.detector) return k;
  return levels;
}

void AlarmService::apply_command(const Command& c, routing::AlarmOutput& out) {
  const auto cfg = live_.load();
  auto cmd = parse_alarm_command(gateway_id_, c.topic, c.payload, c.retained, cfg->alarms.max_shelve_ms);
  if (!cmd) return refuse(cmd.error().reason, cmd.error().detail, c.topic);
  const routing::AlarmKey key = resolve(cmd->key);
  routing::CommandResult r = routing::CommandResult::kNoSuchAlarm;
  switch (cmd->verb) {
    case AlarmVerb::kAck: r = book_->acknowledge(key, cmd->op, cmd->comment, out); break;
    case AlarmVerb::kShelve: r = book_->shelve(key, cmd->op, cmd->duration_ms, cmd->comment, out); break;
    case AlarmVerb::kUnshelve: r = book_->unshelve(key, out); break;
  }
  if (r == routing::CommandResult::kNoSuchAlarm) return refuse("no_such_alarm", "no alarm is listed there", c.topic);
  if (r == routing::CommandResult::kBadDuration) return refuse("bad_duration", "duration out of range", c.topic);
  commands_applied_.add();
  // The audit trail: who did what to which alarm.
  log::info(kModule, r == routing::CommandResult::kApplied ? "alarm command applied" : "alarm command changed nothing",
            {{"command", to_string(cmd->verb)}, {"device", key.device}, {"detector", key.detector},
             {"operator", cmd->op}, {"comment", cmd->comment},
             {"duration_ms", std::to_string(cmd->duration_ms)}});
}

void AlarmService::refuse(const std::string& reason, const std::string& detail, const std::string& topic) {
  if (auto it = refused_.find(reason); it != refused_.end()) it->second.add();
  log::warn_once(kModule, "command_" + reason, "alarm command refused",
                 {{"reason", reason}, {"detail", detail}, {"topic", topic.substr(0, 256)}});
}

void AlarmService::collect(MetricSink& out) const {
  stats_.collect(out);
  out.push_back({"alarm_commands_applied_total", {}, static_cast<double>(commands_applied_.value())});
  for (const auto& [reason, n] : refused_)
    out.push_back({"alarm_commands_refused_total", {{"reason", reason}}, static_cast<double>(n.value())});
  out.push_back({"alarm_inbox_full_total", {}, static_cast<double>(inbox_full_.value())});
  out.push_back({"alarm_store_failures_total", {},
                 static_cast<double>(writer_ ? writer_->failures().value() : 0)});
  out.push_back({"alarm_store_rows_skipped_total", {}, static_cast<double>(store_rows_skipped_.value())});
  out.push_back({"alarm_stale_untracked_total", {}, static_cast<double>(seen_.refused())});
}

}  // namespace foggate::gateway
