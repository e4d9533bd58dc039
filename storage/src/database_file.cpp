#include "database_file.h"

#include <filesystem>
#include <system_error>

#include "foggate/base/log.h"

namespace foggate::storage {
namespace {

constexpr std::string_view kModule = "storage";

// Durability. WAL with synchronous=NORMAL, the usual advice, fsyncs only at
// checkpoints: a commit is then safe against a crash of the process but not
// against power loss or a kernel panic, which can take back the last
// transactions even though the commit returned. The stores promise exactly
// that survival (an edge box loses power): the spool because the uplink may
// already have told nobody else to keep the data, the config store because
// a gateway booting without its broker must run the configuration it last
// acknowledged. So we run WAL with synchronous=FULL: every COMMIT fsyncs the
// WAL before it returns. The cost is one fsync per commit, which the spool's
// group commit keeps small and the config store's rare writes make
// irrelevant; checkpoints still run in the background of normal writes and
// fsync the database file as well.
constexpr const char* kPragmaSync = "PRAGMA synchronous=FULL";
// After a checkpoint the WAL is truncated back to this size instead of
// keeping its high-water mark on a small disk.
constexpr const char* kPragmaWalLimit = "PRAGMA journal_size_limit=67108864";

constexpr const char* kCreateMeta = "CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID";

}  // namespace

// Why connecting failed. `invalid`: the file is not a usable store of this
// kind and is to be moved aside. Otherwise an environment problem (missing
// directory, permissions, I/O, locked) that moving the file would not fix.
struct DatabaseFile::OpenFailure {
  bool invalid = false;
  std::string message;

