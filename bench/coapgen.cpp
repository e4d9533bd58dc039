// foggate-coapgen: a paced CoAP load from many simulated devices (S7 in
// scripts/bench.sh): POST /sensors/dev-<i>/temp with a JSON reading, NON or
// CON, over plain UDP sockets, and the answers counted by code.
//
//   foggate-coapgen --port P [--host 127.0.0.1] --devices 1000 --rate 10000 --seconds 5
//       [--type non|con] [--clients 4] [--drain-seconds 2]
//   foggate-coapgen --port P --burst 500 [--type con] [--clients 1] ...
//
// Each client is one UDP socket (one source port) on its own thread, sending
// every millisecond what is due and reading answers in between; devices are
// spread over the clients. --burst N instead sends N requests in all (split
// over the clients), each client its share back to back as fast as send()
// returns, then only reads answers: what a gateway's socket sees when many
// devices wake at once (--rate and --seconds are ignored; the rates printed
// are per burst). Requests are written by hand (RFC 7252: 4-byte
// header, 4-byte token, Uri-Path and Content-Format options, payload), so
// the generator costs little next to the server. Nothing is retransmitted:
// a CON request without an answer counts as unanswered. Prints one RESULT
// line: sent, answers by code (2.04, 5.03, other), unanswered, rates, and
// the answer latency. Measures, asserts nothing.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "loadgen_stats.h"

namespace {

using Steady = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  int port = 5683;
  uint32_t devices = 1000;
  double rate = 1000;
  double seconds = 5;
  bool confirmable = false;
  uint32_t clients = 4;
  double drain_seconds = 2;
  uint64_t burst = 0;  // requests sent back to back instead of paced; 0 = paced
};

struct Tally {
  uint64_t sent = 0, ok = 0, overloaded = 0, other = 0;
  foggate::bench::LatencySet latency;
};

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(Steady::now().time_since_epoch()).count();
}

void put_option(std::string& out, unsigned delta, std::string_view value) {
  // Deltas and lengths here are all below 13: one nibble each.
  out.push_back(static_cast<char>((delta << 4) | value.size()));
  out.append(value);
}

// One request; the token is the request's index in this client's table.
std::string request(bool con, uint16_t mid, uint32_t token, const std::string& device, uint32_t seq) {
  std::string m;
  m.push_back(static_cast<char>(0x40 | (con ? 0x00 : 0x10) | 4));  // ver 1, type, TKL 4
  m.push_back(0x02);                                                // POST
  m.push_back(static_cast<char>(mid >> 8));
  m.push_back(static_cast<char>(mid & 0xff));
  for (int i = 3; i >= 0; --i) m.push_back(static_cast<char>((token >> (8 * i)) & 0xff));
  put_option(m, 11, "sensors");  // Uri-Path
  put_option(m, 0, device);
  put_option(m, 0, "temp");
  put_option(m, 1, std::string(1, '\x32'));  // Content-Format 50: application/json
  m.push_back(static_cast<char>(0xff));
  char body[96];
  const int n = std::snprintf(body, sizeof body, R"({"t":%.2f,"seq":%u,"ts":%lld})", 20.0 + (seq % 100) / 10.0, seq,
                              static_cast<long long>(now_us() / 1000));
  m.append(body, static_cast<std::size_t>(n));
  return m;
}

