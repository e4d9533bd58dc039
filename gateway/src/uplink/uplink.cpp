#include "uplink/uplink.h"

#include <filesystem>
#include <future>
#include <unordered_map>
#include <unordered_set>

#include "foggate/base/log.h"
#include "foggate/base/this_thread.h"
#include "foggate/protocols/mqtt_client.h"
#include "foggate/protocols/uplink_codec.h"
#include "foggate/routing/batcher.h"
#include "foggate/routing/share_picker.h"
#include "foggate/routing/token_bucket.h"
#include "foggate/storage/spool.h"
#include "config/secrets.h"
#include "uplink/uplink_degrade.h"
#include "uplink/uplink_report.h"

namespace foggate::gateway {
namespace {

// Sealed and encoded, waiting to be appended: kept until the spool has it,
// so a failed write is retried instead of lost.
// Its receipts are released when it is committed (or given up, counted):
// only then may the site broker forget the QoS 1 readings in it.
struct EncodedPending {
  Priority priority;
  uint64_t seq;
  int64_t created_ms;
  protocols::EncodedBatch batch;
  std::vector<ReceiptPtr> receipts;
  bool summary = false;
  // Spooled batches this summary batch replaces (compaction): removed in the
  // transaction that appends it, so a crash keeps one or the other.
  std::vector<int64_t> replaces;
};

constexpr std::size_t kMaxPendingWrites = 1024;
constexpr int64_t kExpireEveryMs = 10'000;

}  // namespace

struct Uplink::Impl {
  Impl(const Config& c, const Clock& clk)
      : cfg(c.uplink), gateway_id(c.gateway.id), data_dir(c.gateway.data_dir),
        background_nice(c.gateway.background_nice), clock(clk),
        inbox_capacity(c.uplink.inbox_capacity), batcher(c.uplink.batch),
        bucket(std::make_unique<routing::TokenBucket>(c.uplink.bytes_per_s, c.uplink.burst_bytes, clk)),
        share(c.uplink.min_share, clk), degrade(c.uplink.degrade, c.ingest.payload.timestamp_field, stats, clk) {}

  UplinkSection cfg;  // owned by the uplink thread once it runs
  const std::string gateway_id;
  const std::string data_dir;
  const int background_nice;  // gateway.background_nice, for the uplink thread
  const Clock& clock;
  std::atomic<std::size_t> inbox_capacity;  // read by workers
  UplinkStats stats;

  struct Item {
    std::shared_ptr<const Message> message;
    Priority priority;
    uint32_t flags;
  };
  std::mutex mu;
  std::condition_variable wake;
  std::deque<Item> inbox;       // guarded by mu
  std::vector<int64_t> acked;   // guarded by mu; from Paho's thread
  std::vector<int64_t> nacked;  // guarded by mu
  bool stopping = false;        // guarded by mu
  std::optional<UplinkSection> next_cfg;  // guarded by mu

  // Owned by the uplink thread (created before it starts, used only by it,
  // read by others only through atomics and counters).
  std::unique_ptr<storage::Spool> spool;
  std::unique_ptr<protocols::MqttClient> client;
  routing::Batcher batcher;
  std::unique_ptr<routing::TokenBucket> bucket;
  uint64_t seq = 0;
  std::vector<EncodedPending> pending;  // sealed, not yet appended
  std::vector<EncodedPending> staged;   // appended, not yet committed: kept to re-append if the commit fails
  std::unordered_set<int64_t> sending;                  // in flight on this connection
  std::unordered_map<int64_t, storage::BatchInfo> sent;  // published, not yet acknowledged
  routing::SharePicker share;  // which priority goes next (min_share)
  UplinkDegrade degrade;
  std::array<std::atomic<int64_t>, kPriorityCount> oldest_age_ms{};
  std::atomic<bool> connected{false};
  std::atomic<bool> inbox_full_logged{false};
  mutable std::mutex err_mu;
  std::string last_error;  // guarded by err_mu; copied from the client, which apply() may replace