  // Invalid when SQLite says the file is corrupt or not a database.
  static OpenFailure from(const sqlite::Failure& f) { return {f.corrupt(), f.message}; }
  // For preparing statements: also invalid when a table or column is
  // missing (SQLITE_ERROR), i.e. someone else's schema.
  static OpenFailure from_schema(const sqlite::Failure& f) { return {f.corrupt() || f.schema_error(), f.message}; }
};

DatabaseFile::DatabaseFile(std::string path, StoreKind kind, const Clock& clock)
    : path_(std::move(path)), kind_(std::move(kind)), clock_(clock) {}

Result<void> DatabaseFile::open(const StoreHooks& hooks) {
  auto r = connect(hooks);
  if (!r && r.error().invalid) {
    db_.keep_wal_on_close();
    disconnect(hooks);
    if (auto moved = move_aside(r.error().message); !moved) return moved;
    r = connect(hooks);
  }
  if (!r) return unexpected(Error::permanent(kind_.name + "_open", r.error().message));
  return {};
}

Result<void, DatabaseFile::OpenFailure> DatabaseFile::connect(const StoreHooks& hooks) {
  auto opened = open_connection();
  if (!opened) return unexpected(std::move(opened.error()));
  const bool fresh = *opened;
  if (fresh) {
    if (auto r = create_tables(); !r) return r;
  }
  auto prepared = sqlite::prepare_all(db_, {
      {&begin_, "BEGIN IMMEDIATE"},
      {&commit_, "COMMIT"},
      {&rollback_, "ROLLBACK"},
      {&get_meta_, "SELECT value FROM meta WHERE key = ?1"},
      {&set_meta_,
       "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value"},
  });
  if (prepared) prepared = hooks.prepare(db_);
  if (!prepared) return unexpected(OpenFailure::from_schema(prepared.error()));
  if (fresh) {
    // The tables and the meta rows become durable together: a crash in
    // between leaves an empty file, which is fresh again at the next open.
    auto r = set_meta("format", kind_.format);
    for (const auto& [key, value] : kind_.initial_meta) {
      if (r) r = set_meta(key, value);
    }
    if (r) r = commit();
    if (!r) return unexpected(OpenFailure::from(r.error()));
  }

  auto format = get_meta("format");
  if (!format) return unexpected(OpenFailure::from(format.error()));
  if (*format != std::to_string(kind_.format)) {
    return unexpected(
        OpenFailure{true, kind_.label + " format '" + *format + "', expected " + std::to_string(kind_.format)});
  }
  if (auto r = hooks.check(); !r) return unexpected(OpenFailure::from(r.error()));
  return {};
}

// Opens the file into db_, creating it if missing, and sets the shared
// pragmas. Returns true when the file holds no schema yet (new or empty).
Result<bool, DatabaseFile::OpenFailure> DatabaseFile::open_connection() {
  auto opened = sqlite::Database::open(path_);
  if (!opened) return unexpected(OpenFailure::from(opened.error()));
  db_ = std::move(*opened);

  // The first statement reads the header: a file that is not SQLite fails here.
  auto mode = db_.query_text("PRAGMA journal_mode=WAL");
  if (!mode) return unexpected(OpenFailure::from(mode.error()));
  if (*mode != "wal") {
    log::warn_once(kModule, kind_.name + "_no_wal", kind_.label + " not in WAL mode; commits still durable, slower",
                   {{"journal_mode", *mode}});
  }
  std::vector<const char*> pragmas{kPragmaSync, kPragmaWalLimit};
  pragmas.insert(pragmas.end(), kind_.pragmas.begin(), kind_.pragmas.end());
  for (const char* pragma : pragmas) {
    if (auto r = db_.exec(pragma); !r) return unexpected(OpenFailure::from(r.error()));
  }

  auto objects = db_.query_int("SELECT count(*) FROM sqlite_master");
  if (!objects) return unexpected(OpenFailure::from(objects.error()));
  return *objects == 0;
}

// Opens the transaction connect() commits once the meta rows are in.
Result<void, DatabaseFile::OpenFailure> DatabaseFile::create_tables() {
  std::vector<const char*> ddl{"BEGIN IMMEDIATE", kCreateMeta};
  ddl.insert(ddl.end(), kind_.tables.begin(), kind_.tables.end());
  for (const char* sql : ddl) {
    if (auto r = db_.exec(sql); !r) return unexpected(OpenFailure::from(r.error()));
  }
  return {};
}

void DatabaseFile::disconnect(const StoreHooks& hooks) {
  hooks.release();
  for (auto* stmt : {&begin_, &commit_, &rollback_, &get_meta_, &set_meta_}) *stmt = sqlite::Statement{};
  db_.close();
}

Result<void> DatabaseFile::move_aside(const std::string& reason) {
  const std::string aside = path_ + ".corrupt-" + std::to_string(clock_.wall_ms());
  // The siblings go along under matching names: a stale WAL left next to
  // the fresh file would be replayed into it.
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::error_code ec;
    if (!std::filesystem::exists(path_ + suffix, ec)) continue;
    std::filesystem::rename(path_ + suffix, aside + suffix, ec);
    if (ec) {
      return unexpected(
          Error::permanent(kind_.name + "_open", "cannot move " + path_ + suffix + " aside: " + ec.message()));
    }
  }
  if (log::first_time(kModule, kind_.name + "_corrupt")) {
    log::error(kModule, kind_.label + " file is not a valid " + kind_.label + "; moved aside, starting empty",
               {{"path", path_}, {"moved_to", aside}, {"detail", reason}});
  }
  return {};
}

sqlite::SqlResult<std::string> DatabaseFile::get_meta(std::string_view key) {
  sqlite::ResetOnExit done(get_meta_);
  if (auto r = get_meta_.bind(1, key); !r) return unexpected(std::move(r.error()));
  auto row = get_meta_.step();
  if (!row) return unexpected(std::move(row.error()));
  return *row ? get_meta_.column_text(0) : std::string();
}

sqlite::SqlResult<void> DatabaseFile::set_meta(std::string_view key, int64_t value) {
  auto r = set_meta_.bind(1, key);
  if (r) r = set_meta_.bind(2, value);
  if (!r) {
    set_meta_.reset();
    return r;
  }
  return set_meta_.run();
}

sqlite::SqlResult<void> check_every_page(sqlite::Database& db) {
  auto check = db.query_text("PRAGMA quick_check");
  if (!check) return unexpected(std::move(check.error()));
  if (*check != "ok") return unexpected(sqlite::Failure::bad_content("quick_check: " + *check));
  return {};
}

}  // namespace foggate::storage
