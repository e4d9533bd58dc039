#include "zlib_stream.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

#define ZLIB_CONST  // next_in becomes a pointer to const
#include <zlib.h>

namespace foggate::protocols {
namespace {

// avail_in / avail_out are 32-bit: larger buffers are fed in slices.
constexpr std::size_t kMaxSlice = std::numeric_limits<uInt>::max();
constexpr std::size_t kMinOutput = 16 * 1024;

Unexpected<Error> fail(const char* reason, std::string detail) {
  return unexpected(Error::permanent(reason, std::move(detail)));
}

std::string zlib_message(const z_stream& z, int rc) {
  if (z.msg != nullptr) return z.msg;
  return "zlib error " + std::to_string(rc);
}

// One z_stream in deflate or inflate mode; End() runs whatever happens.
class Deflater {
 public:
  explicit Deflater(int level) : rc_(deflateInit(&z_, level)) {}
  ~Deflater() {
    if (rc_ == Z_OK) deflateEnd(&z_);
  }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  int init_result() const { return rc_; }
  z_stream& get() { return z_; }

 private:
  z_stream z_{};
  int rc_;
};

class Inflater {
 public:
  Inflater() : rc_(inflateInit(&z_)) {}  // zlib format only, no gzip
  ~Inflater() {
    if (rc_ == Z_OK) inflateEnd(&z_);
  }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  int init_result() const { return rc_; }
  z_stream& get() { return z_; }

 private:
  z_stream z_{};
  int rc_;
};

// Hands the next slice of `data` to the stream once it has used the last.
void feed(z_stream& z, std::string_view data, std::size_t& fed) {
  if (z.avail_in != 0 || fed == data.size()) return;
  const std::size_t n = std::min(data.size() - fed, kMaxSlice);
  z.next_in = reinterpret_cast<const Bytef*>(data.data() + fed);
  z.avail_in = static_cast<uInt>(n);
  fed += n;
}

}  // namespace

Result<std::string> zlib_compress(std::string_view data, int level) {
  if (level < -1 || level > 9) return fail("zlib", "compression level " + std::to_string(level));
  Deflater d(level);
  if (d.init_result() != Z_OK) {
    return fail("zlib", "deflateInit: " + zlib_message(d.get(), d.init_result()));
  }
  z_stream& z = d.get();
  std::string out(std::max<std::size_t>(deflateBound(&z, data.size()), 64), '\0');
  std::size_t fed = 0;
  std::size_t used = 0;
  for (;;) {
    feed(z, data, fed);
    if (used == out.size()) out.resize(out.size() * 2);
    const std::size_t room = std::min(out.size() - used, kMaxSlice);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    z.avail_out = static_cast<uInt>(room);
    const int flush = (fed == data.size()) ? Z_FINISH : Z_NO_FLUSH;
    const int rc = deflate(&z, flush);
    used += room - z.avail_out;
    if (rc == Z_STREAM_END) break;
    if (rc != Z_OK && rc != Z_BUF_ERROR) return fail("zlib", "deflate: " + zlib_message(z, rc));
  }
  out.resize(used);
  return out;
}

// Hazard: a few KB of deflate can claim gigabytes (a "zip bomb"), so the
// output buffer grows only on demand and never past max_output + 1 bytes:
// the extra byte is how we learn the stream would go on. Trailing bytes after
// Z_STREAM_END are an error rather than ignored, so that a batch is exactly
// one stream and two concatenated batches cannot pass as one.
Result<std::string> zlib_decompress(std::string_view data, std::size_t max_output) {
  Inflater inf;
  if (inf.init_result() != Z_OK) {
    return fail("zlib", "inflateInit: " + zlib_message(inf.get(), inf.init_result()));
  }
  z_stream& z = inf.get();
  const std::size_t cap =
      max_output == std::numeric_limits<std::size_t>::max() ? max_output : max_output + 1;
  std::string out(std::min(cap, std::max(kMinOutput, data.size() * 4)), '\0');
  std::size_t fed = 0;
  std::size_t used = 0;
  for (;;) {
    feed(z, data, fed);
    if (used == out.size()) {
      if (out.size() >= cap) break;  // full at the cap: too large
      out.resize(std::min(cap, out.size() * 2));
    }
    const std::size_t room = std::min(out.size() - used, kMaxSlice);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    z.avail_out = static_cast<uInt>(room);
    const int rc = inflate(&z, Z_NO_FLUSH);
    used += room - z.avail_out;
    if (rc == Z_STREAM_END) {
      if (z.avail_in != 0 || fed != data.size()) {
        return fail("zlib", std::to_string(z.avail_in + (data.size() - fed)) +
                                " bytes after the end of the zlib stream");
      }
      break;
    }
    if (rc == Z_NEED_DICT) return fail("zlib", "stream needs a preset dictionary");
    if (rc == Z_BUF_ERROR && z.avail_in == 0 && fed == data.size()) {
      return fail("zlib", "truncated stream");
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) return fail("zlib", zlib_message(z, rc));
  }
  if (used > max_output) {
    return fail("too_large", "inflates to more than " + std::to_string(max_output) + " bytes");
  }
  out.resize(used);
  return out;
}

}  // namespace foggate::protocols
