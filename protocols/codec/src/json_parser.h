// JsonParser: the event parser behind parse_json_events() and parse_json()
// (json.h has the contract: limits, errors, what events are emitted).
// Private to the codec module.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "foggate/protocols/json.h"

namespace foggate::protocols {

inline bool json_is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Iterative so that recursion depth never depends on the input (or on a
// caller raising max_depth); the open containers live in stack_.
class JsonParser {
 public:
  JsonParser(std::string_view text, JsonHandler& handler, const JsonLimits& limits)
      : text_(text), handler_(handler), limits_(limits) {}

  Result<void> run();
  std::size_t offset() const { return pos_; }

 private:
  bool fail(const char* reason, std::string_view what);
  bool rejected() { return fail("json_rejected", "rejected by handler"); }
  void skip_ws() {
    while (pos_ < text_.size() && json_is_ws(text_[pos_])) ++pos_;
  }
  bool at_end() const { return pos_ >= text_.size(); }

  bool parse_document();
  bool open_container(char c);
  bool close_container();
  bool parse_key();
  bool parse_scalar();
  bool parse_literal(std::string_view word);
  bool parse_number();
  bool parse_string(std::string_view& out);
  bool parse_escape();
  bool parse_hex4(uint32_t& cp);

  std::string_view text_;
  JsonHandler& handler_;
  const JsonLimits& limits_;
  std::size_t pos_ = 0;
  std::string stack_;    // '{' or '[' per open container
  std::string scratch_;  // decoded string when it held escapes
  Error error_;
};

}  // namespace foggate::protocols
