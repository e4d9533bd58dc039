#include "ops/systemd_notifier.h"

#include <systemd/sd-daemon.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "foggate/base/log.h"

namespace foggate::gateway {

SystemdNotifier::SystemdNotifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  active_ = socket != nullptr && socket[0] != '\0';
  uint64_t usec = 0;
  // > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID (if set) is us.
  if (active_ && sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
    watchdog_interval_ms_ = std::max<int64_t>(static_cast<int64_t>(usec / 2000), 1);
}

void SystemdNotifier::send(std::string_view state, std::string_view status) {
  if (!active_) return;
  std::string msg(state);
  if (!status.empty()) {
    std::lock_guard lock(mu_);
    last_status_ = status;
    if (!msg.empty()) msg += '\n';
    msg += "STATUS=";
    // One line: the protocol is newline-separated assignments.
    for (char c : status) msg += (c == '\n' || c == '\r') ? ' ' : c;
  }
  // sd_notify returns 0 when NOTIFY_SOCKET is unset and < 0 when sending
  // failed (socket gone, message refused): systemd then acts on timeouts.
  if (const int r = sd_notify(0, msg.c_str()); r < 0)
    log::warn("systemd", "sd_notify failed", {{"error", std::strerror(-r)}, {"state", state}});
}

void SystemdNotifier::ready(std::string_view status) { send("READY=1", status); }

void SystemdNotifier::reloading(std::string_view status) { send("RELOADING=1", status); }

void SystemdNotifier::stopping(std::string_view status) { send("STOPPING=1", status); }

void SystemdNotifier::status(std::string_view status) {
  if (!active_) return;
  {
    std::lock_guard lock(mu_);
    if (status == last_status_) return;
  }
  send("", status);
}

void SystemdNotifier::watchdog() { send("WATCHDOG=1", ""); }

}  // namespace foggate::gateway
