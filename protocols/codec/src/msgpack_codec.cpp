#include "msgpack_codec.h"

#include <cstdint>
#include <exception>
#include <string>

#include <msgpack.hpp>

namespace foggate::protocols {
namespace {

// Strings, bin and ext then point into the caller's buffer instead of being
// copied into the zone: the buffer outlives the object tree here.
bool reference_all(msgpack::type::object_type, std::size_t, void*) { return true; }

const char* type_name(msgpack::type::object_type t) {
  switch (t) {
    case msgpack::type::NIL: return "nil";
    case msgpack::type::BOOLEAN: return "bool";
    case msgpack::type::POSITIVE_INTEGER:
    case msgpack::type::NEGATIVE_INTEGER: return "int";
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64: return "float";
    case msgpack::type::STR: return "str";
    case msgpack::type::BIN: return "bin";
    case msgpack::type::ARRAY: return "array";
    case msgpack::type::MAP: return "map";
    case msgpack::type::EXT: return "ext";
  }
  return "unknown";
}

Unexpected<Error> fail(const char* reason, std::string detail) {
  return unexpected(Error::permanent(reason, std::move(detail)));
}

// Iterative, like the JSON reader, so stack use never depends on input or
// on how high max_depth is configured.
Result<void> walk_map(const msgpack::object& root, const DecodeOptions& options,
                      std::vector<Field>& fields) {
  struct Frame {
    const msgpack::object_kv* kv;
    uint32_t size;
    uint32_t next;
    std::size_t prefix;  // length of `name` up to this map's own key
  };
  std::vector<Frame> stack;
  stack.push_back({root.via.map.ptr, root.via.map.size, 0, 0});
  std::string name;
  while (!stack.empty()) {
    Frame& frame = stack.back();
    if (frame.next == frame.size) {
      stack.pop_back();
      continue;
    }
    const msgpack::object_kv& kv = frame.kv[frame.next++];
    name.resize(frame.prefix);
    if (kv.key.type != msgpack::type::STR) {
      return fail("msgpack_syntax", std::string("map key of type ") + type_name(kv.key.type) +
                                        (stack.size() == 1 ? " at top level" : " under " + name));
    }
    if (stack.size() > 1) name += '.';
    name.append(kv.key.via.str.ptr, kv.key.via.str.size);

    const msgpack::object& v = kv.val;
    Field field;
    switch (v.type) {
      case msgpack::type::MAP:
        stack.push_back({v.via.map.ptr, v.via.map.size, 0, name.size()});  // invalidates `frame`
        continue;
      case msgpack::type::POSITIVE_INTEGER: field.value = static_cast<double>(v.via.u64); break;
      case msgpack::type::NEGATIVE_INTEGER: field.value = static_cast<double>(v.via.i64); break;
      case msgpack::type::FLOAT32:
      case msgpack::type::FLOAT64: field.value = v.via.f64; break;
      case msgpack::type::BOOLEAN: field.value = v.via.boolean; break;
      case msgpack::type::STR: field.value = std::string(v.via.str.ptr, v.via.str.size); break;
      default: continue;  // arrays, nil, bin and ext are not fields
    }
    if (fields.size() >= options.max_fields) {
      return fail("too_many_fields", "more than " + std::to_string(options.max_fields) + " fields");
    }
    field.name = name;
    fields.push_back(std::move(field));
  }
  return {};
}

}  // namespace

// Hazard: msgpack-c allocates an array or map's element storage as soon as it
// reads the header, before any element arrives, so a 5-byte payload
// declaring 2^32-1 elements would ask for ~100 GB. The limits below make it
// throw instead. Every array element takes at least one byte, so an array
// longer than the payload is malformed; maps are held to max_fields entries
// (a cheap early bound: an over-long map is rejected as "too_many_fields"
// even if some of its entries are arrays or nil). What stays allocatable is
// at most max_depth open arrays of payload length, a few MB at the defaults.
Result<void> msgpack_to_fields(std::string_view bytes, const DecodeOptions& options,
                               std::vector<Field>& fields) {
  const msgpack::unpack_limit limit(bytes.size(), options.max_fields, options.max_string,
                                    options.max_string, options.max_string, options.max_depth);
  std::size_t off = 0;
  msgpack::object_handle handle;
  try {
    handle = msgpack::unpack(bytes.data(), bytes.size(), off, reference_all, nullptr, limit);
  } catch (const msgpack::depth_size_overflow&) {
    return fail("too_deep", "nesting deeper than " + std::to_string(options.max_depth));
  } catch (const msgpack::map_size_overflow&) {
    return fail("too_many_fields", "map with more than " + std::to_string(options.max_fields) +
                                       " entries");
  } catch (const msgpack::array_size_overflow&) {
    return fail("msgpack_syntax", "array longer than the payload");
  } catch (const msgpack::size_overflow&) {  // str, bin, ext
    return fail("too_large", "string longer than " + std::to_string(options.max_string) + " bytes");
  } catch (const msgpack::insufficient_bytes&) {
    return fail("msgpack_syntax", "truncated");
  } catch (const std::exception& e) {  // parse_error, bad_alloc, anything else
    return fail("msgpack_syntax", e.what());
  }
  if (off == 0) return fail("msgpack_syntax", "no object");
  const msgpack::object& root = handle.get();
  if (root.type != msgpack::type::MAP) {
    return fail("not_an_object", std::string("top level is ") + type_name(root.type));
  }
  if (off != bytes.size()) {
    return fail("msgpack_syntax",
                std::to_string(bytes.size() - off) + " trailing bytes after the map");
  }
  return walk_map(root, options, fields);
}

}  // namespace foggate::protocols
