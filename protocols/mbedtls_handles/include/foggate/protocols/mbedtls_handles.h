// RAII owners of the mbedTLS 2.28 contexts foggate uses: for configuration
// signatures a key (PkContext), a digest/HMAC (MdContext) and a seeded
// random generator (Drbg); for the certificate expiry watch a certificate
// chain (X509Crt). Each context is initialised in the constructor and freed
// in the destructor, so no error path can leak one.
//
// A header-only module of its own (protocols/mbedtls_handles) so that the
// two modules over mbedTLS, trust (signatures, certificates) and mqtt (the
// TLS probe), share one set of wrappers. Both link it PRIVATE: mbedTLS
// types never appear in their public headers, nor above protocols.
//
// Threads: a context is not safe for concurrent use, even for "read-only"
// operations (ECDSA caches precomputed points in the key's group). Guard a
// shared one with a mutex or make one per call.
#pragma once

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace foggate::protocols {

class PkContext {
 public:
  PkContext() { mbedtls_pk_init(&ctx_); }
  ~PkContext() { mbedtls_pk_free(&ctx_); }
  PkContext(const PkContext&) = delete;
  PkContext& operator=(const PkContext&) = delete;

  mbedtls_pk_context* get() { return &ctx_; }

 private:
  mbedtls_pk_context ctx_;
};

class MdContext {
 public:
  MdContext() { mbedtls_md_init(&ctx_); }
  ~MdContext() { mbedtls_md_free(&ctx_); }
  MdContext(const MdContext&) = delete;
  MdContext& operator=(const MdContext&) = delete;

  mbedtls_md_context_t* get() { return &ctx_; }

 private:
  mbedtls_md_context_t ctx_;
};

// A CTR_DRBG seeded from the platform entropy source. The entropy context
// must outlive the generator that pulls from it, hence one owner for both.
class Drbg {
 public:
  Drbg() {
    mbedtls_entropy_init(&entropy_);
    mbedtls_ctr_drbg_init(&drbg_);
  }
  ~Drbg() {
    mbedtls_ctr_drbg_free(&drbg_);
    mbedtls_entropy_free(&entropy_);
  }
  Drbg(const Drbg&) = delete;
  Drbg& operator=(const Drbg&) = delete;

  // 0 or an mbedTLS error code. `personalization` separates this use from
  // other generators in the process; it is not secret.
  int seed(std::string_view personalization) {
    return mbedtls_ctr_drbg_seed(&drbg_, mbedtls_entropy_func, &entropy_,
                                 reinterpret_cast<const unsigned char*>(personalization.data()),
                                 personalization.size());
  }
  // For mbedTLS calls that take (f_rng, p_rng): random, context().
  static int random(void* ctx, unsigned char* out, std::size_t len) {
    return mbedtls_ctr_drbg_random(ctx, out, len);
  }
  void* context() { return &drbg_; }

 private:
  mbedtls_entropy_context entropy_;
  mbedtls_ctr_drbg_context drbg_;
};

// A list of parsed certificates: each mbedtls_x509_crt_parse* call appends
// to it, and the free walks and releases every link.
class X509Crt {
 public:
  X509Crt() { mbedtls_x509_crt_init(&crt_); }
  ~X509Crt() { mbedtls_x509_crt_free(&crt_); }
  X509Crt(const X509Crt&) = delete;
  X509Crt& operator=(const X509Crt&) = delete;

  mbedtls_x509_crt* get() { return &crt_; }

 private:
  mbedtls_x509_crt crt_;
};

// "-0x4380": mbedTLS error codes are negative and documented in hex.
inline std::string mbedtls_code(int rc) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "-0x%04x", static_cast<unsigned>(-rc));
  return buf;
}

// mbedTLS's own words for an error code, then the code:
// "X509 - Read/write of file failed (-0x2900)".
inline std::string mbedtls_text(int rc) {
  char buf[160];
  mbedtls_strerror(rc, buf, sizeof buf);
  return std::string(buf) + " (" + mbedtls_code(rc) + ")";
}

// A certificate verification result (mbedtls_ssl_get_verify_result) as
// one line: "The certificate validity has expired; ...".
inline std::string verify_failure_text(uint32_t flags) {
  char info[512];
  const int n = mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
  std::string why = n > 0 ? std::string(info, static_cast<std::size_t>(n)) : "verification failed";
  for (auto& c : why)
    if (c == '\n') c = ';';
  while (!why.empty() && (why.back() == ';' || why.back() == ' ')) why.pop_back();
  return why;
}

}  // namespace foggate::protocols
