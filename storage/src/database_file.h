// DatabaseFile: opening one of the storage module's SQLite files (the
// spool, the config store), written once. It sets the connection up the
// way every store in the data dir runs (WAL, synchronous=FULL) and decides
// what happens to a file that is not a valid store: it is moved aside,
// together with its -wal/-shm/-journal siblings, and a fresh store is
// created, so the gateway keeps working. Private to the storage module.
//
// The store keeps its own connection and statements; DatabaseFile only
// names the file and drives the open. Threads: used by the store's owner
// while it opens the store.
#pragma once

#include <functional>
#include <string>

#include "foggate/base/clock.h"
#include "foggate/base/result.h"
#include "sqlite.h"

namespace foggate::storage {

// Why connecting to a store failed. `invalid`: the file is not a usable
// store of this kind and is to be moved aside. Otherwise an environment
// problem (missing directory, permissions, I/O, locked) that moving the
// file would not fix.
struct OpenFailure {
  bool invalid = false;
  std::string message;

  // Invalid when SQLite says the file is corrupt or not a database.
  static OpenFailure from(const sqlite::Failure& f) { return {f.corrupt(), f.message}; }
  // For preparing the store's statements: also invalid when a table or
  // column is missing (SQLITE_ERROR), i.e. someone else's schema.
  static OpenFailure from_schema(const sqlite::Failure& f) {
    return {f.corrupt() || f.schema_error(), f.message};
  }
};

struct DatabaseFile {
  std::string path;   // the SQLite file; its directory must exist
  std::string kind;   // "spool": log keys "<kind>_no_wal", "<kind>_corrupt"; error "<kind>_open"
  std::string label;  // "spool", "config store": the words in log lines
  const Clock& clock;  // its wall time names a moved-aside file

  // Opens the file into `db` (closed on entry), creating it if missing, and
  // sets the shared pragmas. SQLite first reads the header here, so a file
  // that is not SQLite fails as invalid. Returns true when the file holds
  // no schema yet (new or empty): the caller creates its tables.
  Result<bool, OpenFailure> open(sqlite::Database& db) const;

  // Runs `connect` (which calls open() and checks the schema and content).
  // If it fails with `invalid`: closes the connection through `disconnect`
  // keeping the WAL, renames the file and its siblings to
  // "<path>.corrupt-<wall_ms>[-wal|-shm|-journal]", logs one error and runs
  // `connect` once more on the fresh file. Error (permanent) "<kind>_open"
  // when the file cannot be moved or the second attempt fails too.
  Result<void> open_or_move_aside(sqlite::Database& db, const std::function<Result<void, OpenFailure>()>& connect,
                                  const std::function<void()>& disconnect) const;
};

}  // namespace foggate::storage
