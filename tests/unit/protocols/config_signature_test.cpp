#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "foggate/protocols/config_envelope.h"

namespace foggate::protocols {
namespace {

namespace fs = std::filesystem;

std::string key_path(const std::string& name) {
  return (fs::path(FOGGATE_TEST_DATA_DIR) / "keys" / name).string();
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A directory of its own per test, removed at the end.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() / ("foggate_sig_" + std::to_string(::getpid()) + "_" +
                                         info->test_suite_name() + "_" + info->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

ConfigEnvelope sample() {
  ConfigEnvelope e;
  e.section = "rules";
  e.target = "gw1";
  e.version = 7;
  e.body = "{\"rules\":[{\"match\":\"sensors/#\",\"priority\":\"high\"}]}\n";
  e.enveloped = true;
  return e;
}

std::unique_ptr<ConfigSigner> signer_from(const std::string& key_file) {
  auto s = ConfigSigner::from_file(key_path(key_file));
  EXPECT_TRUE(s) << key_file << ": " << s.error().detail;
  return s ? std::move(*s) : nullptr;
}

std::shared_ptr<const ConfigVerifier> verifier_from(const std::string& key_file) {
  auto v = ConfigVerifier::from_file(key_path(key_file));
  EXPECT_TRUE(v) << key_file << ": " << v.error().detail;
  return v ? *v : nullptr;
}

ConfigEnvelope signed_with(const ConfigSigner& signer, ConfigEnvelope e = sample()) {
  auto r = signer.sign(e);
  EXPECT_TRUE(r) << r.error().detail;
  return e;
}

std::string verify_reason(const ConfigVerifier& v, const ConfigEnvelope& e) {
  auto r = v.verify(e);
  return r ? "ok" : r.error().reason;
}

// --- HMAC ----------------------------------------------------------------------

TEST(ConfigSignerTest, HmacSignVerify) {
  auto signer = ConfigSigner::hmac("s3cret-for-tests");
  ASSERT_TRUE(signer);
  EXPECT_EQ((*signer)->alg(), SignatureAlg::kHmacSha256);
  const ConfigEnvelope e = signed_with(**signer);
  EXPECT_EQ(e.alg, SignatureAlg::kHmacSha256);
  EXPECT_EQ(e.signature.size(), 32u);

  auto verifier = ConfigVerifier::hmac("s3cret-for-tests");
  ASSERT_TRUE(verifier);
  EXPECT_EQ((*verifier)->alg(), SignatureAlg::kHmacSha256);
  EXPECT_EQ(verify_reason(**verifier, e), "ok");

  // ... and still after a trip through the wire format.
  auto back = parse_config_envelope(make_config_envelope(e));
  ASSERT_TRUE(back) << back.error().detail;
  EXPECT_EQ(verify_reason(**verifier, *back), "ok");
}

TEST(ConfigSignerTest, HmacIsDeterministic) {
  auto signer = ConfigSigner::hmac("k");
  ASSERT_TRUE(signer);
  EXPECT_EQ(signed_with(**signer).signature, signed_with(**signer).signature);
}

TEST(ConfigVerifierTest, HmacWrongKey) {
  auto signer = ConfigSigner::hmac("right key");
  auto verifier = ConfigVerifier::hmac("wrong key");
  ASSERT_TRUE(signer && verifier);
  EXPECT_EQ(verify_reason(**verifier, signed_with(**signer)), "bad_signature");
}

TEST(ConfigVerifierTest, HmacKeyFileTrimsTrailingWhiteSpace) {
  TempDir dir;
  write_file(dir / "key", "  line secret \t\r\n\n");
  auto signer = ConfigSigner::from_file((dir / "key").string());
  ASSERT_TRUE(signer) << signer.error().detail;
  EXPECT_EQ((*signer)->alg(), SignatureAlg::kHmacSha256);
  // Leading white space is part of the secret, trailing is not.
  auto verifier = ConfigVerifier::hmac("  line secret");
  ASSERT_TRUE(verifier);
  EXPECT_EQ(verify_reason(**verifier, signed_with(**signer)), "ok");
  auto untrimmed = ConfigVerifier::hmac("  line secret \t\r\n\n");
  ASSERT_TRUE(untrimmed);
  EXPECT_EQ(verify_reason(**untrimmed, signed_with(**signer)), "bad_signature");
}

TEST(ConfigVerifierTest, HmacKeyFixture) {
  auto signer = signer_from("hmac.key");
  auto verifier = verifier_from("hmac.key");
  ASSERT_TRUE(signer && verifier);
  EXPECT_EQ(verifier->alg(), SignatureAlg::kHmacSha256);
  EXPECT_EQ(verify_reason(*verifier, signed_with(*signer)), "ok");
}

TEST(ConfigVerifierTest, EmptySecretIsRefused) {
  TempDir dir;
  write_file(dir / "blank", " \n\t\r\n");
  write_file(dir / "empty", "");
  for (const char* name : {"blank", "empty"}) {
    auto v = ConfigVerifier::from_file((dir / name).string());
    ASSERT_FALSE(v) << name;
    EXPECT_EQ(v.error().reason, "config_key");
    auto s = ConfigSigner::from_file((dir / name).string());
    ASSERT_FALSE(s) << name;
    EXPECT_EQ(s.error().reason, "config_key");
  }
  auto v = ConfigVerifier::hmac("");
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().reason, "config_key");
  auto s = ConfigSigner::hmac("");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().reason, "config_key");
}

TEST(ConfigVerifierTest, MissingKeyFile) {
  auto v = ConfigVerifier::from_file(key_path("no-such.key"));
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().reason, "config_key");
  EXPECT_NE(v.error().detail.find("no-such.key"), std::string::npos);
  auto s = ConfigSigner::from_file(key_path("no-such.key"));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().reason, "config_key");
}

