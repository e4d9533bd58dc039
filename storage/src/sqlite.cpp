#include "sqlite.h"

#include <sqlite3.h>

#include <utility>

namespace foggate::storage::sqlite {
namespace {

Failure make_failure(sqlite3* db, int code, std::string_view what) {
  Failure f;
  f.code = code & 0xff;  // extended codes carry the primary one in the low byte
  f.message.assign(what);
  f.message += ": ";
  // sqlite3_errmsg describes the connection's most recent error, which is
  // this one as long as nothing ran in between (one thread owns the handle).
  f.message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  return f;
}

}  // namespace

bool Failure::corrupt() const { return code == SQLITE_CORRUPT || code == SQLITE_NOTADB; }
bool Failure::schema_error() const { return code == SQLITE_ERROR; }
Failure Failure::bad_content(std::string message) { return {SQLITE_CORRUPT, std::move(message)}; }

// --- Database ---------------------------------------------------------------

SqlResult<Database> Database::open(const std::string& path) {
  sqlite3* db = nullptr;
  // NOMUTEX: one thread owns the connection, so SQLite's own mutex buys nothing.
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Failure f = make_failure(db, rc, "open " + path);
    sqlite3_close_v2(db);  // a handle is returned even on failure; NULL is fine too
    return unexpected(std::move(f));
  }
  // Extended codes let IOERR subtypes show in messages; failure() masks them.
  sqlite3_extended_result_codes(db, 1);
  return Database(db);
}

Database::~Database() { close(); }

Database::Database(Database&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    close();
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

void Database::close() {
  // close_v2 rolls back an open transaction and, should a statement still
  // be alive, defers the close until it is finalized instead of failing.
  if (db_ != nullptr) sqlite3_close_v2(std::exchange(db_, nullptr));
}

void Database::keep_wal_on_close() {
  int on = 1;
  if (db_ != nullptr) sqlite3_file_control(db_, "main", SQLITE_FCNTL_PERSIST_WAL, &on);
}

SqlResult<void> Database::exec(const char* sql) {
  auto stmt = Statement::prepare(*this, sql);
  if (!stmt) return unexpected(std::move(stmt.error()));
  return stmt->run();
}

SqlResult<std::string> Database::query_text(const char* sql) {
  auto stmt = Statement::prepare(*this, sql);
  if (!stmt) return unexpected(std::move(stmt.error()));
  ResetOnExit done(*stmt);
  auto row = stmt->step();
  if (!row) return unexpected(std::move(row.error()));
  return *row ? stmt->column_text(0) : std::string();
}

SqlResult<int64_t> Database::query_int(const char* sql) {
  auto stmt = Statement::prepare(*this, sql);
  if (!stmt) return unexpected(std::move(stmt.error()));
  ResetOnExit done(*stmt);
  auto row = stmt->step();
  if (!row) return unexpected(std::move(row.error()));
  return *row ? stmt->column_int64(0) : int64_t{0};
}

bool Database::in_transaction() const { return db_ != nullptr && sqlite3_get_autocommit(db_) == 0; }

int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

Failure Database::failure(int code, std::string_view what) const { return make_failure(db_, code, what); }

// --- Statement --------------------------------------------------------------

SqlResult<Statement> Statement::prepare(Database& db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db.handle(), sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return unexpected(db.failure(rc, std::string("prepare '") + sql + "'"));
  }
  return Statement(stmt);
}

Statement::~Statement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

Statement::Statement(Statement&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

SqlResult<void> Statement::bind(int index, int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) return unexpected(make_failure(sqlite3_db_handle(stmt_), rc, "bind"));
  return {};
}

SqlResult<void> Statement::bind(int index, std::string_view text) {
  const int rc = sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) return unexpected(make_failure(sqlite3_db_handle(stmt_), rc, "bind"));
  return {};
}

SqlResult<void> Statement::bind_blob(int index, std::string_view bytes) {
  // SQLITE_STATIC: the caller's bytes stay put until the statement has run;
  // copying a batch blob once more would be waste. An empty view must still
  // bind a zero-length blob, not NULL, hence the non-null pointer.
  const void* data = bytes.empty() ? static_cast<const void*>("") : bytes.data();
  const int rc = sqlite3_bind_blob64(stmt_, index, data, bytes.size(), SQLITE_STATIC);
  if (rc != SQLITE_OK) return unexpected(make_failure(sqlite3_db_handle(stmt_), rc, "bind"));
  return {};
}

SqlResult<bool> Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return unexpected(make_failure(sqlite3_db_handle(stmt_), rc, sqlite3_sql(stmt_)));
}

SqlResult<void> Statement::run() {
  ResetOnExit done(*this);
  for (;;) {
    auto row = step();
    if (!row) return unexpected(std::move(row.error()));
    if (!*row) return {};
  }
}

void Statement::reset() {
  if (stmt_ == nullptr) return;
  // The return value repeats the last step's error, already reported.
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t Statement::column_int64(int index) const { return sqlite3_column_int64(stmt_, index); }

std::string Statement::column_blob(int index) const {
  const void* data = sqlite3_column_blob(stmt_, index);
  const int size = sqlite3_column_bytes(stmt_, index);  // after _blob, as SQLite requires
  if (data == nullptr || size <= 0) return {};
  return std::string(static_cast<const char*>(data), static_cast<std::size_t>(size));
}

std::string Statement::column_text(int index) const {
  const unsigned char* text = sqlite3_column_text(stmt_, index);
  const int size = sqlite3_column_bytes(stmt_, index);
  if (text == nullptr || size <= 0) return {};
  return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
}

}  // namespace foggate::storage::sqlite
