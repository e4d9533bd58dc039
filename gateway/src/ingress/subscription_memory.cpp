#include "ingress/subscription_memory.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "foggate/base/log.h"
#include "foggate/protocols/json.h"

namespace foggate::gateway {

SubscriptionMemory::SubscriptionMemory(std::string data_dir) : path_(std::move(data_dir) + "/ingest-subscriptions.json") {
  std::ifstream in(path_, std::ios::binary);
  if (!in) return;  // first start
  const std::string text(std::istreambuf_iterator<char>(in), {});
  auto doc = protocols::parse_json(text);
  if (!doc || !doc->is_object()) {
    log::warn("ingest-mqtt", "subscription memory unreadable; stale filters are not cleaned up this time",
              {{"path", path_}});
    return;
  }
  for (const auto& [client, filters] : doc->members()) {
    if (!filters.is_array()) continue;
    auto& out = by_client_[client];
    for (const auto& f : filters.items())
      if (f.is_string()) out.push_back(f.as_string());
  }
}

std::vector<std::string> SubscriptionMemory::last(const std::string& client_id) const {
  auto it = by_client_.find(client_id);
  return it == by_client_.end() ? std::vector<std::string>{} : it->second;
}

bool SubscriptionMemory::remember(const std::string& client_id, std::vector<std::string> filters) {
  auto& slot = by_client_[client_id];
  if (slot == filters && std::filesystem::exists(path_)) return true;
  slot = std::move(filters);
  auto doc = protocols::JsonValue::object();
  for (const auto& [client, list] : by_client_) {
    auto arr = protocols::JsonValue::array();
    for (const auto& f : list) arr.push(protocols::JsonValue::string(f));
    doc.set(client, std::move(arr));
  }
  const std::string text = protocols::to_json(doc);
  const std::string tmp = path_ + ".tmp";
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), ec);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  bool ok = fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  int err = ok ? 0 : errno;
  if (fd >= 0) ::close(fd);
  if (ok && ::rename(tmp.c_str(), path_.c_str()) != 0) {
    ok = false;
    err = errno;
  }
  if (!ok)
    log::warn_once("ingest-mqtt", "subscription_memory", "cannot record the ingest subscriptions",
                   {{"path", path_}, {"error", std::strerror(err)}});
  return ok;
}

}  // namespace foggate::gateway
