// RAII for the SQLite C API, written once: a Database owns one sqlite3
// connection, a Statement owns one prepared sqlite3_stmt. Private to the
// storage module; no SQLite type leaves src/.
//
// Ownership: a Statement belongs to the connection it was prepared on and
// must be destroyed before that Database (declare the Database first).
// Both are move-only; moving a Database does not invalidate its Statements.
//
// Threads: a connection and its statements belong to one thread (the
// spool's owner); nothing here locks.
//
// Errors come back as Failure: the SQLite primary result code plus the
// connection's message, so callers can tell "not a database" or "corrupt"
// from "disk full" and map them to their own reasons.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "foggate/base/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace foggate::storage::sqlite {

struct Failure {
  int code = 0;         // primary SQLite result code (SQLITE_FULL, SQLITE_CORRUPT, ...)
  std::string message;  // sqlite3_errmsg text plus what we were doing

  bool corrupt() const;  // SQLITE_CORRUPT or SQLITE_NOTADB: the file is not a usable database
  // SQLITE_ERROR, as preparing against a missing table or column gives.
  bool schema_error() const;
  // A failure for content SQLite accepted but we cannot (code SQLITE_CORRUPT).
  static Failure bad_content(std::string message);
};

template <typename T>
using SqlResult = Result<T, Failure>;

class Database {
 public:
  // Opens (creating if missing) the file read-write. Always returns a
  // failure for a handle SQLite could not open; the handle is closed.
  static SqlResult<Database> open(const std::string& path);
  Database() = default;
  ~Database();
  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Closes now (rolls back an open transaction). Idempotent.
  void close();
  // Leave the -wal file in place at close (SQLite deletes it otherwise), so
  // a broken file can be moved aside together with its WAL.
  void keep_wal_on_close();
  bool is_open() const { return db_ != nullptr; }

  // Runs one constant statement to completion (schema, pragmas): prepared,
  // stepped, finalized. Never pass SQL built from values; bind them instead.
  SqlResult<void> exec(const char* sql);
  // Runs one constant statement that yields one text value ("PRAGMA
  // journal_mode=WAL" answers the mode it got).
  SqlResult<std::string> query_text(const char* sql);
  // The same for one integer value (0 when there is no row).
  SqlResult<int64_t> query_int(const char* sql);

  // True while an explicit transaction is open (false after SQLite rolled
  // one back by itself, e.g. on SQLITE_FULL).
  bool in_transaction() const;
  int64_t last_insert_rowid() const;
  Failure failure(int code, std::string_view what) const;

  sqlite3* handle() const { return db_; }

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

class Statement {
 public:
  // Prepares `sql` once (persistent); reuse it with reset()/bind/step.
  static SqlResult<Statement> prepare(Database& db, const char* sql);
  Statement() = default;
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are 1-based, as in SQLite.
  SqlResult<void> bind(int index, int64_t value);
  SqlResult<void> bind(int index, std::string_view text);
  SqlResult<void> bind_blob(int index, std::string_view bytes);

  // One step: true = a row is ready, false = done.
  SqlResult<bool> step();
  // Steps to completion and resets: for INSERT/UPDATE/DELETE/BEGIN/COMMIT.
  SqlResult<void> run();
  // Ready for the next use: rewinds and clears the bindings. Also ends the
  // read a SELECT holds, so call it once the rows are consumed.
  void reset();

  int64_t column_int64(int index) const;
  std::string column_blob(int index) const;
  std::string column_text(int index) const;

 private:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  sqlite3_stmt* stmt_ = nullptr;
};

// Prepares every (statement, SQL) pair on `db`, stopping at the first error:
// how each store prepares its whole statement set once at open.
inline SqlResult<void> prepare_all(Database& db, std::initializer_list<std::pair<Statement*, const char*>> all) {
  for (auto [stmt, sql] : all) {
    auto r = Statement::prepare(db, sql);
    if (!r) return unexpected(std::move(r.error()));
    *stmt = std::move(*r);
  }
  return {};
}

// Resets a statement when a scope ends, whichever way it ends.
class ResetOnExit {
 public:
  explicit ResetOnExit(Statement& s) : s_(s) {}
  ~ResetOnExit() { s_.reset(); }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;

 private:
  Statement& s_;
};

}  // namespace foggate::storage::sqlite
