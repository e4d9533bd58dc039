#include "config/secrets.h"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <iterator>
#include <fstream>
#include <sstream>

namespace foggate::gateway {

Result<std::string> resolve_password(const std::string& inline_value, const std::string& file,
                                     const std::string& env) {
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return unexpected(Error::permanent("secret", "password file " + file + " cannot be read"));
    std::ostringstream ss;
    ss << in.rdbuf();
    std::string v = ss.str();
    while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
    return v;
  }
  if (!env.empty()) {
    const char* v = std::getenv(env.c_str());
    if (v == nullptr) return unexpected(Error::permanent("secret", "environment variable " + env + " is not set"));
    return std::string(v);
  }
  return inline_value;
}

uint64_t credentials_fingerprint(const protocols::MqttOptions& mo) {
  std::string all = mo.username + '\0' + mo.password + '\0' + (mo.tls.verify_hostname ? "1" : "0");
  for (const std::string* file : {&mo.tls.ca_file, &mo.tls.cert_file, &mo.tls.key_file}) {
    all += '\0' + *file + '\0';
    if (file->empty()) continue;
    std::ifstream in(*file, std::ios::binary);
    if (!in) {
      all += "\1unreadable";
      continue;
    }
    all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const uint64_t h = std::hash<std::string>{}(all);
  std::fill(all.begin(), all.end(), '\0');  // it held the password and the key (best effort: not its earlier growth)
  return h;
}

}  // namespace foggate::gateway

namespace foggate::gateway {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<std::vector<protocols::CoapPsk>> read_psk_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return unexpected(Error::permanent("secret", "key file " + path + " cannot be read"));
  std::vector<protocols::CoapPsk> keys;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    auto bad = [&](const std::string& why) {
      return unexpected(Error::permanent("secret", path + ":" + std::to_string(n) + ": " + why));
    };
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream fields(line);
    std::string identity, key, extra;
    if (!(fields >> identity)) continue;  // blank or comment
    if (!(fields >> key)) return bad("identity without a key");
    if (fields >> extra) return bad("more than an identity and a key");
    if (identity.size() > 128 || identity.find_first_of("/+#") != std::string::npos)
      return bad("identity is not a valid device id");
    if (key.starts_with("hex:")) {
      const std::string_view hex(key.data() + 4, key.size() - 4);
      if (hex.empty() || hex.size() % 2 != 0) return bad("hex key needs an even number of digits");
      std::string raw;
      for (std::size_t i = 0; i < hex.size(); i += 2) {
        const int hi = hex_value(hex[i]), lo = hex_value(hex[i + 1]);
        if (hi < 0 || lo < 0) return bad("hex key has a non-hex digit");
        raw.push_back(static_cast<char>(hi * 16 + lo));
      }
      key = std::move(raw);
    }
    for (const auto& k : keys)
      if (k.identity == identity) return bad("identity " + identity + " appears twice");
    keys.push_back({std::move(identity), std::move(key)});
  }
  return keys;
}

}  // namespace foggate::gateway