TEST(ConfigVerifierTest, ErrorsNeverHoldKeyMaterial) {
  TempDir dir;
  const std::string secret = "a-very-distinctive-secret-value";
  write_file(dir / "key", secret + "\n");
  auto signer = ConfigSigner::from_file((dir / "key").string());
  auto verifier = ConfigVerifier::from_file((dir / "key").string());
  ASSERT_TRUE(signer && verifier);
  ConfigEnvelope e = signed_with(**signer);
  e.version = 8;
  auto r = (*verifier)->verify(e);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().detail.find(secret), std::string::npos);

  const std::string pem = read_file(key_path("config-ec.key"));
  const std::string pem_body = pem.substr(pem.find('\n') + 1, 16);
  auto wrong = ConfigVerifier::from_file(key_path("config-ec.key"));
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().detail.find(pem_body), std::string::npos) << wrong.error().detail;
}

// --- both algorithms -----------------------------------------------------------

struct KeyPair {
  std::unique_ptr<ConfigSigner> signer;
  std::shared_ptr<const ConfigVerifier> verifier;
};

std::vector<KeyPair> key_pairs() {
  std::vector<KeyPair> pairs;
  pairs.push_back({signer_from("hmac.key"), verifier_from("hmac.key")});
  pairs.push_back({signer_from("config-ec.key"), verifier_from("config-ec.pub")});
  return pairs;
}

TEST(ConfigVerifierTest, TamperedFieldsFailVerification) {
  for (const KeyPair& k : key_pairs()) {
    ASSERT_TRUE(k.signer && k.verifier);
    const ConfigEnvelope good = signed_with(*k.signer);
    ASSERT_EQ(verify_reason(*k.verifier, good), "ok");

    std::vector<ConfigEnvelope> bad(7, good);
    bad[0].body += " ";
    bad[1].version = 6;  // replaying as an older version
    bad[2].section = "detectors";
    bad[3].target = "all";
    bad[4].signature[bad[4].signature.size() / 2] ^= 0x01;
    bad[5].signature.pop_back();
    bad[6].signature += '\0';
    for (std::size_t i = 0; i < bad.size(); ++i) {
      EXPECT_EQ(verify_reason(*k.verifier, bad[i]), "bad_signature")
          << to_string(k.verifier->alg()) << " case " << i;
    }
  }
}

TEST(ConfigVerifierTest, LineBreaksCannotShiftFieldBoundaries) {
  auto signer = ConfigSigner::hmac("k");
  ASSERT_TRUE(signer);
  ConfigEnvelope e = sample();
  e.section = "rules\ngw1";
  auto r = (*signer)->sign(e);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "config_sign");
}

TEST(ConfigVerifierTest, UnsignedIsRefused) {
  for (const KeyPair& k : key_pairs()) {
    ASSERT_TRUE(k.verifier);
    EXPECT_EQ(verify_reason(*k.verifier, sample()), "unsigned");
    auto bare = parse_config_envelope("{\"rules\":[]}");
    ASSERT_TRUE(bare);
    EXPECT_EQ(verify_reason(*k.verifier, *bare), "unsigned");
  }
}

TEST(ConfigVerifierTest, WrongAlg) {
  auto pairs = key_pairs();
  ASSERT_TRUE(pairs[0].signer && pairs[1].signer && pairs[0].verifier && pairs[1].verifier);
  const ConfigEnvelope hmac_signed = signed_with(*pairs[0].signer);
  const ConfigEnvelope ecdsa_signed = signed_with(*pairs[1].signer);
  EXPECT_EQ(verify_reason(*pairs[1].verifier, hmac_signed), "wrong_alg");
  EXPECT_EQ(verify_reason(*pairs[0].verifier, ecdsa_signed), "wrong_alg");
  // Relabelling the signature does not help either.
  ConfigEnvelope relabelled = ecdsa_signed;
  relabelled.alg = SignatureAlg::kHmacSha256;
  EXPECT_EQ(verify_reason(*pairs[0].verifier, relabelled), "bad_signature");
}

