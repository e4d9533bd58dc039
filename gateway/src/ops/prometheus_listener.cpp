#include "ops/prometheus_listener.h"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "foggate/base/log.h"
#include "foggate/base/this_thread.h"
#include "ops/prometheus_text.h"

namespace foggate::gateway {
namespace {

// Socket deadlines are real time, not the injected Clock: they bound what
// a peer can make this thread wait for, which a manual clock cannot.
using Steady = std::chrono::steady_clock;

// A connected socket, closed when it goes out of scope.
class Connection {
 public:
  explicit Connection(int fd) : fd_(fd) {}
  ~Connection() { ::close(fd_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

enum class Wait { kReady, kTimeout, kStopped, kError };

// Waits for `events` until `deadline`, in slices short enough that stop()
// is noticed within ~100 ms.
Wait wait_for(int fd, short events, Steady::time_point deadline, const std::stop_token& stop) {
  while (true) {
    if (stop.stop_requested()) return Wait::kStopped;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now()).count();
    if (left <= 0) return Wait::kTimeout;
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 100)));
    if (n < 0 && errno != EINTR) return Wait::kError;
    if (n > 0) return (p.revents & (POLLERR | POLLNVAL)) != 0 ? Wait::kError : Wait::kReady;
  }
}

Wait send_all(int fd, std::string_view data, Steady::time_point deadline, const std::stop_token& stop) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return Wait::kError;
    if (auto w = wait_for(fd, POLLOUT, deadline, stop); w != Wait::kReady) return w;
  }
  return Wait::kReady;
}

std::string response(int code, std::string_view reason, std::string_view content_type, std::string_view body,
                     bool head_only, std::string_view extra_header = {}) {
  std::string out = "HTTP/1.1 " + std::to_string(code) + " ";
  out += reason;
  out += "\r\nContent-Type: ";
  out += content_type;
  out += "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  out += extra_header;
  out += "Connection: close\r\n\r\n";
  if (!head_only) out += body;
  return out;
}

}  // namespace

PrometheusListener::PrometheusListener(PrometheusOptions options, Render render, PrometheusLimits limits)
    : options_(std::move(options)), render_(std::move(render)), limits_(limits) {}

PrometheusListener::~PrometheusListener() { stop(); }

Result<void> PrometheusListener::start() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string where = options_.bind + " port " + std::to_string(options_.port);
  if (int rc = ::getaddrinfo(options_.bind.c_str(), std::to_string(options_.port).c_str(), &hints, &found); rc != 0)
    return unexpected(Error::permanent("prometheus_bind", where + ": " + ::gai_strerror(rc)));
  const int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  std::string failure;
  if (fd < 0) {
    failure = std::string("socket: ") + std::strerror(errno);
  } else {
    const int on = 1;
    (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (::bind(fd, found->ai_addr, found->ai_addrlen) != 0) failure = std::string("bind: ") + std::strerror(errno);
    else if (::listen(fd, 16) != 0) failure = std::string("listen: ") + std::strerror(errno);
  }
  ::freeaddrinfo(found);
  if (!failure.empty()) {
    if (fd >= 0) ::close(fd);
    return unexpected(Error::permanent("prometheus_bind", where + ": " + failure));
  }
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port_ = ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                             : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  }
  listen_fd_ = fd;
  thread_ = std::jthread([this](std::stop_token st) { run(st); });
  return {};
}

void PrometheusListener::stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
}

void PrometheusListener::run(std::stop_token stop) {
  name_this_thread("prometheus");
  while (!stop.stop_requested()) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED) continue;
      // Out of descriptors or memory: count, and do not spin on it.
      stats_.errors.add();
      log::warn_once("prometheus", "accept", "cannot accept a connection", {{"detail", std::strerror(errno)}});
      (void)::poll(nullptr, 0, 100);
      continue;
    }
    Connection c(fd);
    try {
      serve(c.fd(), stop);
    } catch (const std::exception& e) {
      stats_.errors.add();
      log::warn_once("prometheus", "serve", "request failed", {{"what", e.what()}});
    }
  }
}

