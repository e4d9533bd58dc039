#include "json_parser.h"

#include <cassert>
#include <charconv>
#include <cmath>
#include <system_error>

#include "foggate/protocols/utf8.h"

namespace foggate::protocols {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// from_chars reports both overflow and underflow as result_out_of_range.
// Underflow (1e-400) is a legal number that rounds to zero; overflow is
// rejected rather than turned into an infinity nobody can serialise. The
// decimal exponent of the leading significant digit tells them apart.
bool overflows(std::string_view num) {
  std::size_t i = num[0] == '-' ? 1 : 0;
  long long sci = 0;  // position of the first significant digit
  bool seen_nonzero = false;
  for (; i < num.size() && is_digit(num[i]); ++i) {
    if (seen_nonzero || num[i] != '0') {
      seen_nonzero = true;
      ++sci;
    }
  }
  if (i < num.size() && num[i] == '.') {
    for (++i; i < num.size() && is_digit(num[i]); ++i) {
      if (seen_nonzero) continue;
      if (num[i] != '0') seen_nonzero = true;
      else --sci;
    }
  }
  long long exp = 0;
  if (i < num.size() && (num[i] == 'e' || num[i] == 'E')) {
    ++i;
    const bool neg = i < num.size() && num[i] == '-';
    if (i < num.size() && (num[i] == '-' || num[i] == '+')) ++i;
    for (; i < num.size(); ++i) {
      if (exp < 1'000'000) exp = exp * 10 + (num[i] - '0');  // saturate
    }
    if (neg) exp = -exp;
  }
  return sci + exp > 0;
}

}  // namespace

bool JsonParser::fail(const char* reason, std::string_view what) {
  error_ = Error::permanent(reason, "offset " + std::to_string(pos_) + ": " + std::string(what));
  return false;
}

Result<void> JsonParser::run() {
  if (text_.size() > limits_.max_bytes) {
    return unexpected(Error::permanent(
        "json_too_large", std::to_string(text_.size()) + " bytes, limit " +
                              std::to_string(limits_.max_bytes)));
  }
  if (!parse_document()) return unexpected(std::move(error_));
  return {};
}

bool JsonParser::parse_document() {
  bool want_value = true;
  for (;;) {
    skip_ws();
    if (want_value) {
      if (at_end()) return fail("json_syntax", "expected value");
      const char c = text_[pos_];
      if (c == '{' || c == '[') {
        if (!open_container(c)) return false;
        skip_ws();
        if (!at_end() && text_[pos_] == (c == '{' ? '}' : ']')) {
          if (!close_container()) return false;
          want_value = false;
        } else if (c == '{' && !parse_key()) {
          return false;
        }
        continue;
      }
      if (!parse_scalar()) return false;
      want_value = false;
      continue;
    }
    if (stack_.empty()) {
      if (!at_end()) return fail("json_syntax", "unexpected trailing characters");
      return true;
    }
    const bool in_object = stack_.back() == '{';
    const char* expected = in_object ? "expected ',' or '}'" : "expected ',' or ']'";
    if (at_end()) return fail("json_syntax", expected);
    const char c = text_[pos_];
    if (c == ',') {
      ++pos_;
      if (in_object && !parse_key()) return false;
      want_value = true;
    } else if (c == (in_object ? '}' : ']')) {
      if (!close_container()) return false;
    } else {
      return fail("json_syntax", expected);
    }
  }
}

bool JsonParser::open_container(char c) {
  if (stack_.size() >= limits_.max_depth) {
    return fail("json_depth", "nesting deeper than " + std::to_string(limits_.max_depth));
  }
  ++pos_;
  stack_ += c;
  return (c == '{' ? handler_.begin_object() : handler_.begin_array()) || rejected();
}

bool JsonParser::close_container() {
  const bool object = stack_.back() == '{';
  ++pos_;
  stack_.pop_back();
  return (object ? handler_.end_object() : handler_.end_array()) || rejected();
}

// Parses `"key" :` so that the caller continues with the member's value.
bool JsonParser::parse_key() {
  skip_ws();
  if (at_end() || text_[pos_] != '"') return fail("json_syntax", "expected string key");
  std::string_view key;
  if (!parse_string(key)) return false;
  if (!handler_.on_key(key)) return rejected();
  skip_ws();
  if (at_end() || text_[pos_] != ':') return fail("json_syntax", "expected ':'");
  ++pos_;
  return true;
}

bool JsonParser::parse_scalar() {
  const char c = text_[pos_];
  switch (c) {
    case '"': {
      std::string_view s;
      if (!parse_string(s)) return false;
      return handler_.on_string(s) || rejected();
    }
    case 't': return parse_literal("true") && (handler_.on_bool(true) || rejected());
    case 'f': return parse_literal("false") && (handler_.on_bool(false) || rejected());
    case 'n': return parse_literal("null") && (handler_.on_null() || rejected());
    default:
      if (c == '-' || is_digit(c)) return parse_number();
      return fail("json_syntax", "expected value");
  }
}

bool JsonParser::parse_literal(std::string_view word) {
  if (text_.substr(pos_, word.size()) != word) return fail("json_syntax", "expected value");
  pos_ += word.size();
  return true;
}

