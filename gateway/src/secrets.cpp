#include "secrets.h"

#include <cstdlib>
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

}  // namespace foggate::gateway
