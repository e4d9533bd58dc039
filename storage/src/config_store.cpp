#include "foggate/storage/config_store.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "database_file.h"
#include "foggate/base/clock.h"
#include "foggate/base/log.h"
#include "sqlite.h"

// The byte format (tables, columns, meta keys) is described in
// docs/config-store-format.md; change both together and bump kFormat.

namespace foggate::storage {
namespace {

constexpr std::string_view kModule = "storage";
constexpr int64_t kFormat = 1;

constexpr const char* kCreateSections =
    "CREATE TABLE sections (layer TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL,"
    " body TEXT NOT NULL, applied_ms INTEGER NOT NULL, PRIMARY KEY (layer, name)) WITHOUT ROWID";
constexpr const char* kCreateVersions =
    "CREATE TABLE versions (layer TEXT NOT NULL, name TEXT NOT NULL, max_version INTEGER NOT NULL,"
    " PRIMARY KEY (layer, name)) WITHOUT ROWID";

// Versions are uint64_t stored bit for bit in SQLite's signed 64-bit
// integers, so they are never compared in SQL (where 2^63 and above would
// sort below 0): put() reads the remembered maximum and compares in C++.
int64_t to_stored(uint64_t v) { return static_cast<int64_t>(v); }
uint64_t from_stored(int64_t v) { return static_cast<uint64_t>(v); }

// The store's own statements, prepared once at open (the transaction and
// meta ones are the DatabaseFile's).
struct Statements {
  sqlite::Statement put_section, erase_section, load, get_max, set_max;

  sqlite::SqlResult<void> prepare(sqlite::Database& db) {
    return sqlite::prepare_all(db, {
        {&put_section,
         "INSERT INTO sections (layer, name, version, body, applied_ms) VALUES (?1, ?2, ?3, ?4, ?5)"
         " ON CONFLICT (layer, name) DO UPDATE SET version = excluded.version, body = excluded.body,"
         " applied_ms = excluded.applied_ms"},
        {&erase_section, "DELETE FROM sections WHERE layer = ?1 AND name = ?2"},
        {&load, "SELECT layer, name, version, body, applied_ms FROM sections ORDER BY layer, name"},
        {&get_max, "SELECT max_version FROM versions WHERE layer = ?1 AND name = ?2"},
        {&set_max,
         "INSERT INTO versions (layer, name, max_version) VALUES (?1, ?2, ?3)"
         " ON CONFLICT (layer, name) DO UPDATE SET max_version = excluded.max_version"},
    });
  }
};

}  // namespace

struct ConfigStore::Impl {
  // No Clock in open()'s contract: the moved-aside name takes the system's
  // wall time, which is all it is for.
  explicit Impl(std::string path)
      : file(std::move(path), {"config_store", "config store", kFormat, {kCreateSections, kCreateVersions}, {}},
             SystemClock::instance()) {}

  DatabaseFile file;  // before the statements: they are finalized first
  Statements sql;

