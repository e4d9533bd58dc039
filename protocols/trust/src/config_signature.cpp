// ConfigVerifier and ConfigSigner over mbedTLS 2.28. The byte formats
// (signing input, DER signatures, key files) are in docs/config-signing.md.
//
// Key material never reaches an error detail or a log line: details name
// the file and what is wrong with it, never its content.
#include <mbedtls/ecp.h>
#include <mbedtls/platform_util.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "foggate/protocols/config_envelope.h"
#include "foggate/protocols/mbedtls_handles.h"

namespace foggate::protocols {
namespace {

// Key files are a PEM key or a line of secret; anything larger is a wrong
// path, not a key.
constexpr std::size_t kMaxKeyFile = 64 * 1024;
constexpr std::size_t kSha256Size = 32;
constexpr std::string_view kPemBegin = "-----BEGIN ";
constexpr std::string_view kPublicKeyPem = "-----BEGIN PUBLIC KEY-----";
constexpr std::string_view kEcPrivateKeyPem = "-----BEGIN EC PRIVATE KEY-----";
constexpr std::string_view kPrivateKeyPem = "-----BEGIN PRIVATE KEY-----";
// The end of any private key's PEM header line: SEC 1, PKCS#8, encrypted
// PKCS#8, RSA, ...
constexpr std::string_view kPrivateKeyPemEnd = "PRIVATE KEY-----";

using Sha256 = std::array<unsigned char, kSha256Size>;

Unexpected<Error> fail(const char* reason, std::string detail) {
  return unexpected(Error::permanent(reason, std::move(detail)));
}

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// Best effort: copies a std::string made while growing are not reached.
void wipe(std::string& s) { mbedtls_platform_zeroize(s.data(), s.size()); }

class WipeOnExit {
 public:
  explicit WipeOnExit(std::string& s) : s_(s) {}
  ~WipeOnExit() { wipe(s_); }
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

 private:
  std::string& s_;
};

bool contains(std::string_view text, std::string_view what) {
  return text.find(what) != std::string_view::npos;
}

// No early exit, so the time taken does not tell a forger how many leading
// bytes of a guessed MAC were right. The length is not secret (32 for
// HMAC-SHA256). The accumulator is volatile so that the compiler cannot
// turn the loop back into a memcmp.
bool equal_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  volatile unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff = static_cast<unsigned char>(diff | (a[i] ^ b[i]));
  }
  return diff == 0;
}

struct FileCloser {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};

Result<std::string> read_key_file(const std::string& path) {
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) return fail("config_key", path + ": " + std::strerror(errno));
  std::string text(kMaxKeyFile + 1, '\0');
  const std::size_t n = std::fread(text.data(), 1, text.size(), f.get());
  if (std::ferror(f.get())) {
    wipe(text);
    return fail("config_key", path + ": read error");
  }
  if (n > kMaxKeyFile) {
    wipe(text);
    return fail("config_key", path + ": larger than " + std::to_string(kMaxKeyFile) +
                                  " bytes, not a key file");
  }
  text.resize(n);
  return text;
}

void trim_trailing_space(std::string& s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' ||
                        s.back() == '\r' || s.back() == '\v' || s.back() == '\f')) {
    s.pop_back();
  }
}

Result<Sha256> sha256(std::string_view data) {
  Sha256 out{};
  const int rc = mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), bytes(data),
                            data.size(), out.data());
  if (rc != 0) return fail("sha256", "mbedtls_md " + mbedtls_code(rc));
  return out;
}

Result<std::string> hmac_sha256(std::string_view secret, std::string_view data) {
  MdContext md;
  int rc = mbedtls_md_setup(md.get(), mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1);
  if (rc == 0) rc = mbedtls_md_hmac_starts(md.get(), bytes(secret), secret.size());
  if (rc == 0) rc = mbedtls_md_hmac_update(md.get(), bytes(data), data.size());
  std::string mac(kSha256Size, '\0');
  if (rc == 0) rc = mbedtls_md_hmac_finish(md.get(), reinterpret_cast<unsigned char*>(mac.data()));
  if (rc != 0) return fail("hmac", "mbedtls_md_hmac " + mbedtls_code(rc));
  return mac;
}

