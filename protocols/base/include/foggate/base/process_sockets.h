// for_each_socket(): this process's socket descriptors, found in
// /proc/self/fd. Paho and libcoap open their sockets themselves and hand
// foggate no descriptor, yet foggate must set options on them (TCP_NODELAY,
// tcp_nodelay.h; the CoAP receive buffer, receive_buffer.h). Each caller
// then tells its sockets apart by what they are (getsockopt, getsockname).
//
// Hazard: another thread may close a descriptor, or open a new one under
// the same number, between the listing and the call. `f` must check what the
// descriptor is before changing it and tolerate calls that fail.
// Thread-safety: any thread. An unreadable /proc calls `f` for nothing.
#pragma once

#include <dirent.h>
#include <sys/stat.h>

#include <climits>
#include <cstdlib>
#include <memory>

namespace foggate {

template <typename F>
void for_each_socket(F&& f) {
  struct Closer {
    void operator()(DIR* d) const noexcept { closedir(d); }
  };
  std::unique_ptr<DIR, Closer> dir(opendir("/proc/self/fd"));
  if (!dir) return;
  const int own = dirfd(dir.get());
  while (const dirent* e = readdir(dir.get())) {
    char* end = nullptr;
    const long fd = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || fd > INT_MAX || fd == own) continue;  // "." and ".."
    struct stat st {};
    if (fstat(static_cast<int>(fd), &st) == 0 && S_ISSOCK(st.st_mode)) f(static_cast<int>(fd));
  }
}

}  // namespace foggate
