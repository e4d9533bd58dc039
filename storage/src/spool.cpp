#include "foggate/storage/spool.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "database_file.h"
#include "foggate/base/log.h"
#include "sqlite.h"

// The byte format (tables, columns, meta keys) is described in
// docs/spool-format.md; change both together and bump kFormat.

namespace foggate::storage {
namespace {

constexpr std::string_view kModule = "storage";
constexpr int64_t kFormat = 1;

// Durability (WAL, synchronous=FULL: a committed batch survives power
// loss) is set up by DatabaseFile::open; see database_file.cpp for why.

// Disk bytes written per byte sent (the SD card's wear; S5 in
// docs/benchmarks.md, which records what each setting did).
//
// Debian builds SQLite with SQLITE_SECURE_DELETE, so by default every page
// freed when an acknowledged batch is deleted is overwritten with zeros:
// a second full write of every blob (to the WAL, then again at the
// checkpoint), which made the spool write about 4 bytes per byte sent.
// FAST still zeroes deleted cells inside B-tree pages (no extra I/O) but
// leaves freed overflow pages as they are until reused: the sent batches'
// bytes stay in free pages of the file, as they would in a file system's
// free blocks. The spool holds the same data until it is sent anyway.
//
// The WAL checkpoints at 4096 pages (16 MiB) instead of SQLite's 1000: a
// batch acknowledged before the checkpoint frees pages that are then
// rewritten in the WAL, and the checkpoint copies each page once however
// often the WAL holds it. Neither setting touches durability: every
// commit still fsyncs the WAL (synchronous=FULL), and a checkpoint only
// copies committed pages.
constexpr const char* kPragmaSecureDelete = "PRAGMA secure_delete=FAST";
constexpr const char* kPragmaCheckpoint = "PRAGMA wal_autocheckpoint=4096";

constexpr const char* kCreateBatches =
    "CREATE TABLE batches (id INTEGER PRIMARY KEY AUTOINCREMENT, priority INTEGER NOT NULL,"
    " seq INTEGER NOT NULL, created_ms INTEGER NOT NULL, messages INTEGER NOT NULL,"
    " raw_bytes INTEGER NOT NULL, data BLOB NOT NULL)";

struct Entry {
  BatchInfo info;
  bool in_flight = false;
};
using Queue = std::map<int64_t, Entry>;  // by id, i.e. append order

// The spool's own statements, prepared once at open (the transaction and
// meta ones are the DatabaseFile's).
struct Statements {
  sqlite::Statement savepoint, release, rollback_to;
  sqlite::Statement insert, remove, read, load;

  sqlite::SqlResult<void> prepare(sqlite::Database& db) {
    return sqlite::prepare_all(db, {
        {&savepoint, "SAVEPOINT staged"},
        {&release, "RELEASE staged"},
        {&rollback_to, "ROLLBACK TO staged"},
        {&insert,
         "INSERT INTO batches (priority, seq, created_ms, messages, raw_bytes, data)"
         " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
        {&remove, "DELETE FROM batches WHERE id = ?1"},
        {&read, "SELECT data FROM batches WHERE id = ?1"},
        {&load,
         "SELECT id, priority, seq, created_ms, messages, raw_bytes, length(data)"
         " FROM batches ORDER BY id"},
    });
  }
};

uint64_t to_u64(int64_t v) { return v < 0 ? 0 : static_cast<uint64_t>(v); }

}  // namespace

struct Spool::Impl {
  Impl(SpoolOptions o, const Clock& c)
      : options(std::move(o)),
        clock(c),
        file(options.path,
             {"spool", "spool", kFormat, {kCreateBatches}, {{"last_seq", 0}}, {kPragmaSecureDelete, kPragmaCheckpoint}},
             clock) {}

  SpoolOptions options;
  const Clock& clock;
  SpoolStats* stats = nullptr;  // the owning Spool's; set once it exists

  DatabaseFile file;  // before the statements: they are finalized first
  Statements sql;

  std::array<Queue, kPriorityCount> index;
  std::array<uint64_t, kPriorityCount> bytes{};
  uint64_t total = 0;
  uint64_t last_seq = 0;

  sqlite::SqlResult<void> reload();

  // Runs `body` (database work only, plus index changes it may leave
  // half-done) inside the open transaction, opening one if needed, as one
  // savepoint: all of it is staged, or none of it and the index is reloaded
  // to match the database again.
  template <typename Body>
  sqlite::SqlResult<void> staged(Body&& body);
  void recover(bool savepoint_open);
  Unexpected<Error> write_failed(const sqlite::Failure& f);

