// zlib (RFC 1950) compression for the uplink batch format, with a hard cap
// on what inflation may produce. The z_stream handle is wrapped once, here;
// nothing else in the tree includes zlib.h. Private to the uplink_format
// module.
//
// Thread-safety: free functions, no shared state.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "foggate/base/result.h"

namespace foggate::protocols {

// Compresses `data` into one zlib stream. `level` is zlib's: 0 (store) to 9
// (best), or -1 for zlib's default (6). Error "zlib" for a bad level or when
// zlib runs out of memory.
Result<std::string> zlib_compress(std::string_view data, int level);

// Inflates exactly one zlib stream that spans all of `data`. Never holds
// more than max_output + 1 bytes of output, whatever the input claims.
// Errors: "zlib" (not a zlib stream, corrupt, truncated, a preset
// dictionary, or bytes after the end of the stream), "too_large" (the
// stream inflates to more than max_output bytes).
Result<std::string> zlib_decompress(std::string_view data, std::size_t max_output);

}  // namespace foggate::protocols
