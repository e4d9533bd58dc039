// Values inside an uplink batch (docs/uplink-format.md, "Values"): reading a
// Message's payload into a msgpack value for the encoder, and turning a
// decoded msgpack value back into JSON for decode_batch. Private to the
// uplink_format module, used by uplink_codec.cpp, uplink_decode.cpp and
// uplink_columns.cpp.
//
// The format restricts values to nil, bool, int, float, str (UTF-8), bin,
// array and map with distinct str keys, so that any stock msgpack library
// reads a batch and every value has one JSON form. A payload holding
// anything else (ext, other map keys, bad UTF-8) travels as raw bytes.
//
// Thread-safety: free functions, no shared state.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <msgpack.hpp>

#include "foggate/base/result.h"
#include "foggate/message/message.h"
#include "foggate/protocols/json.h"

namespace foggate::protocols {

// Walks a msgpack document without building it (msgpack-c's parser with a
// counting visitor): exactly one well-formed value spanning all of `bytes`,
// nested at most max_depth containers deep, map keys str, no ext, every str
// valid UTF-8. Error "msgpack_syntax"; detail says what and where.
//
// Run it before msgpack::unpack: unpack allocates an array's elements as
// soon as it reads the length, so only a document known to be complete
// bounds that memory by its own size.
Result<void> check_msgpack(std::string_view bytes, std::size_t max_depth);

// unpack with the limits of a document of `bytes.size()` bytes already
// passed by check_msgpack(bytes, max_depth). Strings and bin point into
// `bytes`; containers live in `zone`. Error "msgpack_syntax".
Result<msgpack::object> unpack_checked(std::string_view bytes, std::size_t max_depth,
                                       msgpack::zone& zone);

// How one payload travels. kFlat: a map with str keys whose values are all
// scalars (nil, bool, int, float, str), sent column-wise. kOther: any other
// value, sent as is. kRaw: a bin of the payload bytes (also when
// `force_raw`): it did not parse in its format, or held values the format
// cannot carry.
struct UplinkPayload {
  enum class Kind { kFlat, kOther, kRaw };
  Kind kind = Kind::kRaw;
  msgpack::object value;  // in `zone`, or pointing into msg.payload
};

// Reads msg.payload according to msg.format (kAuto: JSON, then msgpack,
// then a number). JSON numbers and bare numbers that are integral within
// +-2^53 become ints, others float64. The result stays valid while `zone`
// and msg.payload live.
UplinkPayload read_payload(const Message& msg, bool force_raw, msgpack::zone& zone);

// True for nil, bool, int, float and str.
bool is_scalar(const msgpack::object& o);

// The JSON form of a value: bin becomes {"raw_base64": "..."}, ints and
// floats numbers, non-finite floats null. Error "batch_format" for a map
// with duplicate or non-str keys, or an ext. Recursion is bounded by the
// depth check_msgpack enforced.
Result<JsonValue> json_from_msgpack(const msgpack::object& o);

// True when `s` is well-formed UTF-8 (no overlong forms, surrogates or code
// points above U+10FFFF).
bool valid_utf8(std::string_view s);

// Replaces every byte that does not start a well-formed UTF-8 sequence
// with U+FFFD; returns true when `s` changed.
bool sanitize_utf8(std::string& s);

}  // namespace foggate::protocols
