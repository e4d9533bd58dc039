// CertWatch: decides when to re-read the configured certificates (at start,
// then daily) and which of them expire within the warning window. Pure
// logic: the caller owns the thread, the timer and the alert publishing.
//
// Ownership and threads: one owner thread calls every method; no locking.
// The Clock passed in must outlive the CertWatch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "foggate/base/clock.h"

namespace foggate::gateway {

struct WatchedCertificate {
  std::string role;  // the option the file came from: "uplink.tls.cert_file"
  std::string path;
};

// One certificate (a bundle yields one per certificate in it) that expires
// within the warning window or has expired.
struct CertExpiryWarning {
  std::string role, path, subject;
  int64_t not_after_ms = 0;  // Unix ms, UTC
  int64_t days_left = 0;     // whole days until not_after, rounded down; negative once expired
  bool expired = false;      // the clock's wall time is past not_after
};

struct CertCheck {
  std::vector<CertExpiryWarning> warnings;
  // One line per file that could not be read or parsed, for the log:
  // "<role>: <reason>: <path>: <why>".
  std::vector<std::string> problems;
};

class CertWatch {
 public:
  static constexpr int64_t kCheckIntervalMs = 24 * 60 * 60 * 1000;

  // `warn_days`: warn once a certificate has this many days or fewer left.
  // A check is due at once.
  CertWatch(std::vector<WatchedCertificate> certs, int warn_days, const Clock& clock);

  // True once kCheckIntervalMs of clock.mono_ms() have passed since the
  // last check (or a check was never made, or the list was replaced).
  bool due() const;
  // Reads every file now, compares with clock.wall_ms(), and schedules the
  // next check kCheckIntervalMs later. Blocks on file I/O.
  CertCheck check();
  // After a configuration reload: watch these instead; a check is due now.
  void set_certificates(std::vector<WatchedCertificate> certs);

 private:
  std::vector<WatchedCertificate> certs_;
  int64_t warn_ms_;
  const Clock& clock_;
  int64_t next_check_mono_ms_;
};

}  // namespace foggate::gateway