  std::jthread thread;
  bool started = false;

  std::string topic_for(Priority p) const { return cfg.topic_prefix + "/" + std::string(to_string(p)); }

  void encode(routing::SealedBatch&& b, std::vector<int64_t> replaces = {}) {
    std::vector<protocols::BatchItem> items;
    std::vector<ReceiptPtr> receipts = std::move(b.receipts);
    items.reserve(b.messages.size());
    for (std::size_t i = 0; i < b.messages.size(); ++i) {
      if (b.messages[i]->receipt) receipts.push_back(b.messages[i]->receipt);
      items.push_back({std::move(b.messages[i]), b.flags[i]});
    }
    protocols::BatchHeader h{gateway_id, ++seq, b.priority, clock.wall_ms(), b.summary};
    auto enc = protocols::encode_batch(h, items, cfg.zlib_level);
    if (!enc) {
      stats.encode_errors.add();
      stats.lost[index_of(b.priority)].add(items.size());
      log::error("uplink", "cannot encode batch; its messages are dropped",
                 {{"messages", std::to_string(items.size())}, {"detail", enc.error().detail}});
      return;
    }
    if (b.summary)
      stats.summaries[index_of(b.priority)].add(items.size());
    else
      degrade.encoded(b.raw_bytes, enc->bytes.size());
    pending.push_back(
        {b.priority, h.seq, h.created_ms, std::move(enc.value()), std::move(receipts), b.summary, std::move(replaces)});
  }

  // Appends what is pending to the spool; keeps what failed for the next try.
  void append_pending() {
    std::size_t done = 0;
    for (auto& p : pending) {
      auto r = spool->append(p.priority, p.seq, p.created_ms, p.batch.messages, p.batch.raw_bytes, p.batch.bytes);
      if (!r) {
        log::warn_once("uplink", "spool_append", "spool write failed; will retry", {{"detail", r.error().detail}});
        break;
      }
      for (int64_t id : p.replaces) spool->remove_compacted(id);
      degrade.appended(r->id, p.summary, p.batch.messages, p.replaces);
      staged.push_back(std::move(p));
      ++done;
    }
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(done));
    while (pending.size() > kMaxPendingWrites) {
      // The disk has refused writes for a long time: give up the oldest, counted.
      degrade.given_up(pending.front().replaces);
      if (pending.front().replaces.empty()) lose(pending.front());
      pending.erase(pending.begin());
    }
  }

  void lose(const EncodedPending& p) {
    stats.lost[index_of(p.priority)].add(p.batch.messages);
    log::error("uplink", "batch given up after spool write failures",
               {{"priority", to_string(p.priority)}, {"messages", std::to_string(p.batch.messages)}});
  }

  void commit() {
    if (auto r = spool->commit(); !r) {
      // The spool rolled back to its last commit (row ids may be reused):
      // append the same batches again next turn, and forget what was in
      // flight so a late acknowledgement cannot remove another batch.
      log::warn_once("uplink", "spool_commit", "spool commit failed; will retry", {{"detail", r.error().detail}});
      degrade.forget_row_ids();
      for (const auto& p : staged) degrade.rolled_back(p.replaces);
      pending.insert(pending.begin(), std::make_move_iterator(staged.begin()), std::make_move_iterator(staged.end()));
      staged.clear();
      sent.clear();
      sending.clear();
      spool->clear_in_flight();
      return;
    }
    staged.clear();
  }

  // What a kill -9 now would lose: everything not yet durable.
  int64_t uncommitted(std::size_t inbox_size) const {
    uint64_t n = inbox_size + batcher.open_messages();
    for (Priority p : kAllPriorities) n += degrade.window_readings(p);
    for (const auto& p : pending) n += p.batch.messages;
    for (const auto& p : staged) n += p.batch.messages;
    return static_cast<int64_t>(n);
  }

