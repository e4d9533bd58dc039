// Result<T, E>: a value or an error, shaped like C++23 std::expected so the
// hot path can report failures without exceptions. GCC 12 offers
// std::expected only in C++23 mode, hence this small stand-in.
//
// Thread-safety: a plain value type; no shared state.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace foggate {

// Transient failures are retried with backoff; permanent ones are counted,
// logged once with their reason and rejected.
enum class ErrorKind { kTransient, kPermanent };

struct Error {
  ErrorKind kind = ErrorKind::kPermanent;
  std::string reason;  // short, stable, metric-label friendly: "json_syntax"
  std::string detail;  // human text for the log line; never holds secrets

  static Error permanent(std::string reason, std::string detail = {}) {
    return {ErrorKind::kPermanent, std::move(reason), std::move(detail)};
  }
  static Error transient(std::string reason, std::string detail = {}) {
    return {ErrorKind::kTransient, std::move(reason), std::move(detail)};
  }
};

template <typename E>
struct Unexpected {
  E error;
};
template <typename E>
Unexpected<std::decay_t<E>> unexpected(E&& e) {
  return {std::forward<E>(e)};
}

template <typename T, typename E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  template <typename G>
  Result(Unexpected<G> u) : v_(std::in_place_index<1>, E(std::move(u.error))) {}  // NOLINT

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { assert(has_value()); return std::get<0>(v_); }
  const T& value() const& { assert(has_value()); return std::get<0>(v_); }
  T&& value() && { assert(has_value()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const E& error() const { assert(!has_value()); return std::get<1>(v_); }
  E& error() { assert(!has_value()); return std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

// Result<void>: success carries nothing.
template <typename E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  template <typename G>
  Result(Unexpected<G> u) : err_(E(std::move(u.error))), ok_(false) {}  // NOLINT

  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const E& error() const { assert(!ok_); return err_; }

 private:
  E err_{};
  bool ok_ = true;
};

}  // namespace foggate
