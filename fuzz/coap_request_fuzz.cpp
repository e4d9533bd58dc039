// Fuzzes CoapServer's request handling end to end: each input is sent as one
// UDP datagram to a live server on 127.0.0.1, which libcoap parses and routes
// to CoapServer (path checks, Content-Format, Block1 reassembly, replies).
// A crash or sanitizer report is a bug; any answer, or none, is fine.
//
// One server and one client socket live for the whole run, so the server
// sees a single peer and libcoap keeps a single session for it. State
// therefore carries over between inputs (half-received Block1 bodies, at
// most 16 of them, each bounded by max_body_bytes), as it does for a real
// peer; a crash input may need the inputs before it to reproduce.
//
// CoapServer::poll(0) does not wait (it maps 0 to COAP_IO_NO_WAIT), and a
// datagram sent over loopback is queued before sendto() returns, so the
// first poll normally handles it; a few more polls are a cheap bound for
// inputs that get no answer.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <coap3/coap.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <utility>

#include "foggate/protocols/coap_server.h"

namespace {

using foggate::protocols::CoapOptions;
using foggate::protocols::CoapReply;
using foggate::protocols::CoapRequest;
using foggate::protocols::CoapServer;

// Small enough that fuzzed Size1 values and block offsets reach the 4.13 path.
constexpr std::size_t kMaxBody = 4096;
constexpr std::size_t kMaxDatagram = 1500;  // one Ethernet MTU
constexpr int kMaxPolls = 4;

[[noreturn]] void die(const char* what) {
  std::perror(what);
  std::abort();
}

// Gives every kind of reply so that every path of CoapServer runs:
// device "busy" -> 5.03, device "throw" -> handler exception (5.00),
// an empty body -> 4.00, metric "bad" -> 4.00 with the body as its
// diagnostic (long ones are truncated), else 2.04.
// It also checks what CoapServer promises the handler.
CoapReply handle(CoapRequest&& request) {
  if (request.device.empty() || request.device.size() > 128 || request.metric.size() > 128 ||
      request.body.size() > kMaxBody)
    __builtin_trap();
  if (request.device == "busy") return {CoapReply::Code::kServiceUnavailable, {}};
  if (request.device == "throw") throw std::runtime_error("fuzz handler");
  if (request.body.empty()) return {CoapReply::Code::kBadRequest, "empty body"};
  if (request.metric == "bad") return {CoapReply::Code::kBadRequest, std::move(request.body)};
  return {CoapReply::Code::kChanged, {}};
}

struct Harness {
  Harness() : server(options(), &handle) {
    if (auto opened = server.open(); !opened) {
      std::fprintf(stderr, "coap_request_fuzz: cannot open the CoAP server\n");
      std::abort();
    }
    // open() set libcoap's level to LOG_ERR; malformed input is expected here.
    coap_set_log_level(LOG_EMERG);

    client = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (client < 0) die("coap_request_fuzz: socket");
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(server.port());
    if (connect(client, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0)
      die("coap_request_fuzz: connect");
  }

  ~Harness() { close(client); }
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  static CoapOptions options() {
    CoapOptions o;
    o.bind = "127.0.0.1";
    o.port = 0;
    o.max_body_bytes = kMaxBody;
    return o;
  }

  // Reads every answer queued for the client; returns how many there were.
  int drain() {
    int n = 0;
    std::array<uint8_t, 2048> buf;
    while (recv(client, buf.data(), buf.size(), MSG_DONTWAIT) >= 0) ++n;
    // EAGAIN: nothing left. ECONNREFUSED and the like: nothing to read either.
    return n;
  }

  void run(const uint8_t* data, std::size_t size) {
    if (send(client, data, size, 0) < 0) {
      if (errno == ENOBUFS || errno == EAGAIN || errno == ECONNREFUSED) return;
      die("coap_request_fuzz: send");
    }
    for (int i = 0; i < kMaxPolls; ++i) {
      server.poll(0);
      if (drain() > 0) break;
    }
  }

  CoapServer server;
  int client = -1;  // connected to server.port()
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0 || size > kMaxDatagram) return 0;
  static Harness harness;
  harness.run(data, size);
  return 0;
}
