#include "foggate/protocols/config_envelope.h"

#include <cmath>
#include <string>
#include <utility>

#include "foggate/protocols/base64.h"
#include "foggate/protocols/json.h"

namespace foggate::protocols {
namespace {

// The body travels as one JSON string, so a string may be as long as the
// payload itself; JsonLimits' 64 KiB per string would cap every section at
// 64 KiB. Depth and total size keep their defaults.
constexpr JsonLimits kEnvelopeLimits{JsonLimits{}.max_bytes, JsonLimits{}.max_depth,
                                     JsonLimits{}.max_bytes};
constexpr double kTwoTo53 = 9007199254740992.0;
// Member names and values quoted in error details are cut here so that a
// hostile payload cannot make long log lines.
constexpr std::size_t kMaxQuoted = 64;

Unexpected<Error> fail(std::string detail) {
  return unexpected(Error::permanent("config_envelope", std::move(detail)));
}

std::string quoted(std::string_view s) {
  if (s.size() > kMaxQuoted) return "(" + std::to_string(s.size()) + " bytes)";
  std::string out;
  append_json_string(out, s);
  return out;
}

// Section and target are lines of signing_input(): a line break in one
// would let two different (section, target) pairs sign the same bytes.
bool has_control_char(std::string_view s) {
  for (const char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

bool known_member(std::string_view key) {
  return key == "foggate_config" || key == "section" || key == "target" || key == "version" ||
         key == "body" || key == "alg" || key == "sig";
}

// The member `key`, checked to be of `type`; nullptr when absent and
// optional.
Result<const JsonValue*> member(const JsonValue& doc, std::string_view key, JsonValue::Type type,
                                bool required) {
  const JsonValue* v = doc.find(key);
  if (v == nullptr) {
    if (required) return fail("missing member \"" + std::string(key) + "\"");
    return v;
  }
  if (v->type() != type) {
    return fail("member \"" + std::string(key) + "\" is " + std::string(to_string(v->type())) +
                ", not " + std::string(to_string(type)));
  }
  return v;
}

Result<std::string> name_member(const JsonValue& doc, std::string_view key) {
  auto v = member(doc, key, JsonValue::Type::kString, true);
  if (!v) return unexpected(v.error());
  const std::string& s = (*v)->as_string();
  if (s.empty()) return fail("member \"" + std::string(key) + "\" is empty");
  if (has_control_char(s)) {
    return fail("member \"" + std::string(key) + "\" holds a control character");
  }
  return s;
}

Result<SignatureAlg> parse_alg(std::string_view s) {
  if (s == to_string(SignatureAlg::kHmacSha256)) return SignatureAlg::kHmacSha256;
  if (s == to_string(SignatureAlg::kEcdsaP256)) return SignatureAlg::kEcdsaP256;
  return fail("unknown alg " + quoted(s));
}

Result<ConfigEnvelope> read_envelope(const JsonValue& doc) {
  for (const auto& [key, value] : doc.members()) {
    if (!known_member(key)) return fail("unknown member " + quoted(key));
  }
  ConfigEnvelope e;
  e.enveloped = true;

  auto format = member(doc, "foggate_config", JsonValue::Type::kNumber, true);
  if (!format) return unexpected(format.error());
  if ((*format)->as_number() != 1) return fail("\"foggate_config\" is not 1");

  auto section = name_member(doc, "section");
  if (!section) return unexpected(section.error());
  e.section = std::move(*section);
  auto target = name_member(doc, "target");
  if (!target) return unexpected(target.error());
  e.target = std::move(*target);

  auto version = member(doc, "version", JsonValue::Type::kNumber, true);
  if (!version) return unexpected(version.error());
  const double v = (*version)->as_number();
  if (!(v >= 0 && v <= kTwoTo53) || v != std::trunc(v)) {
    return fail("\"version\" is not an integer in 0..2^53");
  }
  e.version = static_cast<uint64_t>(v);

  auto body = member(doc, "body", JsonValue::Type::kString, true);
  if (!body) return unexpected(body.error());
  e.body = (*body)->as_string();

  auto alg = member(doc, "alg", JsonValue::Type::kString, false);
  if (!alg) return unexpected(alg.error());
  auto sig = member(doc, "sig", JsonValue::Type::kString, false);
  if (!sig) return unexpected(sig.error());
  if ((*alg == nullptr) != (*sig == nullptr)) {
    return fail(*alg == nullptr ? "\"sig\" without \"alg\"" : "\"alg\" without \"sig\"");
  }
  if (*alg != nullptr) {
    auto a = parse_alg((*alg)->as_string());
    if (!a) return unexpected(a.error());
    e.alg = *a;
    auto bytes = base64_decode((*sig)->as_string());
    if (!bytes) return fail("\"sig\" is not canonical base64");
    if (bytes->empty()) return fail("\"sig\" is empty");
    e.signature = std::move(*bytes);
  }
  return e;
}

}  // namespace

std::string_view to_string(SignatureAlg a) {
  switch (a) {
    case SignatureAlg::kNone: return "none";
    case SignatureAlg::kHmacSha256: return "hmac-sha256";
    case SignatureAlg::kEcdsaP256: return "ecdsa-p256";
  }
  return "none";
}

std::string signing_input(std::string_view section, std::string_view target, uint64_t version,
                          std::string_view body) {
  static constexpr std::string_view kMagic = "foggate-config/1\n";
  const std::string v = std::to_string(version);
  std::string out;
  out.reserve(kMagic.size() + section.size() + target.size() + v.size() + body.size() + 3);
  out += kMagic;
  out += section;
  out += '\n';
  out += target;
  out += '\n';
  out += v;
  out += '\n';
  out += body;
  return out;
}

// An object with a "foggate_config" member is an envelope and held to every
// rule; any other object, or an array, is a bare document. The member's presence, not its
// value, decides, so a damaged envelope is reported instead of being applied
// as a section document.
Result<ConfigEnvelope> parse_config_envelope(std::string_view payload) {
  auto doc = parse_json(payload, kEnvelopeLimits);
  if (!doc) return fail("not JSON (" + doc.error().reason + ": " + doc.error().detail + ")");
  // Sections are objects, except detectors, which is an array.
  if (!doc->is_object() && !doc->is_array()) {
    return fail("a JSON " + std::string(to_string(doc->type())) +
                ", not a section (an object or an array)");
  }
  if (doc->is_object() && doc->find("foggate_config") != nullptr) return read_envelope(*doc);
  ConfigEnvelope e;
  e.body = std::string(payload);
  return e;
}

std::string make_config_envelope(const ConfigEnvelope& e) {
  std::string out = "{\"foggate_config\":1,\"section\":";
  append_json_string(out, e.section);
  out += ",\"target\":";
  append_json_string(out, e.target);
  out += ",\"version\":";
  out += std::to_string(e.version);
  out += ",\"body\":";
  append_json_string(out, e.body);
  if (e.alg != SignatureAlg::kNone) {
    out += ",\"alg\":";
    append_json_string(out, to_string(e.alg));
    out += ",\"sig\":";
    append_json_string(out, base64_encode(e.signature));
  }
  out += '}';
  return out;
}

}  // namespace foggate::protocols
