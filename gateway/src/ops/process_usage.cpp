#include "ops/process_usage.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace foggate::gateway {

std::optional<ProcessUsage> read_process_usage() {
  std::ifstream stat("/proc/self/stat");
  std::string line;
  if (!std::getline(stat, line)) return std::nullopt;
  // The command name (field 2) may hold spaces: fields are counted after ')'.
  const auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  std::ifstream statm("/proc/self/statm");
  long long size_pages = 0, resident_pages = 0;
  if (!(statm >> size_pages >> resident_pages)) return std::nullopt;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  return ProcessUsage{static_cast<double>(utime + stime) / ticks,
                      resident_pages * static_cast<int64_t>(sysconf(_SC_PAGESIZE))};
}

}  // namespace foggate::gateway
