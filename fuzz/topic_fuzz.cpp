// Fuzzes the topic functions. Input: filter/pattern, a NUL byte, topic/text
// (no NUL: the whole input is the filter, topic empty).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "foggate/message/topic.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::size_t nul = in.find('\0');
  std::string_view filter = in.substr(0, nul);
  std::string_view topic = nul == std::string_view::npos ? std::string_view{} : in.substr(nul + 1);

  bool matched = foggate::topic_matches(filter, topic);
  bool valid = foggate::valid_topic_filter(filter);
  // A filter without wildcards or $share matches only the identical topic.
  if (valid && matched && filter.find_first_of("+#") == std::string_view::npos &&
      !filter.starts_with("$share/") && filter != topic)
    __builtin_trap();

  foggate::TopicCaptures caps;
  if (foggate::extract_topic(filter, topic, caps)) {
    // Captures are views into the topic.
    for (std::string_view c : {caps.device, caps.metric})
      if (!c.empty() && (c.data() < topic.data() || c.data() + c.size() > topic.data() + topic.size()))
        __builtin_trap();
  }
  (void)foggate::glob_matches(filter, topic);
  return 0;
}
