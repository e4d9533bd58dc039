#include "uplink_columns.h"

#include <array>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>

#include "uplink_values.h"

namespace foggate::protocols {
namespace {

constexpr double kTwoTo53 = 9007199254740992.0;
constexpr int kMaxDecimals = 9;
// Powers of ten up to 10^9 are exact doubles, so m / kPow10[k] is one
// correctly rounded IEEE division in every language.
constexpr std::array<double, kMaxDecimals + 1> kPow10 = {1e0, 1e1, 1e2, 1e3, 1e4,
                                                         1e5, 1e6, 1e7, 1e8, 1e9};

Unexpected<Error> fail(std::string detail) {
  return unexpected(Error::permanent("batch_format", std::move(detail)));
}

void pack_str(BatchPacker& pk, std::string_view s) {
  pk.pack_str(static_cast<uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

// An integral number below 2^53 in magnitude, whatever its msgpack type:
// JSON does not tell 3 from 3.0, so neither does the column.
std::optional<int64_t> integer_of(const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::POSITIVE_INTEGER:
      if (o.via.u64 < static_cast<uint64_t>(kTwoTo53)) return static_cast<int64_t>(o.via.u64);
      return std::nullopt;
    case msgpack::type::NEGATIVE_INTEGER:
      if (o.via.i64 > -static_cast<int64_t>(kTwoTo53)) return o.via.i64;
      return std::nullopt;
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64: {
      const double d = o.via.f64;
      if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < kTwoTo53) {
        return static_cast<int64_t>(d);
      }
      return std::nullopt;
    }
    default: return std::nullopt;
  }
}

std::optional<double> number_of(const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::POSITIVE_INTEGER: return static_cast<double>(o.via.u64);
    case msgpack::type::NEGATIVE_INTEGER: return static_cast<double>(o.via.i64);
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64: return o.via.f64;
    default: return std::nullopt;
  }
}

// m with v == m / 10^k exactly, computed as a decoder will compute it.
std::optional<int64_t> scaled(double v, int k) {
  const double x = v * kPow10[k];
  if (!(std::fabs(x) < kTwoTo53)) return std::nullopt;  // also NaN
  const long long m = std::llround(x);
  if (static_cast<double>(m) / kPow10[k] != v) return std::nullopt;
  return m;
}

// The delta of two values below 2^53 in magnitude fits in int64.
void pack_delta_array(BatchPacker& pk, const std::vector<int64_t>& values) {
  pk.pack_array(static_cast<uint32_t>(values.size()));
  int64_t prev = 0;
  for (const int64_t v : values) {
    pk.pack_int64(v - prev);
    prev = v;
  }
}

bool integers(std::span<const msgpack::object* const> values, std::vector<int64_t>& out) {
  out.clear();
  for (const msgpack::object* o : values) {
    auto i = integer_of(*o);
    if (!i) return false;
    out.push_back(*i);
  }
  return true;
}

// The smallest k that holds every value, or 0.
int decimals(std::span<const msgpack::object* const> values, std::vector<int64_t>& out) {
  std::vector<double> numbers;
  numbers.reserve(values.size());
  for (const msgpack::object* o : values) {
    auto d = number_of(*o);
    if (!d || !std::isfinite(*d)) return 0;
    numbers.push_back(*d);
  }
  for (int k = 1; k <= kMaxDecimals; ++k) {
    out.clear();
    for (const double d : numbers) {
      auto m = scaled(d, k);
      if (!m) break;
      out.push_back(*m);
    }
    if (out.size() == numbers.size()) return k;
  }
  return 0;
}

}  // namespace

void pack_column(BatchPacker& pk, std::span<const msgpack::object* const> values) {
  std::vector<int64_t> ints;
  ints.reserve(values.size());
  if (integers(values, ints)) {
    pk.pack_map(1);
    pack_str(pk, "i");
    pack_delta_array(pk, ints);
    return;
  }
  if (const int k = decimals(values, ints); k > 0) {
    pk.pack_map(2);
    pack_str(pk, "e");
    pk.pack_int(k);
    pack_str(pk, "i");
    pack_delta_array(pk, ints);
    return;
  }
  pk.pack_map(1);
  pack_str(pk, "v");
  pk.pack_array(static_cast<uint32_t>(values.size()));
  for (const msgpack::object* o : values) pk.pack(*o);
}

bool add_delta(const msgpack::object& delta, int64_t& value) {
  int64_t d = 0;
  if (delta.type == msgpack::type::NEGATIVE_INTEGER) {
    d = delta.via.i64;
  } else if (delta.type == msgpack::type::POSITIVE_INTEGER &&
             delta.via.u64 <= static_cast<uint64_t>(INT64_MAX)) {
    d = static_cast<int64_t>(delta.via.u64);
  } else {
    return false;
  }
  return !__builtin_add_overflow(value, d, &value);
}

Result<std::vector<JsonValue>> decode_column(const msgpack::object& column, std::size_t count) {
  if (column.type != msgpack::type::MAP) return fail("column is not a map");
  const msgpack::object* ints = nullptr;
  const msgpack::object* exponent = nullptr;
  const msgpack::object* plain = nullptr;
  for (uint32_t i = 0; i < column.via.map.size; ++i) {
    const msgpack::object_kv& kv = column.via.map.ptr[i];
    std::string_view key;
    if (kv.key.type == msgpack::type::STR) key = {kv.key.via.str.ptr, kv.key.via.str.size};
    const msgpack::object** slot = nullptr;
    if (key == "i") slot = &ints;
    if (key == "e") slot = &exponent;
    if (key == "v") slot = &plain;
    if (slot == nullptr) return fail("unknown column key \"" + std::string(key) + "\"");
    if (*slot != nullptr) return fail("column key \"" + std::string(key) + "\" twice");
    *slot = &kv.val;
  }
  const msgpack::object* items = plain != nullptr ? plain : ints;
  if (items == nullptr || (plain != nullptr && (ints != nullptr || exponent != nullptr))) {
    return fail("column must be {\"i\"}, {\"e\",\"i\"} or {\"v\"}");
  }
  if (items->type != msgpack::type::ARRAY || items->via.array.size != count) {
    return fail("column does not hold " + std::to_string(count) + " values");
  }
  std::vector<JsonValue> out;
  out.reserve(count);
  const msgpack::object* p = items->via.array.ptr;
  if (plain != nullptr) {
    for (std::size_t r = 0; r < count; ++r) {
      auto v = json_from_msgpack(p[r]);
      if (!v) return unexpected(v.error());
      out.push_back(std::move(*v));
    }
    return out;
  }
  int k = 0;
  if (exponent != nullptr) {
    if (exponent->type != msgpack::type::POSITIVE_INTEGER || exponent->via.u64 < 1 ||
        exponent->via.u64 > kMaxDecimals) {
      return fail("column \"e\" is not an int in 1..9");
    }
    k = static_cast<int>(exponent->via.u64);
  }
  int64_t value = 0;
  for (std::size_t r = 0; r < count; ++r) {
    if (!add_delta(p[r], value)) return fail("column delta is not an int or overflows");
    out.push_back(JsonValue::number(static_cast<double>(value) / kPow10[k]));
  }
  return out;
}

}  // namespace foggate::protocols
