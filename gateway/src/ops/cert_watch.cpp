#include "ops/cert_watch.h"

#include <utility>

#include "foggate/protocols/certificate.h"

namespace foggate::gateway {
namespace {

constexpr int64_t kDayMs = 24 * 60 * 60 * 1000;

// C++ division truncates toward zero; an expired certificate must count
// down -1, -2, ... from its first expired millisecond, not sit at 0 for a day.
int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

}  // namespace

CertWatch::CertWatch(std::vector<WatchedCertificate> certs, int warn_days, const Clock& clock)
    : certs_(std::move(certs)),
      warn_ms_(int64_t{warn_days} * kDayMs),
      clock_(clock),
      next_check_mono_ms_(clock.mono_ms()) {}

bool CertWatch::due() const { return clock_.mono_ms() >= next_check_mono_ms_; }

CertCheck CertWatch::check() {
  // Scheduled from the start of the check: a slow disk must not make the
  // daily check creep later day by day.
  next_check_mono_ms_ = clock_.mono_ms() + kCheckIntervalMs;
  const int64_t now = clock_.wall_ms();
  CertCheck out;
  for (const auto& w : certs_) {
    auto certs = protocols::read_certificates(w.path);
    if (!certs) {
      out.problems.push_back(w.role + ": " + certs.error().reason + ": " + certs.error().detail);
      continue;
    }
    for (auto& c : *certs) {
      // not_after is the last valid instant, so the certificate is expired
      // only after it; left == 0 still works.
      const int64_t left = c.not_after_ms - now;
      if (left > warn_ms_) continue;
      out.warnings.push_back({w.role, w.path, std::move(c.subject), c.not_after_ms,
                              floor_div(left, kDayMs), left < 0});
    }
  }
  return out;
}

void CertWatch::set_certificates(std::vector<WatchedCertificate> certs) {
  certs_ = std::move(certs);
  next_check_mono_ms_ = clock_.mono_ms();
}

}  // namespace foggate::gateway
