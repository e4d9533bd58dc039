// Configuration sections over MQTT: the envelope a section travels in, and
// its signature (HMAC-SHA256 or ECDSA P-256 over SHA-256, via mbedTLS).
//
// On foggate/<target>/config/<section> (target = a gateway id or "all") the
// retained payload is either
//  - an envelope: {"foggate_config":1,"section":"rules","target":"gw1",
//    "version":7,"body":"<the section's JSON text>","alg":"hmac-sha256"|
//    "ecdsa-p256","sig":"<base64>"} (alg/sig absent when unsigned), or
//  - a bare section document (a JSON object, or an array for detectors):
//    unsigned, version 0.
// The body travels as a JSON string so the signed bytes are exact in any
// language. The signature covers signing_input(): section, target, version
// and body, so a section cannot be replayed under another name, for another
// gateway, or as an older version.
//
// Thread-safety: ConfigVerifier and ConfigSigner are immutable after
// creation and may be shared; free functions have no state.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "foggate/base/result.h"

namespace foggate::protocols {

enum class SignatureAlg { kNone, kHmacSha256, kEcdsaP256 };
std::string_view to_string(SignatureAlg a);  // "none", "hmac-sha256", "ecdsa-p256"

struct ConfigEnvelope {
  std::string section;
  std::string target;  // gateway id or "all"
  uint64_t version = 0;
  std::string body;    // the section document, JSON text
  SignatureAlg alg = SignatureAlg::kNone;
  std::string signature;  // raw bytes (base64-decoded)
  bool enveloped = false;  // false: the payload was a bare section document
};

// "foggate-config/1\n<section>\n<target>\n<version>\n<body>"
std::string signing_input(std::string_view section, std::string_view target, uint64_t version,
                          std::string_view body);

// Error reason "config_envelope" with a detail saying what is wrong (not
// JSON, missing or mistyped member, unknown alg, bad base64, version not an
// unsigned integer). A bare document must be a JSON object or array; its
// body is the payload as it came.
Result<ConfigEnvelope> parse_config_envelope(std::string_view payload);
// Serialises an envelope (enveloped form, always).
std::string make_config_envelope(const ConfigEnvelope& e);

// Verifies envelopes against one configured key.
class ConfigVerifier {
 public:
  // HMAC-SHA256 with a shared secret (raw bytes).
  static Result<std::shared_ptr<const ConfigVerifier>> hmac(std::string secret);
  // ECDSA P-256 with a public key in PEM (SubjectPublicKeyInfo).
  // Error "config_key" when the PEM is not a P-256 public key.
  static Result<std::shared_ptr<const ConfigVerifier>> ecdsa_public_pem(std::string_view pem);
  // Reads a key file: a PEM public key -> ECDSA; any other PEM (e.g. the
  // private key by mistake) is refused; anything else is an HMAC secret
  // (trailing white space trimmed). Error "config_key".
  static Result<std::shared_ptr<const ConfigVerifier>> from_file(const std::string& path);
  ~ConfigVerifier();

  SignatureAlg alg() const;
  // Error reasons: "unsigned" (no signature), "wrong_alg", "bad_signature".
  Result<void> verify(const ConfigEnvelope& e) const;

 private:
  struct Impl;
  explicit ConfigVerifier(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Signs envelopes (for `foggate config push`).
class ConfigSigner {
 public:
  // A PEM EC private key (P-256, SEC 1 or PKCS#8, unencrypted) -> ECDSA;
  // any other PEM (e.g. a public key) is refused; anything else is an HMAC
  // secret (trailing white space trimmed). Error "config_key".
  static Result<std::unique_ptr<ConfigSigner>> from_file(const std::string& path);
  static Result<std::unique_ptr<ConfigSigner>> hmac(std::string secret);
  ~ConfigSigner();

  SignatureAlg alg() const;
  // Fills e.alg and e.signature over signing_input(e...). Error "config_sign".
  Result<void> sign(ConfigEnvelope& e) const;

 private:
  struct Impl;
  explicit ConfigSigner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace foggate::protocols
