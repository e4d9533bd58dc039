// Helpers the storage tests share for handling database files on disk:
// temp dirs, raw reads and writes, tampering through sqlite3 directly, and
// finding what a store moved aside as corrupt.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace foggate::storage::testing {

// A fresh directory under /tmp, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/foggate-storage-XXXXXX";
    const char* made = mkdtemp(tmpl);
    if (made == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// Runs constant SQL on a closed database file: the tests' way to tamper with it.
inline void tamper(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

// Every file "<name>.corrupt-*" in dir (siblings -wal/-shm included), sorted.
inline std::vector<std::string> moved_aside(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.find(".corrupt-") != std::string::npos) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Only the database files moved aside, not their -wal/-shm/-journal siblings.
inline std::vector<std::string> databases_aside(const std::string& dir) {
  std::vector<std::string> out;
  for (auto& name : moved_aside(dir))
    if (!name.ends_with("-wal") && !name.ends_with("-shm") && !name.ends_with("-journal")) out.push_back(name);
  return out;
}

// The crash of leveldb's fault-injection tests: `work` runs in a child
// process that then dies by SIGKILL, so whatever it wrote and did not
// commit is left as a power cut would leave it. `work` returns 0 to go on
// to the kill, or an exit code that says which step failed.
inline ::testing::AssertionResult killed_after(const std::function<int()>& work) {
  const pid_t pid = fork();
  if (pid < 0) return ::testing::AssertionFailure() << "fork failed";
  if (pid == 0) {
    if (const int failed = work(); failed != 0) _exit(failed);
    raise(SIGKILL);
    _exit(99);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return ::testing::AssertionFailure() << "waitpid failed";
  if (!WIFSIGNALED(status)) return ::testing::AssertionFailure() << "child exited " << WEXITSTATUS(status);
  if (WTERMSIG(status) != SIGKILL) return ::testing::AssertionFailure() << "child died by signal " << WTERMSIG(status);
  return ::testing::AssertionSuccess();
}

}  // namespace foggate::storage::testing