// The grammar is checked by hand because from_chars is more lenient than
// RFC 8259 (it takes "inf", ".5", "5.", "1e" and leading zeros).
bool JsonParser::parse_number() {
  const std::size_t start = pos_;
  if (text_[pos_] == '-') ++pos_;
  if (at_end() || !is_digit(text_[pos_])) return fail("json_syntax", "expected digit");
  if (text_[pos_] == '0') {
    ++pos_;
    if (!at_end() && is_digit(text_[pos_])) return fail("json_syntax", "leading zero in number");
  } else {
    while (!at_end() && is_digit(text_[pos_])) ++pos_;
  }
  if (!at_end() && text_[pos_] == '.') {
    ++pos_;
    if (at_end() || !is_digit(text_[pos_])) return fail("json_syntax", "expected digit after '.'");
    while (!at_end() && is_digit(text_[pos_])) ++pos_;
  }
  if (!at_end() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
    ++pos_;
    if (!at_end() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
    if (at_end() || !is_digit(text_[pos_])) return fail("json_syntax", "expected exponent digit");
    while (!at_end() && is_digit(text_[pos_])) ++pos_;
  }
  const std::string_view num = text_.substr(start, pos_ - start);
  double v = 0;
  const auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
  if (ec == std::errc::result_out_of_range) {
    if (overflows(num)) {
      pos_ = start;
      return fail("json_syntax", "number out of range");
    }
    v = num[0] == '-' ? -0.0 : 0.0;
  } else if (ec != std::errc() || ptr != num.data() + num.size()) {
    pos_ = start;
    return fail("json_syntax", "bad number");
  }
  return handler_.on_number(v) || rejected();
}

// On success `out` views either the input (no escapes: no copy) or
// scratch_, valid until the next string is parsed.
bool JsonParser::parse_string(std::string_view& out) {
  ++pos_;  // opening quote
  scratch_.clear();
  std::size_t run_start = pos_;  // start of the bytes not yet in scratch_
  bool escaped = false;
  for (;;) {
    if (scratch_.size() + (pos_ - run_start) > limits_.max_string) {
      return fail("json_string_too_long",
                  "string longer than " + std::to_string(limits_.max_string) + " bytes");
    }
    if (at_end()) return fail("json_syntax", "unterminated string");
    const auto c = static_cast<unsigned char>(text_[pos_]);
    if (c == '"') {
      if (escaped) {
        scratch_.append(text_.substr(run_start, pos_ - run_start));
        out = scratch_;
      } else {
        out = text_.substr(run_start, pos_ - run_start);
      }
      ++pos_;
      return true;
    }
    if (c == '\\') {
      scratch_.append(text_.substr(run_start, pos_ - run_start));
      escaped = true;
      if (!parse_escape()) return false;
      run_start = pos_;
      continue;
    }
    if (c < 0x20) return fail("json_syntax", "control character in string");
    if (c < 0x80) {
      ++pos_;
      continue;
    }
    const std::size_t n = utf8_length(reinterpret_cast<const unsigned char*>(text_.data()) + pos_,
                                      text_.size() - pos_);
    if (n == 0) return fail("json_syntax", "invalid UTF-8 in string");
    pos_ += n;
  }
}

bool JsonParser::parse_escape() {
  ++pos_;  // backslash
  if (at_end()) return fail("json_syntax", "unterminated string");
  const char c = text_[pos_];
  char decoded = 0;
  switch (c) {
    case '"': decoded = '"'; break;
    case '\\': decoded = '\\'; break;
    case '/': decoded = '/'; break;
    case 'b': decoded = '\b'; break;
    case 'f': decoded = '\f'; break;
    case 'n': decoded = '\n'; break;
    case 'r': decoded = '\r'; break;
    case 't': decoded = '\t'; break;
    case 'u': break;
    default: return fail("json_syntax", "invalid escape");
  }
  ++pos_;
  if (c != 'u') {
    scratch_ += decoded;
    return true;
  }
  uint32_t cp = 0;
  if (!parse_hex4(cp)) return false;
  if (cp >= 0xDC00 && cp <= 0xDFFF) return fail("json_syntax", "lone low surrogate");
  if (cp >= 0xD800 && cp <= 0xDBFF) {
    if (text_.substr(pos_, 2) != "\\u") return fail("json_syntax", "lone high surrogate");
    pos_ += 2;
    uint32_t low = 0;
    if (!parse_hex4(low)) return false;
    if (low < 0xDC00 || low > 0xDFFF) return fail("json_syntax", "lone high surrogate");
    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
  }
  append_utf8(scratch_, cp);
  return true;
}

bool JsonParser::parse_hex4(uint32_t& cp) {
  cp = 0;
  for (int i = 0; i < 4; ++i) {
    const int h = at_end() ? -1 : hex_value(text_[pos_]);
    if (h < 0) return fail("json_syntax", "expected 4 hex digits after \\u");
    cp = cp * 16 + static_cast<uint32_t>(h);
    ++pos_;
  }
  return true;
}

Result<void> parse_json_events(std::string_view text, JsonHandler& handler,
                               const JsonLimits& limits) {
  return JsonParser(text, handler, limits).run();
}

}  // namespace foggate::protocols