void run_client(const Options& o, uint32_t index, Steady::time_point start, Steady::time_point end, Tally& out,
                std::mutex& mu) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return;
  // Room for a burst's answers, which arrive while the burst is still being
  // sent: an answer lost here would count as a request lost at the server.
  // FORCE passes net.core.rmem_max where we may (root in a bench container).
  const int buf = 4 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) != 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(o.port));
  inet_pton(AF_INET, o.host.c_str(), &to.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    close(fd);
    return;
  }
  std::vector<uint32_t> mine;
  for (uint32_t d = index; d < o.devices; d += o.clients) mine.push_back(d);
  if (mine.empty()) {
    close(fd);
    return;
  }
  const double per_us = o.rate / o.clients / 1e6;
  std::vector<int64_t> sent_at;  // by token
  std::vector<uint32_t> seqs(mine.size(), 0);
  Tally t;
  std::size_t answered = 0;
  char rx[1500];
  auto read_answers = [&] {
    while (true) {
      const ssize_t n = recv(fd, rx, sizeof rx, MSG_DONTWAIT);
      if (n < 8) return;
      const int64_t now = now_us();
      const auto code = static_cast<unsigned char>(rx[1]);
      if (code == 0) continue;  // an empty ACK: a separate answer follows
      uint32_t token = 0;
      for (int i = 0; i < 4; ++i) token = (token << 8) | static_cast<unsigned char>(rx[4 + i]);
      if (token >= sent_at.size() || sent_at[token] == 0) continue;  // duplicate or unknown
      t.latency.add(now - sent_at[token]);
      sent_at[token] = 0;
      ++answered;
      if (code == 0x44) ++t.ok;               // 2.04 Changed
      else if (code == 0xa3) ++t.overloaded;  // 5.03 Service Unavailable
      else ++t.other;
    }
  };
  const auto start_us = now_us() + std::chrono::duration_cast<std::chrono::microseconds>(start - Steady::now()).count();
  std::this_thread::sleep_until(start);
  std::size_t next_device = 0;
  // This client's share of a burst, all due at once.
  const uint64_t burst_share = o.burst / o.clients + (index < o.burst % o.clients ? 1 : 0);
  bool burst_sent = false;
  while (o.burst > 0 ? !burst_sent : Steady::now() < end) {
    const auto due = o.burst > 0 ? burst_share
                                 : static_cast<uint64_t>(static_cast<double>(now_us() - start_us) * per_us);
    burst_sent = true;
    while (t.sent < due) {
      const std::size_t k = next_device++ % mine.size();
      const auto token = static_cast<uint32_t>(sent_at.size());
      const std::string msg = request(o.confirmable, static_cast<uint16_t>(t.sent), token,
                                      "dev-" + std::to_string(mine[k]), seqs[k]++);
      sent_at.push_back(now_us());
      if (send(fd, msg.data(), msg.size(), 0) < 0) sent_at.back() = 0;  // refused locally: unanswered
      ++t.sent;
    }
    read_answers();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  const auto drain_until = Steady::now() + std::chrono::duration<double>(o.drain_seconds);
  while (answered < t.sent && Steady::now() < drain_until) {
    read_answers();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  close(fd);
  std::lock_guard lock(mu);
  out.sent += t.sent;
  out.ok += t.ok;
  out.overloaded += t.overloaded;
  out.other += t.other;
  for (double p = 0; p < 1; p += 1.0 / 1000)  // keep a summary, not every sample
    if (t.latency.size() > 0) out.latency.add(t.latency.percentile(p));
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    const double num = std::atof(v.c_str());
    if (a == "--host") o.host = v;
    else if (a == "--port") o.port = static_cast<int>(num);
    else if (a == "--devices") o.devices = static_cast<uint32_t>(std::max(1.0, num));
    else if (a == "--rate") o.rate = num;
    else if (a == "--seconds") o.seconds = num;
    else if (a == "--type" && (v == "non" || v == "con")) o.confirmable = v == "con";
    else if (a == "--clients") o.clients = static_cast<uint32_t>(std::max(1.0, num));
    else if (a == "--drain-seconds") o.drain_seconds = std::max(0.0, num);
    else if (a == "--burst") o.burst = static_cast<uint64_t>(std::max(0.0, num));
    else {
      std::fprintf(stderr,
                   "usage: foggate-coapgen --port P [--host H] --devices N --rate R --seconds S [--type non|con]\n"
                   "  [--clients N] [--drain-seconds S]\n"
                   "       foggate-coapgen --port P --burst N [--type non|con] [--clients N] [--drain-seconds S]\n");
      return 2;
    }
  }
  if (o.burst > 0) o.seconds = 1;  // only divides the rates printed below
  if (o.rate <= 0 || o.seconds <= 0 || o.port <= 0) {
    std::fprintf(stderr, "foggate-coapgen: --port, --rate and --seconds must be positive\n");
    return 2;
  }
  Tally total;
  std::mutex mu;
  const auto start = Steady::now() + std::chrono::milliseconds(50);
  const auto end = start + std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(o.seconds));
  {
    std::vector<std::jthread> threads;
    for (uint32_t c = 0; c < o.clients; ++c)
      threads.emplace_back([&, c] { run_client(o, c, start, end, total, mu); });
  }
  const uint64_t answered = total.ok + total.overloaded + total.other;
  std::printf("RESULT sent=%llu send_rate=%.0f ok=%llu ok_rate=%.0f overloaded=%llu other=%llu unanswered=%llu"
              " lat_p50_us=%lld lat_p99_us=%lld\n",
              static_cast<unsigned long long>(total.sent), static_cast<double>(total.sent) / o.seconds,
              static_cast<unsigned long long>(total.ok), static_cast<double>(total.ok) / o.seconds,
              static_cast<unsigned long long>(total.overloaded), static_cast<unsigned long long>(total.other),
              static_cast<unsigned long long>(total.sent - answered),
              static_cast<long long>(total.latency.percentile(0.5)), static_cast<long long>(total.latency.percentile(0.99)));
  return 0;
}
