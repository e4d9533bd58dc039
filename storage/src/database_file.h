// DatabaseFile: one of the storage module's SQLite files (the spool, the
// config store) and everything the stores have in common, written once:
//  - the connection, set up the way every store in the data dir runs (WAL,
//    synchronous=FULL);
//  - the meta table with the store's format number: written into a fresh
//    file, checked in an existing one;
//  - the transaction and meta statements, prepared once;
//  - what happens to a file that is not a valid store: it is moved aside,
//    together with its -wal/-shm/-journal siblings, and a fresh store is
//    created, so the gateway keeps working.
// A store adds its own tables, its own statements and its own content check
// (StoreKind, StoreHooks). Private to the storage module.
//
// Ownership: the store owns its DatabaseFile and declares it before its own
// statements, so those are finalized before the connection closes.
// Threads: the store's owner; nothing here locks.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "foggate/base/clock.h"
#include "foggate/base/result.h"
#include "sqlite.h"

namespace foggate::storage {

// What one kind of store is on disk, and its names in logs and errors.
struct StoreKind {
  std::string name;   // "spool": log keys "<name>_no_wal", "<name>_corrupt"; error "<name>_open"
  std::string label;  // "spool", "config store": the words in log lines
  int64_t format = 0;  // meta "format": written into a fresh file, the only value accepted
  std::vector<const char*> tables;  // CREATE TABLE for each table besides meta
  std::vector<std::pair<std::string, int64_t>> initial_meta;  // meta rows a fresh file starts with, besides format
  // PRAGMAs of this store run on every connection after the shared ones
  // (WAL, synchronous=FULL, journal_size_limit); none may weaken durability.
  std::vector<const char*> pragmas = {};
};

// The store's part of opening its file. Each runs on the owner's thread
// inside DatabaseFile::open(), possibly twice (once more after a move aside).
struct StoreHooks {
  // Prepares the store's own statements on the connection. Failing with
  // SQLITE_ERROR (a missing table or column) means someone else's schema:
  // the file is moved aside.
  std::function<sqlite::SqlResult<void>(sqlite::Database&)> prepare;
  // Checks the content once the format matched (and loads what the store
  // keeps in memory). A corrupt() failure, e.g. Failure::bad_content(),
  // moves the file aside.
  std::function<sqlite::SqlResult<void>()> check;
  // Finalizes the store's statements: the connection is about to close.
  std::function<void()> release;
};

// For a small store (the config store, the alarm store): every page is
// checked at open, so a damaged file is moved aside at once instead of
// failing each later read or write.
sqlite::SqlResult<void> check_every_page(sqlite::Database& db);

// The hooks of a small store whose Impl holds `file` (its DatabaseFile)
// and `sql` (its Statements, with prepare(Database&)).
template <typename StoreImpl>
StoreHooks small_store_hooks(StoreImpl& s) {
  using Statements = decltype(s.sql);
  return {
      .prepare = [&s](sqlite::Database& db) { return s.sql.prepare(db); },
      .check = [&s] { return check_every_page(s.file.db()); },
      .release = [&s] { s.sql = Statements{}; },
  };
}

class DatabaseFile {
 public:
  // `path`: the SQLite file; its directory must exist. `clock`: its wall
  // time names a moved-aside file.
  DatabaseFile(std::string path, StoreKind kind, const Clock& clock);
  DatabaseFile(const DatabaseFile&) = delete;
  DatabaseFile& operator=(const DatabaseFile&) = delete;

  // Opens the file, creating it (meta, the kind's tables, its initial meta
  // rows) if it is missing or empty, prepares every statement and checks
  // the format and the content. A file that is not a valid store of this
  // kind (not SQLite, corrupt, someone else's schema, another format, a
  // failed check) is closed keeping its WAL, renamed with its siblings to
  // "<path>.corrupt-<wall_ms>[-wal|-shm|-journal]", logged once as an error,
  // and replaced by a fresh store. Error (permanent) "<name>_open" when the
  // file cannot be opened for other reasons (missing directory, permissions,
  // I/O, locked), cannot be moved, or the fresh one fails too.
  Result<void> open(const StoreHooks& hooks);

  sqlite::Database& db() { return db_; }

  // One value of the meta table as text; "" when the key is missing.
  sqlite::SqlResult<std::string> get_meta(std::string_view key);
  // Inserts or replaces one value of the meta table.
  sqlite::SqlResult<void> set_meta(std::string_view key, int64_t value);

  sqlite::SqlResult<void> begin() { return begin_.run(); }  // BEGIN IMMEDIATE
  sqlite::SqlResult<void> commit() { return commit_.run(); }
  sqlite::SqlResult<void> rollback() { return rollback_.run(); }

 private:
  struct OpenFailure;
  Result<void, OpenFailure> connect(const StoreHooks& hooks);
  Result<bool, OpenFailure> open_connection();
  Result<void, OpenFailure> create_tables();
  void disconnect(const StoreHooks& hooks);
  Result<void> move_aside(const std::string& reason);

  std::string path_;
  StoreKind kind_;
  const Clock& clock_;
  sqlite::Database db_;  // before the statements: they are finalized first
  sqlite::Statement begin_, commit_, rollback_, get_meta_, set_meta_;
};

}  // namespace foggate::storage
