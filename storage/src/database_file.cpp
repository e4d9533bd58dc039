#include "database_file.h"

#include <filesystem>
#include <string_view>
#include <system_error>
#include <utility>

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

}  // namespace

Result<bool, OpenFailure> DatabaseFile::open(sqlite::Database& db) const {
  auto opened = sqlite::Database::open(path);
  if (!opened) return unexpected(OpenFailure::from(opened.error()));
  db = std::move(*opened);

  // The first statement reads the header: a file that is not SQLite fails here.
  auto mode = db.query_text("PRAGMA journal_mode=WAL");
  if (!mode) return unexpected(OpenFailure::from(mode.error()));
  if (*mode != "wal") {
    log::warn_once(kModule, kind + "_no_wal", label + " not in WAL mode; commits still durable, slower",
                   {{"journal_mode", *mode}});
  }
  for (const char* pragma : {kPragmaSync, kPragmaWalLimit}) {
    if (auto r = db.exec(pragma); !r) return unexpected(OpenFailure::from(r.error()));
  }

  auto objects = db.query_int("SELECT count(*) FROM sqlite_master");
  if (!objects) return unexpected(OpenFailure::from(objects.error()));
  return *objects == 0;
}

Result<void> DatabaseFile::open_or_move_aside(sqlite::Database& db,
                                              const std::function<Result<void, OpenFailure>()>& connect,
                                              const std::function<void()>& disconnect) const {
  auto r = connect();
  if (!r && r.error().invalid) {
    db.keep_wal_on_close();
    disconnect();
    const std::string aside = path + ".corrupt-" + std::to_string(clock.wall_ms());
    // The siblings go along under matching names: a stale WAL left next to
    // the fresh file would be replayed into it.
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::error_code ec;
      if (!std::filesystem::exists(path + suffix, ec)) continue;
      std::filesystem::rename(path + suffix, aside + suffix, ec);
      if (ec) {
        return unexpected(Error::permanent(kind + "_open", "cannot move " + path + suffix + " aside: " + ec.message()));
      }
    }
    if (log::first_time(kModule, kind + "_corrupt")) {
      log::error(kModule, label + " file is not a valid " + label + "; moved aside, starting empty",
                 {{"path", path}, {"moved_to", aside}, {"detail", r.error().message}});
    }
    r = connect();
  }
  if (!r) return unexpected(Error::permanent(kind + "_open", r.error().message));
  return {};
}

}  // namespace foggate::storage
