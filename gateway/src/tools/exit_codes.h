// The exit codes of every foggate command (sysexits.h), so that systemd and
// scripts can tell a broken configuration from a failure worth retrying:
// the unit stops restarting on kExitConfig (RestartPreventExitStatus=78).
#pragma once

namespace foggate::gateway {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // runtime failure; status: not online
inline constexpr int kExitUsage = 64;   // EX_USAGE: wrong arguments
inline constexpr int kExitConfig = 78;  // EX_CONFIG: the configuration is invalid

}  // namespace foggate::gateway