  void on_ack(int64_t id) {
    sending.erase(id);
    // Only batches this uplink knows it published: an acknowledgement from
    // before a failed commit may name a row id that now holds another batch.
    if (auto it = sent.find(id); it != sent.end()) {
      const auto& info = it->second;
      const auto pi = index_of(info.priority);
      stats.batches_sent[pi].add();
      stats.messages_sent[pi].add(info.messages);
      stats.bytes_sent[pi].add(info.bytes + topic_for(info.priority).size());
      stats.raw_bytes_sent.add(info.raw_bytes);
      degrade.acknowledged(id, info.priority);
      sent.erase(it);
      spool->remove(id);
    }
  }

  // Publishes as much as the in-flight window and the token bucket allow.
  // Returns how long to wait for tokens (0: no token wait pending).
  int64_t send() {
    while (client->connected() && sending.size() < static_cast<std::size_t>(cfg.max_inflight)) {
      auto p = share.pick([this](Priority q) { return spool->next(q).has_value(); });
      if (!p) return 0;
      const auto info = *spool->next(*p);
      const std::string topic = topic_for(*p);
      const uint64_t cost = info.bytes + topic.size();
      if (!bucket->try_take(cost)) return bucket->wait_ms(cost);
      auto blob = spool->read(info.id);
      if (!blob) {
        if (blob.error().reason != "spool_missing") {
          // Transient (I/O, busy): keep the batch, try again next turn.
          stats.read_errors.add();
          log::warn_once("uplink", "spool_read", "spool read failed; will retry", {{"detail", blob.error().detail}});
          return 0;
        }
        stats.lost[index_of(info.priority)].add(info.messages);
        log::error("uplink", "spooled batch missing; counted as lost", {{"detail", blob.error().detail}});
        spool->remove(info.id);
        continue;
      }
      const int64_t id = info.id;
      stats.publishes.add();
      auto r = client->publish_tracked(topic, *blob, 1, [this, id](bool ok) {
        {
          std::lock_guard lock(mu);
          (ok ? acked : nacked).push_back(id);
        }
        wake.notify_one();
      });
      if (!r) {
        stats.publish_failures.add();
        return 0;
      }
      spool->set_in_flight(id, true);
      sending.insert(id);
      sent[id] = info;
      share.record_sent(*p, cost);
    }
    return 0;
  }

  uint64_t earlier_connect_failures = 0;  // of clients replaced by a reconfigure

  std::unique_ptr<protocols::MqttClient> make_client() const {
    protocols::MqttOptions mo;
    mo.uris = cfg.uris;
    mo.client_id = cfg.client_id;
    mo.clean_session = true;  // the spool, not the broker session, holds what is unsent
    mo.keepalive_s = cfg.keepalive_s;
    mo.max_buffered = 0;  // never let Paho hold batches: they live in the spool
    if (auto r = apply_credentials(cfg, mo); !r) {
      // The client still runs (and fails to authenticate, visibly) so the
      // spool keeps filling and a fixed file is picked up on reload.
      log::error("uplink", "password unavailable", {{"detail", r.error().detail}});
    }
    return std::make_unique<protocols::MqttClient>(mo, clock);
  }

  // On the uplink thread, between two loop turns: nothing is half done.
  void apply(UplinkSection next) {
    std::vector<routing::SealedBatch> sealed;
    batcher.seal_all(sealed);
    for (Priority p : kAllPriorities) degrade.flush(p, cfg, sealed);
    for (auto& b : sealed) encode(std::move(b));
    append_pending();
    commit();
    client->stop(1000);
    earlier_connect_failures += client->stats().connect_failures.value();
    spool->clear_in_flight();
    sending.clear();
    share.set_min_share(next.min_share);
    cfg = std::move(next);
    batcher = routing::Batcher(cfg.batch);
    degrade.set_options(cfg.degrade);
    bucket = std::make_unique<routing::TokenBucket>(cfg.bytes_per_s, cfg.burst_bytes, clock);
    spool->set_limits(cfg.spool_max_bytes, cfg.ttl_ms);
    client = make_client();
    if (auto r = client->start(); !r)
      log::error("uplink", "new upstream settings unusable", {{"detail", r.error().detail}});
    log::info("uplink", "reconfigured", {{"uris", std::to_string(cfg.uris.size())}});
  }

