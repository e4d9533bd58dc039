#include "udp_drops.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <string>

namespace foggate::protocols {

uint64_t udp_receive_drops_in(std::string_view text, const std::vector<uint16_t>& ports) {
  uint64_t total = 0;
  std::size_t line_start = 0;
  bool header = true;
  while (line_start < text.size()) {
    std::size_t line_end = text.find('\n', line_start);
    if (line_end == std::string_view::npos) line_end = text.size();
    const std::string_view line = text.substr(line_start, line_end - line_start);
    line_start = line_end + 1;
    if (header) {  // "sl local_address rem_address ... drops"
      header = false;
      continue;
    }
    // Fields: sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
    std::vector<std::string_view> fields;
    for (std::size_t i = 0; i < line.size();) {
      while (i < line.size() && line[i] == ' ') ++i;
      const std::size_t j = std::min(line.find(' ', i), line.size());
      if (j > i) fields.push_back(line.substr(i, j - i));
      i = j;
    }
    if (fields.size() < 13) continue;
    const auto colon = fields[1].rfind(':');
    if (colon == std::string_view::npos) continue;
    unsigned port = 0;
    const auto hex = fields[1].substr(colon + 1);
    if (std::from_chars(hex.data(), hex.data() + hex.size(), port, 16).ec != std::errc{}) continue;
    if (std::find(ports.begin(), ports.end(), port) == ports.end()) continue;
    uint64_t drops = 0;
    const auto d = fields.back();
    if (std::from_chars(d.data(), d.data() + d.size(), drops).ec == std::errc{}) total += drops;
  }
  return total;
}

uint64_t udp_receive_drops(const std::vector<uint16_t>& ports) {
  uint64_t total = 0;
  for (const char* path : {"/proc/self/net/udp", "/proc/self/net/udp6"}) {
    std::ifstream in(path);
    if (!in) continue;
    std::ostringstream text;
    text << in.rdbuf();
    total += udp_receive_drops_in(text.str(), ports);
  }
  return total;
}

}  // namespace foggate::protocols
