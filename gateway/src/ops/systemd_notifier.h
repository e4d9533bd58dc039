// SystemdNotifier: foggate's side of systemd's notify protocol
// (sd_notify(3)) for a Type=notify unit with WatchdogSec=: READY=1,
// STATUS=<short human state>, WATCHDOG=1, RELOADING=1, STOPPING=1.
//
// The one place libsystemd is used. Without NOTIFY_SOCKET (not started by
// systemd, or a test running the Gateway in-process) every call does
// nothing. WATCHDOG_USEC and WATCHDOG_PID are read once, at construction.
//
// Owned by the Gateway. Thread-safety: any thread; each call sends one
// datagram and keeps no state besides the last STATUS sent (guarded by mu_).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace foggate::gateway {

class SystemdNotifier {
 public:
  SystemdNotifier();

  // NOTIFY_SOCKET is set.
  bool active() const { return active_; }
  // How often to send WATCHDOG=1: half of WatchdogSec (sd_watchdog_enabled),
  // 0 when the watchdog is off.
  int64_t watchdog_interval_ms() const { return watchdog_interval_ms_; }

  // READY=1 with STATUS=status: started, or a reload finished.
  void ready(std::string_view status);
  // RELOADING=1 with STATUS=status; ready() ends the reload.
  void reloading(std::string_view status);
  // STOPPING=1 with STATUS=status.
  void stopping(std::string_view status);
  // STATUS=status, sent only when it differs from the last one sent.
  void status(std::string_view status);
  // WATCHDOG=1: the process is alive and making progress.
  void watchdog();

 private:
  void send(std::string_view state, std::string_view status);

  bool active_ = false;
  int64_t watchdog_interval_ms_ = 0;
  std::mutex mu_;
  std::string last_status_;  // guarded by mu_
};

}  // namespace foggate::gateway