// --- ECDSA ---------------------------------------------------------------------

TEST(ConfigSignerTest, EcdsaSignVerify) {
  auto signer = signer_from("config-ec.key");
  auto verifier = verifier_from("config-ec.pub");
  ASSERT_TRUE(signer && verifier);
  EXPECT_EQ(signer->alg(), SignatureAlg::kEcdsaP256);
  EXPECT_EQ(verifier->alg(), SignatureAlg::kEcdsaP256);
  const ConfigEnvelope e = signed_with(*signer);
  EXPECT_EQ(e.alg, SignatureAlg::kEcdsaP256);
  // DER: SEQUENCE { INTEGER r, INTEGER s }, at most 72 bytes for P-256.
  ASSERT_GE(e.signature.size(), 8u);
  EXPECT_LE(e.signature.size(), 72u);
  EXPECT_EQ(static_cast<unsigned char>(e.signature[0]), 0x30);
  EXPECT_EQ(static_cast<unsigned char>(e.signature[1]) + 2u, e.signature.size());
  EXPECT_EQ(verify_reason(*verifier, e), "ok");

  auto back = parse_config_envelope(make_config_envelope(e));
  ASSERT_TRUE(back) << back.error().detail;
  EXPECT_EQ(verify_reason(*verifier, *back), "ok");
}

TEST(ConfigSignerTest, EcdsaPkcs8PrivateKey) {
  auto signer = signer_from("config-ec-pkcs8.key");
  auto verifier = verifier_from("config-ec.pub");
  ASSERT_TRUE(signer && verifier);
  EXPECT_EQ(signer->alg(), SignatureAlg::kEcdsaP256);
  EXPECT_EQ(verify_reason(*verifier, signed_with(*signer)), "ok");
}

TEST(ConfigVerifierTest, EcdsaPublicPemDirectly) {
  auto verifier = ConfigVerifier::ecdsa_public_pem(read_file(key_path("config-ec.pub")));
  ASSERT_TRUE(verifier) << verifier.error().detail;
  auto signer = signer_from("config-ec.key");
  ASSERT_TRUE(signer);
  EXPECT_EQ(verify_reason(**verifier, signed_with(*signer)), "ok");
}

TEST(ConfigVerifierTest, EcdsaOtherPublicKey) {
  auto signer = signer_from("config-ec.key");
  auto other = verifier_from("other-ec.pub");
  ASSERT_TRUE(signer && other);
  EXPECT_EQ(verify_reason(*other, signed_with(*signer)), "bad_signature");
}

TEST(ConfigVerifierTest, P384KeyIsRefused) {
  auto v = ConfigVerifier::from_file(key_path("p384.pub"));
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().reason, "config_key");
  EXPECT_NE(v.error().detail.find("P-256"), std::string::npos) << v.error().detail;
  auto direct = ConfigVerifier::ecdsa_public_pem(read_file(key_path("p384.pub")));
  ASSERT_FALSE(direct);
  EXPECT_EQ(direct.error().reason, "config_key");
}

TEST(ConfigVerifierTest, NotAPublicKey) {
  auto garbage = ConfigVerifier::ecdsa_public_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n"
                                                  "-----END PUBLIC KEY-----\n");
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().reason, "config_key");
  auto empty = ConfigVerifier::ecdsa_public_pem("");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().reason, "config_key");
  // The private key where the public one belongs: refused, not taken for
  // an HMAC secret.
  auto priv = ConfigVerifier::from_file(key_path("config-ec.key"));
  ASSERT_FALSE(priv);
  EXPECT_EQ(priv.error().reason, "config_key");
  // ... also when the public key is in the same file.
  TempDir dir;
  write_file(dir / "both.pem",
             read_file(key_path("config-ec.pub")) + read_file(key_path("config-ec.key")));
  auto both = ConfigVerifier::from_file((dir / "both.pem").string());
  ASSERT_FALSE(both);
  EXPECT_EQ(both.error().reason, "config_key");
  // A PEM that is not a key at all is not an HMAC secret either.
  write_file(dir / "cert.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  auto cert = ConfigVerifier::from_file((dir / "cert.pem").string());
  ASSERT_FALSE(cert);
  EXPECT_EQ(cert.error().reason, "config_key");
}

TEST(ConfigSignerTest, PublicKeyCannotSign) {
  auto s = ConfigSigner::from_file(key_path("config-ec.pub"));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().reason, "config_key");
}

