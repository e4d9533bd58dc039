// The msgpack half of decode_payload: walks one msgpack map into flattened
// scalar fields. Private to the codec module; payload_decoder.cpp is
// its only caller and owns the Message.
//
// Thread-safety: a free function, no shared state.
#pragma once

#include <string_view>
#include <vector>

#include "foggate/base/result.h"
#include "foggate/message/message.h"
#include "foggate/protocols/payload_decoder.h"

namespace foggate::protocols {

// Decodes exactly one msgpack map spanning all of `bytes` and appends its
// scalar entries to `fields` (nested map keys joined by '.', arrays, nil,
// bin and ext skipped, integers as doubles). Errors use decode_payload's
// reasons: "msgpack_syntax", "not_an_object", "too_deep", "too_many_fields",
// "too_large" (a string longer than max_string). `fields` may be partly
// filled on error; the caller clears it.
Result<void> msgpack_to_fields(std::string_view bytes, const DecodeOptions& options,
                               std::vector<Field>& fields);

}  // namespace foggate::protocols