// Loads a PEM key into `pk` and insists on ECDSA over P-256: a key of
// another curve or type would otherwise verify envelopes nobody meant to
// accept (or sign ones no gateway accepts).
Result<void> load_p256_key(PkContext& pk, std::string_view pem, bool private_key) {
  // mbedTLS takes PEM only when the length counts a terminating NUL.
  std::string buf(pem);
  WipeOnExit wipe_buf(buf);
  const std::size_t len = buf.size() + 1;
  const int rc = private_key
                     ? mbedtls_pk_parse_key(pk.get(), bytes(buf), len, nullptr, 0)
                     : mbedtls_pk_parse_public_key(pk.get(), bytes(buf), len);
  if (rc == MBEDTLS_ERR_PK_PASSWORD_REQUIRED) {
    return fail("config_key", "encrypted private keys are not supported");
  }
  if (rc != 0) {
    return fail("config_key", std::string("not a PEM ") + (private_key ? "private" : "public") +
                                  " key (mbedtls " + mbedtls_code(rc) + ")");
  }
  if (!mbedtls_pk_can_do(pk.get(), MBEDTLS_PK_ECDSA)) {
    return fail("config_key", std::string("a ") + mbedtls_pk_get_name(pk.get()) +
                                  " key, not an EC key");
  }
  if (mbedtls_pk_ec(*pk.get())->grp.id != MBEDTLS_ECP_DP_SECP256R1) {
    return fail("config_key", "an EC key on another curve than P-256 (prime256v1)");
  }
  return {};
}

// What one use of a key file takes: the verifier a public key, the signer
// a private one; both take an HMAC secret.
struct KeyFileKind {
  bool (*holds_key)(std::string_view text);  // the PEM key this use takes
  std::string_view refused;                  // a PEM marker refused first; "" for none
  std::string_view refused_detail;
  std::string_view other_pem_detail;  // for any other PEM file
};

// The key-file reader both from_file functions share: reads `path`,
// then builds from the PEM key `kind` takes (from_pem) or, when the file
// holds no PEM at all, from an HMAC secret with trailing white space
// trimmed (from_secret). Every error is "config_key" with a detail that
// starts with the path and never quotes the file; the text is wiped before
// returning.
template <class FromPem, class FromSecret>
auto load_key_file(const std::string& path, const KeyFileKind& kind, FromPem from_pem,
                   FromSecret from_secret) -> std::invoke_result_t<FromPem, std::string_view> {
  auto text = read_key_file(path);
  if (!text) return unexpected(text.error());
  WipeOnExit wipe_text(*text);
  auto refuse = [&path](std::string_view detail) {
    return fail("config_key", path + ": " + std::string(detail));
  };
  if (!kind.refused.empty() && contains(*text, kind.refused)) return refuse(kind.refused_detail);
  const bool pem = kind.holds_key(*text);
  if (!pem && contains(*text, kPemBegin)) return refuse(kind.other_pem_detail);
  if (!pem) trim_trailing_space(*text);
  auto made = pem ? from_pem(*text) : from_secret(*text);
  if (!made) return refuse(made.error().detail);
  return made;
}

// A private key here is a mistake to stop, not an HMAC secret (nor to be
// skipped for a public key beside it): the gateway needs only the public
// half.
constexpr KeyFileKind kVerifierKeyFile{
    .holds_key = [](std::string_view text) { return contains(text, kPublicKeyPem); },
    .refused = kPrivateKeyPemEnd,
    .refused_detail = "holds a private key; give the gateway the public key",
    .other_pem_detail = "a PEM file that is not a public key",
};

constexpr KeyFileKind kSignerKeyFile{
    .holds_key =
        [](std::string_view text) {
          return contains(text, kEcPrivateKeyPem) || contains(text, kPrivateKeyPem);
        },
    .other_pem_detail = "a PEM file that is not an unencrypted private key",
};

}  // namespace

// --- ConfigVerifier ----------------------------------------------------------

struct ConfigVerifier::Impl {
  ~Impl() { wipe(secret); }

  SignatureAlg alg = SignatureAlg::kNone;
  std::string secret;  // HMAC only
  // ECDSA verification writes to the key: mbedTLS caches precomputed
  // points in the key's group on first use. Hence a lock on a verifier
  // that is otherwise immutable and shared between threads.
  std::mutex mu;
  PkContext pk;  // ECDSA only; guarded by mu
};

ConfigVerifier::ConfigVerifier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ConfigVerifier::~ConfigVerifier() = default;

Result<std::shared_ptr<const ConfigVerifier>> ConfigVerifier::hmac(std::string secret) {
  auto impl = std::make_unique<Impl>();
  impl->secret = std::move(secret);
  if (impl->secret.empty()) return fail("config_key", "empty HMAC secret");
  impl->alg = SignatureAlg::kHmacSha256;
  return std::shared_ptr<const ConfigVerifier>(new ConfigVerifier(std::move(impl)));
}

Result<std::shared_ptr<const ConfigVerifier>> ConfigVerifier::ecdsa_public_pem(
    std::string_view pem) {
  auto impl = std::make_unique<Impl>();
  auto loaded = load_p256_key(impl->pk, pem, false);
  if (!loaded) return unexpected(loaded.error());
  impl->alg = SignatureAlg::kEcdsaP256;
  return std::shared_ptr<const ConfigVerifier>(new ConfigVerifier(std::move(impl)));
}

Result<std::shared_ptr<const ConfigVerifier>> ConfigVerifier::from_file(const std::string& path) {
  return load_key_file(path, kVerifierKeyFile, &ConfigVerifier::ecdsa_public_pem,
                       &ConfigVerifier::hmac);
}