  // The remembered maximum for (layer, name), if there is a row.
  sqlite::SqlResult<std::optional<uint64_t>> stored_max(const std::string& layer, const std::string& name);
  sqlite::SqlResult<void> write(const StoredSection& s);
  sqlite::SqlResult<std::vector<StoredSection>> read_all();
};

sqlite::SqlResult<std::optional<uint64_t>> ConfigStore::Impl::stored_max(const std::string& layer,
                                                                         const std::string& name) {
  auto& q = sql.get_max;
  sqlite::ResetOnExit done(q);
  auto b = q.bind(1, std::string_view(layer));
  if (b) b = q.bind(2, std::string_view(name));
  if (!b) return unexpected(std::move(b.error()));
  auto row = q.step();
  if (!row) return unexpected(std::move(row.error()));
  if (!*row) return std::optional<uint64_t>();
  return std::optional<uint64_t>(from_stored(q.column_int64(0)));
}

// One transaction: the section and the raised maximum become durable
// together, or neither does.
sqlite::SqlResult<void> ConfigStore::Impl::write(const StoredSection& s) {
  if (auto r = file.begin(); !r) return r;
  auto r = [&]() -> sqlite::SqlResult<void> {
    auto old = stored_max(s.layer, s.name);
    if (!old) return unexpected(std::move(old.error()));
    auto& put = sql.put_section;
    auto b = put.bind(1, std::string_view(s.layer));
    if (b) b = put.bind(2, std::string_view(s.name));
    if (b) b = put.bind(3, to_stored(s.version));
    if (b) b = put.bind(4, std::string_view(s.body));
    if (b) b = put.bind(5, s.applied_ms);
    if (b) b = put.run();
    put.reset();
    if (!b) return b;
    if (*old && **old >= s.version) return {};  // the maximum never goes down
    auto& raise = sql.set_max;
    b = raise.bind(1, std::string_view(s.layer));
    if (b) b = raise.bind(2, std::string_view(s.name));
    if (b) b = raise.bind(3, to_stored(s.version));
    if (b) b = raise.run();
    raise.reset();
    return b;
  }();
  if (r) r = file.commit();
  // SQLite may already have rolled back by itself (SQLITE_FULL, I/O errors).
  if (!r && file.db().in_transaction()) (void)file.rollback();
  return r;
}

sqlite::SqlResult<std::vector<StoredSection>> ConfigStore::Impl::read_all() {
  std::vector<StoredSection> out;
  auto& q = sql.load;
  sqlite::ResetOnExit done(q);
  for (;;) {
    auto row = q.step();
    if (!row) return unexpected(std::move(row.error()));
    if (!*row) break;
    StoredSection s;
    s.layer = q.column_text(0);
    s.name = q.column_text(1);
    s.version = from_stored(q.column_int64(2));
    s.body = q.column_text(3);
    s.applied_ms = q.column_int64(4);
    out.push_back(std::move(s));
  }
  return out;
}

// --- ConfigStore ------------------------------------------------------------

Result<std::unique_ptr<ConfigStore>> ConfigStore::open(const std::string& path) {
  auto impl = std::make_unique<Impl>(path);
  Impl& s = *impl;
  auto r = s.file.open(small_store_hooks(s));
  if (!r) return unexpected(std::move(r.error()));
  return std::unique_ptr<ConfigStore>(new ConfigStore(std::move(impl)));
}

ConfigStore::ConfigStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ConfigStore::~ConfigStore() = default;

Result<void> ConfigStore::put(const StoredSection& s) {
  if (auto r = impl_->write(s); !r) {
    log::warn_once(kModule, "config_store_write", "config store write failed", {{"detail", r.error().message}});
    return unexpected(Error::transient("config_store_write", r.error().message));
  }
  return {};
}

Result<void> ConfigStore::erase(const std::string& layer, const std::string& name) {
  // One statement in autocommit mode: its own durable transaction.
  auto& del = impl_->sql.erase_section;
  auto r = del.bind(1, std::string_view(layer));
  if (r) r = del.bind(2, std::string_view(name));
  if (r) r = del.run();
  del.reset();
  if (!r) {
    log::warn_once(kModule, "config_store_write", "config store write failed", {{"detail", r.error().message}});
    return unexpected(Error::transient("config_store_write", r.error().message));
  }
  return {};
}

Result<std::vector<StoredSection>> ConfigStore::load_all() {
  auto r = impl_->read_all();
  if (!r) {
    log::warn_once(kModule, "config_store_read", "config store read failed", {{"detail", r.error().message}});
    return unexpected(Error::transient("config_store_read", r.error().message));
  }
  return std::move(*r);
}

// Fails closed. The caller accepts a section only above this version;
// answering 0 because the read failed would let an older signed version be
// replayed, while the highest possible value only refuses updates until the
// store reads again (one warning line says why).
uint64_t ConfigStore::max_version(const std::string& layer, const std::string& name) {
  auto r = impl_->stored_max(layer, name);
  if (!r) {
    log::warn_once(kModule, "config_store_read", "config store read failed; refusing every version",
                   {{"detail", r.error().message}});
    return UINT64_MAX;
  }
  return r->value_or(0);
}

}  // namespace foggate::storage
