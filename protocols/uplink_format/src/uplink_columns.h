// Columns of an uplink batch (docs/uplink-format.md, "Columns"): the values
// one key of a flat payload schema takes across a batch, and the delta
// coding that makes them compress. Private to the uplink_format module, used by
// uplink_codec.cpp (encoding) and uplink_decode.cpp.
//
// Thread-safety: free functions, no shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <msgpack.hpp>

#include "foggate/base/result.h"
#include "foggate/protocols/json.h"

namespace foggate::protocols {

using BatchPacker = msgpack::packer<msgpack::sbuffer>;

// Packs scalar values (see is_scalar) as one column map, choosing the first
// shape that holds them exactly:
//   {"i": [first, d1, ...]}           integers, |v| < 2^53
//   {"e": k, "i": [first, d1, ...]}   decimals: v == m / 10^k, k in 1..9
//   {"v": [v0, v1, ...]}              anything else, as plain values
void pack_column(BatchPacker& pk, std::span<const msgpack::object* const> values);

// Decodes one column map into exactly `count` JSON values.
// Error "batch_format"; detail says what is wrong, not where.
Result<std::vector<JsonValue>> decode_column(const msgpack::object& column, std::size_t count);

// Adds one delta (a msgpack int) to `value`. False when `delta` is not an
// int or the sum leaves int64.
bool add_delta(const msgpack::object& delta, int64_t& value);

}  // namespace foggate::protocols