SignatureAlg ConfigVerifier::alg() const { return impl_->alg; }

Result<void> ConfigVerifier::verify(const ConfigEnvelope& e) const {
  if (e.alg == SignatureAlg::kNone) {
    return fail("unsigned", e.enveloped ? "envelope without a signature" : "bare document");
  }
  if (e.alg != impl_->alg) {
    return fail("wrong_alg", "signed with " + std::string(to_string(e.alg)) + ", key is " +
                                 std::string(to_string(impl_->alg)));
  }
  const std::string input = signing_input(e.section, e.target, e.version, e.body);
  if (impl_->alg == SignatureAlg::kHmacSha256) {
    auto mac = hmac_sha256(impl_->secret, input);
    if (!mac) return fail("bad_signature", mac.error().detail);
    if (!equal_constant_time(*mac, e.signature)) return fail("bad_signature", "HMAC mismatch");
    return {};
  }
  auto hash = sha256(input);
  if (!hash) return fail("bad_signature", hash.error().detail);
  std::lock_guard<std::mutex> lock(impl_->mu);
  const int rc = mbedtls_pk_verify(impl_->pk.get(), MBEDTLS_MD_SHA256, hash->data(), hash->size(),
                                   bytes(e.signature), e.signature.size());
  if (rc != 0) return fail("bad_signature", "ECDSA verification failed (" + mbedtls_code(rc) + ")");
  return {};
}

// --- ConfigSigner --------------------------------------------------------------

struct ConfigSigner::Impl {
  ~Impl() { wipe(secret); }

  SignatureAlg alg = SignatureAlg::kNone;
  std::string secret;  // HMAC only
  std::mutex mu;       // as in ConfigVerifier::Impl
  PkContext pk;        // ECDSA only; guarded by mu
};

ConfigSigner::ConfigSigner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ConfigSigner::~ConfigSigner() = default;

Result<std::unique_ptr<ConfigSigner>> ConfigSigner::hmac(std::string secret) {
  auto impl = std::make_unique<Impl>();
  impl->secret = std::move(secret);
  if (impl->secret.empty()) return fail("config_key", "empty HMAC secret");
  impl->alg = SignatureAlg::kHmacSha256;
  return std::unique_ptr<ConfigSigner>(new ConfigSigner(std::move(impl)));
}

Result<std::unique_ptr<ConfigSigner>> ConfigSigner::from_file(const std::string& path) {
  auto from_private_pem = [](std::string_view pem) -> Result<std::unique_ptr<ConfigSigner>> {
    auto impl = std::make_unique<Impl>();
    auto loaded = load_p256_key(impl->pk, pem, true);
    if (!loaded) return unexpected(loaded.error());
    impl->alg = SignatureAlg::kEcdsaP256;
    return std::unique_ptr<ConfigSigner>(new ConfigSigner(std::move(impl)));
  };
  return load_key_file(path, kSignerKeyFile, from_private_pem, &ConfigSigner::hmac);
}

SignatureAlg ConfigSigner::alg() const { return impl_->alg; }

Result<void> ConfigSigner::sign(ConfigEnvelope& e) const {
  for (const std::string* name : {&e.section, &e.target}) {
    for (const char c : *name) {
      // The same rule parse_config_envelope applies: names are lines of the
      // signing input.
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        return fail("config_sign", "section or target holds a control character");
      }
    }
  }
  const std::string input = signing_input(e.section, e.target, e.version, e.body);
  if (impl_->alg == SignatureAlg::kHmacSha256) {
    auto mac = hmac_sha256(impl_->secret, input);
    if (!mac) return fail("config_sign", mac.error().detail);
    e.alg = SignatureAlg::kHmacSha256;
    e.signature = std::move(*mac);
    return {};
  }
  auto hash = sha256(input);
  if (!hash) return fail("config_sign", hash.error().detail);
  // Signing is rare (one per push), so each call seeds its own generator
  // rather than sharing one behind the lock.
  Drbg drbg;
  int rc = drbg.seed("foggate config signer");
  if (rc != 0) return fail("config_sign", "mbedtls_ctr_drbg_seed " + mbedtls_code(rc));
  std::array<unsigned char, MBEDTLS_PK_SIGNATURE_MAX_SIZE> sig{};
  std::size_t sig_len = 0;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    rc = mbedtls_pk_sign(impl_->pk.get(), MBEDTLS_MD_SHA256, hash->data(), hash->size(), sig.data(),
                         &sig_len, Drbg::random, drbg.context());
  }
  if (rc != 0) return fail("config_sign", "mbedtls_pk_sign " + mbedtls_code(rc));
  e.alg = SignatureAlg::kEcdsaP256;
  e.signature.assign(reinterpret_cast<const char*>(sig.data()), sig_len);
  return {};
}

}  // namespace foggate::protocols