  void run() {
    name_this_background_thread("uplink", background_nice);
    std::deque<Item> items;
    std::vector<int64_t> acks, nacks;
    std::vector<routing::SealedBatch> sealed;
    int64_t next_commit = clock.mono_ms() + cfg.commit_interval_ms;
    int64_t next_expire = clock.mono_ms();
    int64_t token_wait = 0;
    bool was_connected = false;
    while (true) {
      bool stop = false;
      std::optional<UplinkSection> reconfig;
      {
        std::unique_lock lock(mu);
        const int64_t now = clock.mono_ms();
        int64_t wait = std::min<int64_t>(next_commit - now, 100);
        if (token_wait > 0) wait = std::min(wait, token_wait);
        wake.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(wait, 1)),
                      [&] { return stopping || next_cfg || !inbox.empty() || !acked.empty() || !nacked.empty(); });
        items.swap(inbox);  // O(1) under the lock: workers and acks are not held up
        stats.inbox_depth.set(0);  // under the lock, or it could hide a newer push
        acks.swap(acked);
        nacks.swap(nacked);
        stop = stopping;
        reconfig.swap(next_cfg);
      }
      if (reconfig) apply(std::move(*reconfig));
      const int64_t now = clock.mono_ms();
      degrade.update(now, *spool, cfg, sealed);
      for (auto& it : items) {
        degrade.offered(it.priority, it.message->topic.size() + it.message->payload.size());
        if (degrade.degraded(it.priority)) {
          degrade.add(it.priority, *it.message, (it.flags & routing::kForwardOffloaded) != 0, cfg, sealed);
        } else {
          batcher.add(std::move(it.message), it.priority, it.flags, sealed);
        }
      }
      items.clear();
      const bool tick = now >= next_commit || stop;
      if (tick) batcher.seal_all(sealed);
      for (Priority p : kAllPriorities) {
        if (!degrade.degraded(p) || stop) continue;
        if (auto c = degrade.compact(p, *spool)) encode(std::move(c->batch), std::move(c->replaces));
      }
      if (stop) {
        for (Priority p : kAllPriorities) degrade.flush(p, cfg, sealed);
      }
      bool urgent = false;
      for (auto& b : sealed) {
        urgent |= b.priority == Priority::kCritical;
        encode(std::move(b));
      }
      sealed.clear();
      append_pending();
      for (int64_t id : acks) on_ack(id);
      for (int64_t id : nacks) {
        sending.erase(id);
        spool->set_in_flight(id, false);
      }
      acks.clear();
      nacks.clear();
      if (now >= next_expire) {
        spool->expire();
        next_expire = now + kExpireEveryMs;
      }
      if (tick || urgent) {
        commit();
        next_commit = now + cfg.commit_interval_ms;
      }
      const bool is_connected = client->connected();
      if (was_connected && !is_connected) {
        // Unacknowledged batches are sent again after the reconnect.
        spool->clear_in_flight();
        sending.clear();
      }
      if (!is_connected) {
        std::lock_guard lock(err_mu);
        last_error = client->last_error();
      }
      was_connected = is_connected;
      connected = is_connected;
      stats.connect_failures.set(static_cast<int64_t>(earlier_connect_failures + client->stats().connect_failures.value()));
      if (stop) {
        // Whatever could not be made durable by now is lost: say so.
        for (const auto& p : pending) lose(p);
        for (const auto& p : staged) lose(p);
        break;
      }
      client->tick();
      token_wait = send();
      stats.in_flight.set(static_cast<int64_t>(sending.size()));
      {
        std::lock_guard lock(mu);
        stats.uncommitted.set(uncommitted(inbox.size()));
        stats.inbox_depth.set(static_cast<int64_t>(inbox.size()));
        for (Priority p : kAllPriorities)
          stats.window_readings[index_of(p)].set(static_cast<int64_t>(degrade.window_readings(p)));
      }
      for (Priority p : kAllPriorities) oldest_age_ms[index_of(p)] = spool->oldest_age_ms(p);
    }
  }
};