void PrometheusListener::serve(int fd, const std::stop_token& stop) {
  auto deadline = Steady::now() + std::chrono::milliseconds(limits_.request_timeout_ms);
  std::string head;
  std::size_t end = std::string::npos;  // where the request head ends
  char buf[2048];
  while (end == std::string::npos) {
    if (head.size() >= limits_.max_request_bytes) break;
    const ssize_t n = ::recv(fd, buf, std::min(sizeof buf, limits_.max_request_bytes - head.size()), 0);
    if (n > 0) {
      // Search from just before the new bytes: a terminator may straddle reads.
      const std::size_t from = head.size() >= 3 ? head.size() - 3 : 0;
      head.append(buf, static_cast<std::size_t>(n));
      if (auto i = head.find("\r\n\r\n", from); i != std::string::npos) end = i;
      else if (auto j = head.find("\n\n", from); j != std::string::npos) end = j;
      continue;
    }
    if (n == 0) return stats_.closed.add();
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return stats_.errors.add();
    const auto w = wait_for(fd, POLLIN, deadline, stop);
    if (w == Wait::kTimeout) return stats_.timeout.add();
    if (w == Wait::kError) return stats_.errors.add();
    if (w == Wait::kStopped) return;
  }

  std::string reply;
  constexpr std::string_view kText = "text/plain; charset=utf-8";
  if (end == std::string::npos) {
    stats_.too_large.add();
    reply = response(431, "Request Header Fields Too Large", kText, "request head too large\n", false);
  } else {
    // Request line: METHOD SP target SP HTTP/1.x
    std::string_view line(head.data(), head.find('\n'));
    if (line.ends_with('\r')) line.remove_suffix(1);
    const auto sp1 = line.find(' ');
    const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    const bool parsed = sp2 != std::string_view::npos && sp1 > 0 && line.find(' ', sp2 + 1) == std::string_view::npos &&
                        line.substr(sp2 + 1).starts_with("HTTP/1.") && sp2 > sp1 + 1 && line[sp1 + 1] == '/';
    if (!parsed) {
      stats_.bad_request.add();
      reply = response(400, "Bad Request", kText, "bad request\n", false);
    } else {
      const auto method = line.substr(0, sp1);
      auto target = line.substr(sp1 + 1, sp2 - sp1 - 1);
      target = target.substr(0, target.find('?'));
      const bool head_only = method == "HEAD";
      if (method != "GET" && !head_only) {
        stats_.method_not_allowed.add();
        reply = response(405, "Method Not Allowed", kText, "only GET and HEAD\n", false, "Allow: GET, HEAD\r\n");
      } else if (target != "/metrics") {
        stats_.not_found.add();
        reply = response(404, "Not Found", kText, "not found; try /metrics\n", head_only);
      } else {
        std::string body;
        try {
          body = render_();
        } catch (const std::exception& e) {
          stats_.errors.add();
          log::warn_once("prometheus", "render", "cannot render the metrics", {{"what", e.what()}});
          reply = response(500, "Internal Server Error", kText, "cannot render the metrics\n", head_only);
        }
        if (reply.empty()) {
          stats_.ok.add();
          reply = response(200, "OK", kPrometheusContentType, body, head_only);
        }
      }
    }
  }

  deadline = Steady::now() + std::chrono::milliseconds(limits_.request_timeout_ms);
  const auto w = send_all(fd, reply, deadline, stop);
  if (w == Wait::kTimeout) return stats_.timeout.add();
  if (w == Wait::kError) return stats_.errors.add();
  if (w == Wait::kStopped) return;
  // Take what the client still sends (a body we never read) for a moment,
  // so closing does not reset the connection before it reads the reply.
  (void)::shutdown(fd, SHUT_WR);
  const auto drain_until = Steady::now() + std::chrono::milliseconds(200);
  for (std::size_t drained = 0; drained < 65536;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      drained += static_cast<std::size_t>(n);
      continue;
    }
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) break;
    if (wait_for(fd, POLLIN, drain_until, stop) != Wait::kReady) break;
  }
}

void PrometheusListener::collect(MetricSink& out) const {
  const std::pair<const char*, const Counter*> outcomes[] = {
      {"ok", &stats_.ok},
      {"not_found", &stats_.not_found},
      {"method_not_allowed", &stats_.method_not_allowed},
      {"bad_request", &stats_.bad_request},
      {"too_large", &stats_.too_large},
      {"timeout", &stats_.timeout},
      {"closed", &stats_.closed},
      {"error", &stats_.errors}};
  for (const auto& [outcome, c] : outcomes)
    out.push_back({"prometheus_requests_total", {{"outcome", outcome}}, static_cast<double>(c->value())});
}

}  // namespace foggate::gateway
