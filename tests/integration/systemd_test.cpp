// systemd's notify protocol, with the test as systemd: a unix datagram
// socket passed as NOTIFY_SOCKET (and WATCHDOG_USEC) to the real binary.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "fixture.h"

namespace foggate::itest {
namespace {

// What systemd would receive: every datagram sent to NOTIFY_SOCKET.
class NotifySocket {
 public:
  explicit NotifySocket(const TempDir& dir) : path_(dir.file("notify.sock")) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("cannot bind " + path_);
  }
  ~NotifySocket() { close(fd_); }
  const std::string& path() const { return path_; }

  // Reads datagrams until one holds `line` (e.g. "READY=1") as one of its
  // lines; false when none did within the timeout.
  bool wait_for(const std::string& line, std::chrono::milliseconds timeout = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      for (; checked_ < got_.size(); ++checked_)
        if (has_line(got_[checked_], line)) return ++checked_, true;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[4096];
      const ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n > 0) got_.emplace_back(buf, static_cast<std::size_t>(n));
    }
  }
  // Every datagram so far, for failure messages and ordering checks.
  std::string all() const {
    std::string out;
    for (const auto& m : got_) out += "[" + m + "]\n";
    return out;
  }
  bool seen(const std::string& line) const {
    return std::any_of(got_.begin(), got_.end(), [&](const std::string& m) { return has_line(m, line); });
  }

 private:
  static bool has_line(const std::string& msg, const std::string& line) {
    std::size_t pos = 0;
    while (pos <= msg.size()) {
      const std::size_t end = std::min(msg.find('\n', pos), msg.size());
      if (msg.compare(pos, end - pos, line) == 0) return true;
      pos = end + 1;
    }
    return false;
  }

  std::string path_;
  int fd_ = -1;
  std::vector<std::string> got_;
  std::size_t checked_ = 0;  // wait_for() continues after the last match
};

bool retained_online(const Mosquitto& broker, const std::string& id) {
  Probe p(broker.uri());
  p.subscribe("foggate/" + id + "/status");
  return p.wait_for(
      [](const std::vector<Received>& all) {
        return !all.empty() && all.back().retained && all.back().payload.find("\"state\":\"online\"") != std::string::npos;
      },
      5s);
}

TEST(SystemdTest, ReadyOnlyOnceOnlineThenWatchdogReloadAndStopping) {
  TempDir dir;
  NotifySocket notify(dir);
  Mosquitto broker(dir, {.start = false});
  Foggate gw(dir, broker, "");
  gw.set_env({"NOTIFY_SOCKET=" + notify.path(), "WATCHDOG_USEC=400000"});
  gw.start(/*wait_online=*/false);

  // No broker: the state says so, and READY=1 is not sent.
  ASSERT_TRUE(notify.wait_for("STATUS=site broker unreachable, retrying")) << notify.all() << gw.log();
  // Alive while waiting: the watchdog is fed (every 200 ms here).
  ASSERT_TRUE(notify.wait_for("WATCHDOG=1", 5s)) << notify.all();
  EXPECT_FALSE(notify.seen("READY=1")) << notify.all();

  broker.start();
  ASSERT_TRUE(notify.wait_for("READY=1", 40s)) << notify.all() << gw.log();
  EXPECT_TRUE(notify.seen("STATUS=online")) << notify.all();
  // READY=1 follows the retained "online": a new subscriber sees it at once.
  EXPECT_TRUE(retained_online(broker, gw.id()));
  EXPECT_TRUE(notify.wait_for("WATCHDOG=1", 5s)) << notify.all();

  // SIGHUP: RELOADING=1, then READY=1 once the credentials are reread.
  gw.hangup();
  ASSERT_TRUE(notify.wait_for("RELOADING=1", 10s)) << notify.all();
  EXPECT_TRUE(notify.wait_for("READY=1", 10s)) << notify.all();

  EXPECT_EQ(gw.stop(), 0);
  EXPECT_TRUE(notify.wait_for("STOPPING=1", 5s)) << notify.all();
}

// Without WATCHDOG_USEC the watchdog is off: READY=1 and no pings.
TEST(SystemdTest, NoWatchdogPingsWithoutWatchdogUsec) {
  TempDir dir;
  NotifySocket notify(dir);
  Mosquitto broker(dir);
  Foggate gw(dir, broker, "");
  gw.set_env({"NOTIFY_SOCKET=" + notify.path()});
  gw.start();
  ASSERT_TRUE(notify.wait_for("READY=1", 10s)) << notify.all();
  EXPECT_EQ(gw.stop(), 0);
  ASSERT_TRUE(notify.wait_for("STOPPING=1", 5s)) << notify.all();
  EXPECT_FALSE(notify.seen("WATCHDOG=1")) << notify.all();
}

}  // namespace
}  // namespace foggate::itest