Uplink::Uplink(const Config& config, const Clock& clock) : impl_(std::make_unique<Impl>(config, clock)) {}

Uplink::~Uplink() { stop(); }

Result<void> Uplink::start() {
  auto& u = *impl_;
  std::error_code ec;
  std::filesystem::create_directories(u.data_dir, ec);
  if (ec) return unexpected(Error::permanent("spool_open", "cannot create " + u.data_dir + ": " + ec.message()));
  storage::SpoolOptions so{.path = u.data_dir + "/spool.db", .max_bytes = u.cfg.spool_max_bytes, .ttl_ms = u.cfg.ttl_ms};
  auto spool = storage::Spool::open(so, u.clock);
  if (!spool) return unexpected(spool.error());
  u.spool = std::move(spool.value());
  u.seq = u.spool->last_seq();
  std::size_t held = 0;
  for (Priority p : kAllPriorities) held += u.spool->batches(p);
  log::info("uplink", "spool opened", {{"path", so.path}, {"batches", std::to_string(held)},
                                       {"last_seq", std::to_string(u.seq)}});

  u.client = u.make_client();
  if (auto r = u.client->start(); !r) return r;
  u.thread = std::jthread([&u] { u.run(); });
  u.started = true;
  return {};
}

void Uplink::stop() {
  auto& u = *impl_;
  if (!u.started) return;
  {
    std::lock_guard lock(u.mu);
    u.stopping = true;
  }
  u.wake.notify_all();
  if (u.thread.joinable()) u.thread.join();
  u.client->stop(2000);
  u.started = false;
  log_summary();
}

void Uplink::reconfigure(const UplinkSection& section) {
  auto& u = *impl_;
  u.inbox_capacity = section.inbox_capacity;
  {
    std::lock_guard lock(u.mu);
    u.next_cfg = section;
  }
  u.wake.notify_one();
}

bool Uplink::forward(std::shared_ptr<const Message> message, Priority priority, uint32_t flags) {
  auto& u = *impl_;
  {
    std::lock_guard lock(u.mu);
    if (!u.stopping && u.inbox.size() < u.inbox_capacity.load()) {
      u.inbox.push_back({std::move(message), priority, flags});
      u.stats.inbox_depth.set(static_cast<int64_t>(u.inbox.size()));
      u.stats.accepted[index_of(priority)].add();
      if (u.inbox.size() == 1) u.wake.notify_one();
      return true;
    }
  }
  u.stats.refused[index_of(priority)].add();
  if (!u.inbox_full_logged.exchange(true, std::memory_order_relaxed))
    log::warn("uplink", "uplink inbox full: forward tasks are dropped (uplink_refused_total)");
  return false;
}

void Uplink::collect(MetricSink& out) const {
  const auto& u = *impl_;
  collect_uplink({u.stats, u.spool->stats(), u.oldest_age_ms, u.connected}, out);
}

std::string Uplink::last_error() const {
  std::lock_guard lock(impl_->err_mu);
  return impl_->last_error;
}

void Uplink::log_summary() const {
  const auto& u = *impl_;
  log_uplink_summary({u.stats, u.spool->stats(), u.oldest_age_ms, u.connected}, last_error());
}

}  // namespace foggate::gateway