  std::optional<std::pair<Priority, Queue::iterator>> find(int64_t id);
  std::optional<std::pair<Priority, Queue::iterator>> eviction_victim();
  void erase(Priority p, Queue::iterator it) {
    bytes[index_of(p)] -= it->second.info.bytes;
    total -= it->second.info.bytes;
    index[index_of(p)].erase(it);
  }
  void sync_gauges() {
    if (stats == nullptr) return;
    for (std::size_t i = 0; i < kPriorityCount; ++i) {
      stats->batches[i].set(static_cast<int64_t>(index[i].size()));
      stats->bytes[i].set(static_cast<int64_t>(bytes[i]));
    }
  }
};

// Rebuilds the index from the database as this connection sees it (staged
// rows included). Built aside and swapped in, so a failure leaves the old
// index; in-flight marks survive for the batches still there.
sqlite::SqlResult<void> Spool::Impl::reload() {
  std::array<Queue, kPriorityCount> fresh;
  std::array<uint64_t, kPriorityCount> fresh_bytes{};
  uint64_t fresh_total = 0;
  {
    sqlite::ResetOnExit done(sql.load);
    for (;;) {
      auto row = sql.load.step();
      if (!row) return unexpected(std::move(row.error()));
      if (!*row) break;
      const int64_t p = sql.load.column_int64(1);
      if (p < 0 || p >= static_cast<int64_t>(kPriorityCount)) {
        return unexpected(sqlite::Failure::bad_content("batch row with priority " + std::to_string(p)));
      }
      Entry e;
      e.info.id = sql.load.column_int64(0);
      e.info.priority = static_cast<Priority>(p);
      e.info.seq = static_cast<uint64_t>(sql.load.column_int64(2));  // stored bit for bit
      e.info.created_ms = sql.load.column_int64(3);
      e.info.messages = static_cast<uint32_t>(std::clamp<int64_t>(sql.load.column_int64(4), 0, UINT32_MAX));
      e.info.raw_bytes = to_u64(sql.load.column_int64(5));
      e.info.bytes = to_u64(sql.load.column_int64(6));
      if (auto old = find(e.info.id)) e.in_flight = old->second->second.in_flight;
      const auto i = static_cast<std::size_t>(p);
      fresh_bytes[i] += e.info.bytes;
      fresh_total += e.info.bytes;
      fresh[i].emplace(e.info.id, e);
    }
  }
  auto seq = file.get_meta("last_seq");
  if (!seq) return unexpected(std::move(seq.error()));
  int64_t stored_seq = 0;  // the uint64_t stored bit for bit
  if (!seq->empty()) {
    auto [end, ec] = std::from_chars(seq->data(), seq->data() + seq->size(), stored_seq);
    if (ec != std::errc() || end != seq->data() + seq->size()) {
      return unexpected(sqlite::Failure::bad_content("meta last_seq is '" + *seq + "'"));
    }
  }
  index = std::move(fresh);
  bytes = fresh_bytes;
  total = fresh_total;
  last_seq = static_cast<uint64_t>(stored_seq);
  sync_gauges();
  return {};
}

template <typename Body>
sqlite::SqlResult<void> Spool::Impl::staged(Body&& body) {
  if (!file.db().in_transaction()) {
    if (auto r = file.begin(); !r) return r;
  }
  if (auto r = sql.savepoint.run(); !r) {
    recover(false);
    return r;
  }
  auto r = body();
  if (r) r = sql.release.run();
  if (!r) recover(true);
  return r;
}

// After a failed write: undo the partial savepoint (or find that SQLite
// already rolled the whole transaction back, as it does on SQLITE_FULL and
// most I/O errors), then make the index match what the database holds.
void Spool::Impl::recover(bool savepoint_open) {
  if (savepoint_open && file.db().in_transaction()) {
    auto r = sql.rollback_to.run();
    if (r) r = sql.release.run();
    if (!r) (void)file.rollback();  // last resort: drop everything staged
  }
  if (auto r = reload(); !r) {
    log::error(kModule, "spool index reload failed; index may be stale", {{"detail", r.error().message}});
  }
}

Unexpected<Error> Spool::Impl::write_failed(const sqlite::Failure& f) {
  if (stats != nullptr) stats->write_errors.add();
  log::warn_once(kModule, "spool_write", "spool write failed", {{"detail", f.message}});
  return unexpected(Error::transient("spool_write", f.message));
}

std::optional<std::pair<Priority, Queue::iterator>> Spool::Impl::find(int64_t id) {
  for (Priority p : kAllPriorities) {
    auto& q = index[index_of(p)];
    if (auto it = q.find(id); it != q.end()) return std::pair{p, it};
  }
  return std::nullopt;
}

// The eviction order of the header, as tiers: non-critical batches before
// critical ones; within each, batches not in flight before those in flight
// (an in-flight batch is probably being delivered, so losing it costs less,
// but it is still skipped while others exist); then lowest priority first,
// oldest first.
std::optional<std::pair<Priority, Queue::iterator>> Spool::Impl::eviction_victim() {
  for (bool critical : {false, true}) {
    for (bool in_flight : {false, true}) {
      for (auto p = kAllPriorities.rbegin(); p != kAllPriorities.rend(); ++p) {
        if ((*p == Priority::kCritical) != critical) continue;
        auto& q = index[index_of(*p)];
        for (auto it = q.begin(); it != q.end(); ++it) {
          if (it->second.in_flight == in_flight) return std::pair{*p, it};
        }
      }
    }
  }
  return std::nullopt;
}

// --- Spool ------------------------------------------------------------------

Result<std::unique_ptr<Spool>> Spool::open(SpoolOptions options, const Clock& clock) {
  auto impl = std::make_unique<Impl>(std::move(options), clock);
  Impl& s = *impl;
  auto r = s.file.open({
      .prepare = [&s](sqlite::Database& db) { return s.sql.prepare(db); },
      .check = [&s] { return s.reload(); },
      .release = [&s] { s.sql = Statements{}; },
  });
  if (!r) return unexpected(std::move(r.error()));
  return std::unique_ptr<Spool>(new Spool(std::move(impl)));
}

Spool::Spool(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  impl_->stats = &stats_;
  impl_->sync_gauges();
}

// The connection closes with impl_: anything staged and not committed is
// rolled back, by design (see the header).
Spool::~Spool() = default;

Result<BatchInfo> Spool::append(Priority priority, uint64_t seq, int64_t created_ms, uint32_t messages,
                                uint64_t raw_bytes, std::string_view blob) {
  Impl& s = *impl_;
  BatchInfo info{0, priority, seq, created_ms, messages, raw_bytes, blob.size()};
  std::array<uint64_t, kPriorityCount> evicted{}, evicted_messages{};
  auto r = s.staged([&]() -> sqlite::SqlResult<void> {
    auto& ins = s.sql.insert;
    auto b = ins.bind(1, static_cast<int64_t>(index_of(priority)));
    if (b) b = ins.bind(2, static_cast<int64_t>(seq));
    if (b) b = ins.bind(3, created_ms);
    if (b) b = ins.bind(4, static_cast<int64_t>(messages));
    if (b) b = ins.bind(5, static_cast<int64_t>(raw_bytes));
    if (b) b = ins.bind_blob(6, blob);
    if (!b) {
      ins.reset();
      return b;
    }
    if (auto done = ins.run(); !done) return done;
    info.id = s.file.db().last_insert_rowid();
    if (seq > s.last_seq) {
      if (auto m = s.file.set_meta("last_seq", static_cast<int64_t>(seq)); !m) return m;
    }
    // From here the index changes with the database; on failure reload()
    // puts it back.
    s.index[index_of(priority)].emplace(info.id, Entry{info, false});
    s.bytes[index_of(priority)] += info.bytes;
    s.total += info.bytes;
    while (s.total > s.options.max_bytes) {
      auto victim = s.eviction_victim();
      if (!victim) break;
      auto [p, it] = *victim;
      auto& del = s.sql.remove;
      if (auto bound = del.bind(1, it->first); !bound) {
        del.reset();
        return bound;
      }
      if (auto done = del.run(); !done) return done;
      evicted[index_of(p)] += 1;
      evicted_messages[index_of(p)] += it->second.info.messages;
      s.erase(p, it);
    }
    return {};
  });
  if (!r) return s.write_failed(r.error());

  s.last_seq = std::max(s.last_seq, seq);
  stats_.appended[index_of(priority)].add();
  for (Priority p : kAllPriorities) {
    const std::size_t i = index_of(p);
    if (evicted[i] == 0) continue;
    stats_.evicted[i].add(evicted[i]);
    stats_.evicted_messages[i].add(evicted_messages[i]);
    log::warn_once(kModule, std::string("spool_evict_") + std::string(to_string(p)),
                   "spool full: evicting oldest batches",
                   {{"priority", to_string(p)}, {"max_bytes", std::to_string(s.options.max_bytes)}});
  }
  s.sync_gauges();
  return info;
}

Result<void> Spool::commit() {
  Impl& s = *impl_;
  if (!s.file.db().in_transaction()) return {};
  if (auto r = s.file.commit(); !r) {
    // Whatever was staged is gone: roll back what SQLite left open and let
    // the index show the committed state again. The caller still holds the
    // batches it sealed and can append them anew.
    if (s.file.db().in_transaction()) (void)s.file.rollback();
    s.recover(false);
    return s.write_failed(r.error());
  }
  stats_.commits.add();
  return {};
}

std::optional<BatchInfo> Spool::next(Priority priority) const {
  for (const auto& [id, e] : impl_->index[index_of(priority)]) {
    if (!e.in_flight) return e.info;
  }
  return std::nullopt;
}

Result<std::string> Spool::read(int64_t id) {
  auto& q = impl_->sql.read;
  sqlite::ResetOnExit done(q);
  auto row = q.bind(1, id).has_value() ? q.step() : sqlite::SqlResult<bool>(false);
  if (!row) return unexpected(Error::transient("spool_read", row.error().message));
  if (!*row) return unexpected(Error::permanent("spool_missing", "no batch " + std::to_string(id)));
  return q.column_blob(0);
}

void Spool::set_in_flight(int64_t id, bool in_flight) {
  if (auto found = impl_->find(id)) found->second->second.in_flight = in_flight;
}

void Spool::clear_in_flight() {
  for (auto& q : impl_->index) {
    for (auto& [id, e] : q) e.in_flight = false;
  }
}

std::vector<BatchInfo> Spool::waiting(Priority priority, std::size_t max) const {
  std::vector<BatchInfo> out;
  for (const auto& [id, e] : impl_->index[index_of(priority)]) {
    if (out.size() >= max) break;
    if (!e.in_flight) out.push_back(e.info);
  }
  return out;
}

void Spool::remove(int64_t id) { remove_staged(id, false); }

void Spool::remove_compacted(int64_t id) { remove_staged(id, true); }

void Spool::remove_staged(int64_t id, bool compacted) {
  Impl& s = *impl_;
  auto found = s.find(id);
  if (!found) return;
  auto r = s.staged([&]() -> sqlite::SqlResult<void> {
    auto& del = s.sql.remove;
    if (auto b = del.bind(1, id); !b) {
      del.reset();
      return b;
    }
    return del.run();
  });
  if (!r) {
    (void)s.write_failed(r.error());
    return;
  }
  // staged() touched no index entry, so `found` is still valid.
  const auto pi = index_of(found->first);
  if (compacted) {
    stats_.compacted[pi].add();
    stats_.compacted_messages[pi].add(found->second->second.info.messages);
  } else {
    stats_.removed[pi].add();
  }
  s.erase(found->first, found->second);
  s.sync_gauges();
}

std::size_t Spool::expire() {
  Impl& s = *impl_;
  const int64_t now = s.clock.wall_ms();
  std::vector<std::pair<Priority, Queue::iterator>> victims;
  for (Priority p : kAllPriorities) {
    const int64_t ttl = s.options.ttl_ms[index_of(p)];
    if (ttl <= 0) continue;
    auto& q = s.index[index_of(p)];
    // created_ms comes from the sealer, so not necessarily monotonic: look at all.
    for (auto it = q.begin(); it != q.end(); ++it) {
      if (now - it->second.info.created_ms > ttl) victims.emplace_back(p, it);
    }
  }
  if (victims.empty()) return 0;
  auto r = s.staged([&]() -> sqlite::SqlResult<void> {
    auto& del = s.sql.remove;
    for (const auto& [p, it] : victims) {
      if (auto b = del.bind(1, it->first); !b) {
        del.reset();
        return b;
      }
      if (auto done = del.run(); !done) return done;
    }
    return {};
  });
  if (!r) {
    (void)s.write_failed(r.error());
    return 0;
  }
  for (const auto& [p, it] : victims) {
    stats_.expired[index_of(p)].add();
    stats_.expired_messages[index_of(p)].add(it->second.info.messages);
    s.erase(p, it);
  }
  s.sync_gauges();
  return victims.size();
}

uint64_t Spool::last_seq() const { return impl_->last_seq; }

std::size_t Spool::batches(Priority p) const { return impl_->index[index_of(p)].size(); }

uint64_t Spool::bytes(Priority p) const { return impl_->bytes[index_of(p)]; }

uint64_t Spool::total_bytes() const { return impl_->total; }

int64_t Spool::oldest_age_ms(Priority p) const {
  const auto& q = impl_->index[index_of(p)];
  if (q.empty()) return 0;
  // The first appended stands for the oldest: sealing order is creation order.
  return std::max<int64_t>(0, impl_->clock.wall_ms() - q.begin()->second.info.created_ms);
}

void Spool::set_limits(uint64_t max_bytes, const std::array<int64_t, kPriorityCount>& ttl_ms) {
  impl_->options.max_bytes = max_bytes;
  impl_->options.ttl_ms = ttl_ms;
}

}  // namespace foggate::storage