TEST(ConfigSignerTest, P384PrivateKeyIsRefused) {
  TempDir dir;
  int status = 0;
  {
    const std::string cmd = "timeout 30 openssl ecparam -name secp384r1 -genkey -noout -out " +
                            (dir / "p384.key").string() + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr) GTEST_SKIP() << "popen failed";
    char buf[256];
    while (std::fgets(buf, sizeof buf, p) != nullptr) {
    }
    status = pclose(p);
  }
  if (status != 0) GTEST_SKIP() << "no openssl";
  auto s = ConfigSigner::from_file((dir / "p384.key").string());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().reason, "config_key");
}

TEST(ConfigVerifierTest, SharedVerifierAcrossThreads) {
  auto signer = signer_from("config-ec.key");
  auto verifier = verifier_from("config-ec.pub");
  ASSERT_TRUE(signer && verifier);
  const ConfigEnvelope good = signed_with(*signer);
  ConfigEnvelope bad = good;
  bad.version += 1;
  std::vector<int> failures(4, 0);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < failures.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        if (!verifier->verify(good)) ++failures[t];
        if (verifier->verify(bad)) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const int f : failures) EXPECT_EQ(f, 0);
}

// --- interoperability with the openssl command line -----------------------------

// Runs `command` (bounded by timeout(1)); its output, and its status.
std::string run(const std::string& command, int& status) {
  std::string out;
  FILE* p = popen(("timeout 30 " + command + " 2>&1").c_str(), "r");
  if (p == nullptr) {
    status = -1;
    return out;
  }
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  status = pclose(p);
  return out;
}

bool have_openssl() {
  int status = 0;
  run("openssl version", status);
  return status == 0;
}

// docs/config-signing.md tells operators to sign with exactly this command.
TEST(ConfigSignatureOpensslTest, OpensslEcdsaSignatureVerifies) {
  if (!have_openssl()) GTEST_SKIP() << "no openssl";
  TempDir dir;
  const ConfigEnvelope e = sample();
  write_file(dir / "input", signing_input(e.section, e.target, e.version, e.body));
  int status = 0;
  const std::string out = run("openssl dgst -sha256 -sign " + key_path("config-ec.key") +
                                  " -out " + (dir / "sig.der").string() + " " +
                                  (dir / "input").string(),
                              status);
  ASSERT_EQ(status, 0) << out;

  ConfigEnvelope signed_e = e;
  signed_e.alg = SignatureAlg::kEcdsaP256;
  signed_e.signature = read_file(dir / "sig.der");
  ASSERT_FALSE(signed_e.signature.empty());
  auto verifier = verifier_from("config-ec.pub");
  ASSERT_TRUE(verifier);
  auto back = parse_config_envelope(make_config_envelope(signed_e));
  ASSERT_TRUE(back) << back.error().detail;
  EXPECT_EQ(verify_reason(*verifier, *back), "ok");
  auto other = verifier_from("other-ec.pub");
  ASSERT_TRUE(other);
  EXPECT_EQ(verify_reason(*other, *back), "bad_signature");
}

TEST(ConfigSignatureOpensslTest, FoggateEcdsaSignatureVerifiesWithOpenssl) {
  if (!have_openssl()) GTEST_SKIP() << "no openssl";
  TempDir dir;
  auto signer = signer_from("config-ec.key");
  ASSERT_TRUE(signer);
  const ConfigEnvelope e = signed_with(*signer);
  write_file(dir / "input", signing_input(e.section, e.target, e.version, e.body));
  write_file(dir / "sig.der", e.signature);
  int status = 0;
  const std::string out = run("openssl dgst -sha256 -verify " + key_path("config-ec.pub") +
                                  " -signature " + (dir / "sig.der").string() + " " +
                                  (dir / "input").string(),
                              status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("Verified OK"), std::string::npos) << out;
}

TEST(ConfigSignatureOpensslTest, OpensslHmacMatches) {
  if (!have_openssl()) GTEST_SKIP() << "no openssl";
  TempDir dir;
  const ConfigEnvelope e = sample();
  write_file(dir / "input", signing_input(e.section, e.target, e.version, e.body));
  std::string secret = read_file(key_path("hmac.key"));
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  ASSERT_EQ(secret.find_first_not_of("0123456789abcdef"), std::string::npos);  // shell-safe
  int status = 0;
  const std::string out = run("openssl dgst -sha256 -hmac " + secret + " -binary -out " +
                                  (dir / "mac").string() + " " + (dir / "input").string(),
                              status);
  ASSERT_EQ(status, 0) << out;
  ConfigEnvelope signed_e = e;
  signed_e.alg = SignatureAlg::kHmacSha256;
  signed_e.signature = read_file(dir / "mac");
  auto verifier = verifier_from("hmac.key");
  ASSERT_TRUE(verifier);
  EXPECT_EQ(verify_reason(*verifier, signed_e), "ok");
}

}  // namespace
}  // namespace foggate::protocols
