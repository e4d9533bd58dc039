// read_certificates over mbedTLS 2.28's X.509 parser.
//
// The file is read here rather than by mbedtls_x509_crt_parse_file so that
// "cannot read" and "not a certificate" stay two reasons with a precise
// detail each (mbedTLS folds every I/O failure into one code and loses errno).
#include "foggate/protocols/certificate.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>

#include "foggate/protocols/mbedtls_handles.h"

namespace foggate::protocols {
namespace {

// The Debian CA bundle is about 200 KiB; anything far larger is a wrong path
// (a log, an image), not certificates.
constexpr std::size_t kMaxCertFile = 16 * 1024 * 1024;

Unexpected<Error> fail(const char* reason, std::string detail) {
  return unexpected(Error::permanent(reason, std::move(detail)));
}

struct FileCloser {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};

Result<std::string> read_file(const std::string& path) {
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) return fail("cert_read", path + ": " + std::strerror(errno));
  std::string data;
  char buf[64 * 1024];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) {
    data.append(buf, n);
    if (data.size() > kMaxCertFile) {
      return fail("cert_read", path + ": larger than " + std::to_string(kMaxCertFile) +
                                   " bytes, not a certificate file");
    }
  }
  // A directory opens fine on Linux and fails only here (EISDIR).
  if (std::ferror(f.get())) return fail("cert_read", path + ": " + std::strerror(errno));
  return data;
}

// mbedTLS has already checked the fields (month 1-12, day within the month,
// ...). sys_days{year_month_day} is the proleptic-Gregorian days-from-civil
// count: pure arithmetic, so neither TZ nor the C library's timegm/mktime
// can shift the result.
int64_t to_unix_ms(const mbedtls_x509_time& t) {
  using namespace std::chrono;
  const year_month_day ymd{year{t.year}, month{static_cast<unsigned>(t.mon)},
                           day{static_cast<unsigned>(t.day)}};
  const sys_seconds at = sys_days{ymd} + hours{t.hour} + minutes{t.min} + seconds{t.sec};
  return duration_cast<milliseconds>(at.time_since_epoch()).count();
}

std::string subject_of(const mbedtls_x509_crt& crt) {
  // A DN is rarely over a few hundred bytes; grow for the odd long one.
  for (std::size_t size = 256; size <= 16 * 1024; size *= 4) {
    std::string out(size, '\0');
    const int n = mbedtls_x509_dn_gets(out.data(), out.size(), &crt.subject);
    if (n >= 0) {
      out.resize(static_cast<std::size_t>(n));
      return out;
    }
    if (n != MBEDTLS_ERR_X509_BUFFER_TOO_SMALL) break;
  }
  return {};  // the dates are what matters; an unprintable DN does not hide them
}

}  // namespace

Result<std::vector<CertificateInfo>> read_certificates(const std::string& path) {
  auto data = read_file(path);
  if (!data) return unexpected(std::move(data.error()));

  // mbedTLS takes a buffer as PEM only when it ends in the NUL that a string
  // has, and as DER otherwise; mbedtls_pk_load_file decides the same way.
  std::size_t len = data->size();
  if (std::string_view(*data).find("-----BEGIN ") != std::string_view::npos) ++len;

  X509Crt chain;
  const auto* bytes = reinterpret_cast<const unsigned char*>(data->c_str());
  const int rc = mbedtls_x509_crt_parse(chain.get(), bytes, len);
  if (rc < 0) return fail("cert_parse", path + ": " + mbedtls_text(rc));
  // A positive count: some certificates of a bundle parsed, these did not. A
  // half-read bundle would hide the expiry of the broken ones, so refuse it.
  if (rc > 0) {
    return fail("cert_parse",
                path + ": " + std::to_string(rc) + " certificate(s) in the bundle do not parse");
  }

  std::vector<CertificateInfo> out;
  for (const mbedtls_x509_crt* c = chain.get(); c != nullptr && c->raw.len != 0; c = c->next) {
    out.push_back({subject_of(*c), to_unix_ms(c->valid_to), to_unix_ms(c->valid_from)});
  }
  return out;
}

}  // namespace foggate::protocols
