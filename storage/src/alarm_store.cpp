#include "foggate/storage/alarm_store.h"

#include <string_view>
#include <utility>

#include "database_file.h"
#include "foggate/base/clock.h"
#include "foggate/base/log.h"
#include "sqlite.h"

// The byte format is described in docs/alarm-store-format.md; change both
// together and bump kFormat.

namespace foggate::storage {
namespace {

constexpr std::string_view kModule = "storage";
constexpr int64_t kFormat = 1;

constexpr const char* kCreateAlarms =
    "CREATE TABLE alarms (device TEXT NOT NULL, detector TEXT NOT NULL, body TEXT NOT NULL,"
    " PRIMARY KEY (device, detector)) WITHOUT ROWID";

struct Statements {
  sqlite::Statement put, erase, load;

  sqlite::SqlResult<void> prepare(sqlite::Database& db) {
    return sqlite::prepare_all(db, {
        {&put,
         "INSERT INTO alarms (device, detector, body) VALUES (?1, ?2, ?3)"
         " ON CONFLICT (device, detector) DO UPDATE SET body = excluded.body"},
        {&erase, "DELETE FROM alarms WHERE device = ?1 AND detector = ?2"},
        {&load, "SELECT device, detector, body FROM alarms ORDER BY device, detector"},
    });
  }
};

}  // namespace

struct AlarmStore::Impl {
  explicit Impl(std::string path)
      : file(std::move(path), {"alarm_store", "alarm store", kFormat, {kCreateAlarms}, {}}, SystemClock::instance()) {}

  DatabaseFile file;  // before the statements: they are finalized first
  Statements sql;

  sqlite::SqlResult<void> write_one(const AlarmRow& row) {
    auto& q = row.body.empty() ? sql.erase : sql.put;
    auto b = q.bind(1, std::string_view(row.device));
    if (b) b = q.bind(2, std::string_view(row.detector));
    if (b && !row.body.empty()) b = q.bind(3, std::string_view(row.body));
    if (b) b = q.run();
    q.reset();
    return b;
  }

  sqlite::SqlResult<void> write(const std::vector<AlarmRow>& rows) {
    if (auto r = file.begin(); !r) return r;
    sqlite::SqlResult<void> r;
    for (const auto& row : rows)
      if (r = write_one(row); !r) break;
    if (r) r = file.commit();
    // SQLite may already have rolled back by itself (SQLITE_FULL, I/O errors).
    if (!r && file.db().in_transaction()) (void)file.rollback();
    return r;
  }

  sqlite::SqlResult<std::vector<AlarmRow>> read_all() {
    std::vector<AlarmRow> out;
    auto& q = sql.load;
    sqlite::ResetOnExit done(q);
    for (;;) {
      auto row = q.step();
      if (!row) return unexpected(std::move(row.error()));
      if (!*row) break;
      out.push_back({q.column_text(0), q.column_text(1), q.column_text(2)});
    }
    return out;
  }
};

Result<std::unique_ptr<AlarmStore>> AlarmStore::open(const std::string& path) {
  auto impl = std::make_unique<Impl>(path);
  Impl& s = *impl;
  auto r = s.file.open(small_store_hooks(s));
  if (!r) return unexpected(std::move(r.error()));
  return std::unique_ptr<AlarmStore>(new AlarmStore(std::move(impl)));
}

AlarmStore::AlarmStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

AlarmStore::~AlarmStore() = default;

Result<void> AlarmStore::write(const std::vector<AlarmRow>& rows) {
  if (rows.empty()) return {};
  if (auto r = impl_->write(rows); !r) {
    log::warn_once(kModule, "alarm_store_write", "alarm store write failed", {{"detail", r.error().message}});
    return unexpected(Error::transient("alarm_store_write", r.error().message));
  }
  return {};
}

Result<std::vector<AlarmRow>> AlarmStore::load_all() {
  auto r = impl_->read_all();
  if (!r) {
    log::warn_once(kModule, "alarm_store_read", "alarm store read failed", {{"detail", r.error().message}});
    return unexpected(Error::transient("alarm_store_read", r.error().message));
  }
  return std::move(*r);
}

}  // namespace foggate::storage
