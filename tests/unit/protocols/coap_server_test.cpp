// CoapServer against the real libcoap client (coap-client-notls, libcoap3-bin)
// over loopback. The server runs on its own thread, as in the gateway; every
// client run is bounded by -B and a kill deadline, and tests wait for
// conditions, never for fixed sleeps.
#include "foggate/protocols/coap_server.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "eventually.h"
#include "free_port.h"

extern char** environ;

namespace foggate::protocols {
namespace {

using namespace std::chrono_literals;
constexpr const char* kClient = "coap-client-notls";

bool client_installed() {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin");
  for (std::string dir; std::getline(dirs, dir, ':');)
    if (!dir.empty() && access((dir + "/" + kClient).c_str(), X_OK) == 0) return true;
  return false;
}

struct ClientRun {
  std::string out;  // with -v 6: one line per PDU sent or received
  std::string err;  // "4.00 diagnostic" lines for error answers
};

// Runs coap-client-notls with `args` and collects its output. -B 5 bounds the
// client's own wait; the kill deadline bounds everything else.
ClientRun run_client(const std::vector<std::string>& args) {
  std::vector<std::string> full = {kClient, "-B", "5", "-v", "6"};
  full.insert(full.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : full) argv.push_back(a.data());
  argv.push_back(nullptr);

  int out_pipe[2], err_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) throw std::runtime_error("pipe");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]})
    posix_spawn_file_actions_addclose(&actions, fd);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, kClient, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);

  ClientRun run;
  if (rc == 0) {
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    std::string* sinks[2] = {&run.out, &run.err};
    int open_fds = 2;
    while (open_fds > 0 && std::chrono::steady_clock::now() < deadline) {
      if (::poll(fds, 2, 100) <= 0) continue;
      for (int i = 0; i < 2; ++i) {
        if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        char buf[4096];
        ssize_t n = read(fds[i].fd, buf, sizeof buf);
        if (n > 0) {
          sinks[i]->append(buf, static_cast<std::size_t>(n));
        } else {
          fds[i].fd = -1;
          --open_fds;
        }
      }
    }
    if (open_fds > 0) kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
  }
  close(out_pipe[0]);
  close(err_pipe[0]);
  return run;
}

// The last PDU line with a numeric code, i.e. the final response:
//   v:1 t:ACK c:2.04 i:5006 {01} [ Max-Age:7 ]
std::string response_line(const std::string& out) {
  std::istringstream lines(out);
  std::string found;
  for (std::string line; std::getline(lines, line);) {
    auto c = line.find(" c:");
    if (line.rfind("v:1 ", 0) == 0 && c != std::string::npos && c + 3 < line.size() &&
        std::isdigit(static_cast<unsigned char>(line[c + 3])))
      found = line;
  }
  return found;
}

std::string code_of(const ClientRun& run) {
  const std::string line = response_line(run.out);
  auto c = line.find(" c:");
  return c == std::string::npos ? "none" : line.substr(c + 3, 4);
}

using testing_support::eventually;

// A printable body whose every offset is distinguishable, so a reordered or
// duplicated block shows up as a mismatch.
std::string pattern_body(std::size_t n) {
  std::string body(n, ' ');
  for (std::size_t i = 0; i < n; ++i) body[i] = static_cast<char>('a' + (i * 7 + i / 64) % 26);
  return body;
}

class CoapServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!client_installed()) GTEST_SKIP() << kClient << " not installed (libcoap3-bin)";
  }

  // Construct, open and poll the server on its own thread; the port and the
  // stats come back through a promise.
  void start(CoapOptions options = {}) {
    options.bind = "127.0.0.1";
    options.port = testing_support::free_loopback_port(SOCK_DGRAM);  // not 0: see free_port.h
    std::promise<std::pair<uint16_t, const CoapStats*>> ready;
    auto started = ready.get_future();
    server_ = std::jthread([this, options, ready = std::move(ready)](std::stop_token stop) mutable {
      CoapServer server(options, [this](CoapRequest&& r) { return handle(std::move(r)); });
      if (!server.open()) {
        ready.set_value({0, nullptr});
        return;
      }
      ready.set_value({server.port(), &server.stats()});
      while (!stop.stop_requested()) server.poll(20);
    });
    // Thrown, not ASSERTed: a fatal failure in a helper would not stop the test.
    if (started.wait_for(10s) != std::future_status::ready)
      throw std::runtime_error("server thread did not start");
    std::tie(port_, stats_) = started.get();
    if (port_ == 0) throw std::runtime_error("server did not open");
  }

  // Device names choose the handler's answer.
  CoapReply handle(CoapRequest&& request) {
    std::string device = request.device;
    {
      std::lock_guard lock(mu_);
      seen_.push_back(std::move(request));
    }
    if (device == "bad") return {CoapReply::Code::kBadRequest, "reading out of range"};
    if (device == "busy") return {CoapReply::Code::kServiceUnavailable, {}};
    if (device == "boom") throw std::runtime_error("handler exploded");
    return {};
  }

  std::vector<CoapRequest> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

  std::string uri(const std::string& path) const {
    return "coap://127.0.0.1:" + std::to_string(port_) + path;
  }

  ClientRun post(const std::string& path, std::vector<std::string> args = {}) {
    args.insert(args.begin(), {"-m", "post"});
    args.push_back(uri(path));
    return run_client(args);
  }

  std::string write_file(const std::string& body) {
    auto path = std::filesystem::temp_directory_path() /
                ("coap_server_test_" + std::to_string(getpid()) + "_" +
                 std::to_string(files_.size()));
    std::ofstream(path, std::ios::binary) << body;
    files_.push_back(path);
    return path.string();
  }

  void TearDown() override {
    server_ = {};  // stop and join before stats_ dangles
    for (auto& f : files_) std::filesystem::remove(f);
  }

  // Every final answer lands in exactly one outcome counter.
  void expect_counts_add_up() {
    const CoapStats& s = *stats_;
    EXPECT_EQ(s.requests.value(), s.accepted.value() + s.bad_request.value() +
                                      s.too_large.value() + s.overloaded.value() +
                                      s.not_found.value() + s.handler_errors.value());
  }

  uint16_t port_ = 0;
  const CoapStats* stats_ = nullptr;
  std::mutex mu_;
  std::vector<CoapRequest> seen_;  // guarded by mu_
  std::vector<std::filesystem::path> files_;
  std::jthread server_;
};

TEST_F(CoapServerTest, ConfirmablePostIsAcceptedWithDeviceMetricFormatAndBody) {
  start();
  ClientRun run = post("/sensors/dev1/temp", {"-t", "50", "-e", R"({"t":1})"});
  EXPECT_EQ(code_of(run), "2.04") << run.out << run.err;
  EXPECT_NE(response_line(run.out).find("t:ACK"), std::string::npos);
  ASSERT_TRUE(eventually([&] { return stats_->accepted.value() == 1; }, 5s, 1ms));
  auto got = seen();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].device, "dev1");
  EXPECT_EQ(got[0].metric, "temp");
  EXPECT_EQ(got[0].format, PayloadFormat::kJson);
  EXPECT_EQ(got[0].body, R"({"t":1})");
  EXPECT_EQ(stats_->requests.value(), 1u);
}

TEST_F(CoapServerTest, NonConfirmablePostWithoutMetricMapsEachContentFormat) {
  start();
  EXPECT_EQ(code_of(post("/sensors/dev2", {"-N", "-t", "0", "-e", "21.5"})), "2.04");
  EXPECT_EQ(code_of(post("/sensors/dev2/raw", {"-N", "-t", "42", "-e", "x"})), "2.04");
  ClientRun run = post("/sensors/dev2/any", {"-N", "-e", "7"});
  EXPECT_EQ(code_of(run), "2.04");
  EXPECT_NE(response_line(run.out).find("t:NON"), std::string::npos) << run.out;
  ASSERT_TRUE(eventually([&] { return stats_->accepted.value() == 3; }, 5s, 1ms));
  auto got = seen();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].device, "dev2");
  EXPECT_EQ(got[0].metric, "");
  EXPECT_EQ(got[0].format, PayloadFormat::kNumber);
  EXPECT_EQ(got[0].body, "21.5");
  EXPECT_EQ(got[1].format, PayloadFormat::kMsgpack);
  EXPECT_EQ(got[2].format, PayloadFormat::kAuto);
  expect_counts_add_up();
}

TEST_F(CoapServerTest, HandlerBadRequestAnswers400WithDiagnostic) {
  start();
  ClientRun run = post("/sensors/bad/temp", {"-t", "50", "-e", "{}"});
  EXPECT_EQ(code_of(run), "4.00") << run.out;
  EXPECT_NE(run.err.find("4.00 reading out of range"), std::string::npos) << run.err;
  ASSERT_TRUE(eventually([&] { return stats_->bad_request.value() == 1; }, 5s, 1ms));
  expect_counts_add_up();
}

TEST_F(CoapServerTest, OverloadAnswers503WithMaxAge) {
  CoapOptions options;
  options.overload_max_age_s = 7;
  start(options);
  ClientRun run = post("/sensors/busy", {"-e", "1"});
  EXPECT_EQ(code_of(run), "5.03") << run.out;
  EXPECT_NE(response_line(run.out).find("Max-Age:7"), std::string::npos) << run.out;
  ASSERT_TRUE(eventually([&] { return stats_->overloaded.value() == 1; }, 5s, 1ms));
  expect_counts_add_up();
}

TEST_F(CoapServerTest, ThrowingHandlerAnswers500AndServerKeepsServing) {
  start();
  EXPECT_EQ(code_of(post("/sensors/boom", {"-e", "1"})), "5.00");
  EXPECT_EQ(code_of(post("/sensors/dev1", {"-e", "1"})), "2.04");
  ASSERT_TRUE(eventually([&] { return stats_->accepted.value() == 1; }, 5s, 1ms));
  EXPECT_EQ(stats_->handler_errors.value(), 1u);
  expect_counts_add_up();
}

TEST_F(CoapServerTest, BlockwiseBodyOverLimitAnswers413WithoutCallingHandler) {
  CoapOptions options;
  options.max_body_bytes = 1024;
  start(options);
  ClientRun run = post("/sensors/dev1/blob", {"-b", "64", "-f", write_file(pattern_body(4096))});
  EXPECT_EQ(code_of(run), "4.13") << run.out << run.err;
  EXPECT_NE(response_line(run.out).find("Size1:1024"), std::string::npos) << run.out;
  ASSERT_TRUE(eventually([&] { return stats_->too_large.value() == 1; }, 5s, 1ms));
  EXPECT_TRUE(seen().empty());
  // coap-client announces Size1, so the answer comes at block 0: exactly one
  // block was sent.
  EXPECT_EQ(run.out.find("Block1:1/"), std::string::npos) << run.out;
  expect_counts_add_up();
}

TEST_F(CoapServerTest, SingleDatagramBodyOverLimitAnswers413) {
  CoapOptions options;
  options.max_body_bytes = 16;
  start(options);
  EXPECT_EQ(code_of(post("/sensors/dev1", {"-e", std::string(32, 'x')})), "4.13");
  EXPECT_EQ(code_of(post("/sensors/dev1", {"-e", std::string(16, 'x')})), "2.04");
  ASSERT_TRUE(eventually([&] { return stats_->accepted.value() == 1; }, 5s, 1ms));
  EXPECT_EQ(stats_->too_large.value(), 1u);
  expect_counts_add_up();
}

TEST_F(CoapServerTest, BlockwiseBodyUnderLimitArrivesWhole) {
  CoapOptions options;
  options.max_body_bytes = 4096;
  start(options);
  const std::string body = pattern_body(3000);
  ClientRun run =
      post("/sensors/dev1/blob", {"-b", "64", "-t", "42", "-f", write_file(body)});
  EXPECT_EQ(code_of(run), "2.04") << run.out << run.err;
  ASSERT_TRUE(eventually([&] { return stats_->accepted.value() == 1; }, 5s, 1ms));
  auto got = seen();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].format, PayloadFormat::kMsgpack);
  EXPECT_EQ(got[0].body.size(), body.size());
  EXPECT_TRUE(got[0].body == body);
  EXPECT_EQ(stats_->requests.value(), 1u);  // one request, not one per block
}

TEST_F(CoapServerTest, NonConfirmableBlockwiseBodyArrivesWhole) {
  start();
  const std::string body = pattern_body(1000);
  ClientRun run = post("/sensors/dev3", {"-N", "-b", "128", "-f", write_file(body)});
  EXPECT_EQ(code_of(run), "2.04") << run.out << run.err;
  ASSERT_TRUE(eventually([&] { return stats_->accepted.value() == 1; }, 5s, 1ms));
  auto got = seen();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].body == body);
}

TEST_F(CoapServerTest, BlockwiseBodyWithoutBlockZeroAnswers408) {
  start();
  // -b 2,64: the client starts the transfer at block 2.
  ClientRun run = post("/sensors/dev1", {"-b", "2,64", "-f", write_file(pattern_body(500))});
  EXPECT_EQ(code_of(run), "4.08") << run.out << run.err;
  ASSERT_TRUE(eventually([&] { return stats_->bad_request.value() == 1; }, 5s, 1ms));
  EXPECT_TRUE(seen().empty());
  expect_counts_add_up();
}

TEST_F(CoapServerTest, OtherPathsAnswer404) {
  start();
  EXPECT_EQ(code_of(post("/other", {"-e", "1"})), "4.04");
  EXPECT_EQ(code_of(post("/sensors", {"-e", "1"})), "4.04");
  EXPECT_EQ(code_of(post("/sensors/a/b/c", {"-e", "1"})), "4.04");
  // At least three: on a loaded machine a client may retransmit its CON
  // request before our ACK reaches it, and libcoap hands the copy to the
  // handler again (it keeps no duplicate cache for us). What must hold is
  // that every request counted was a 4.04.
  ASSERT_TRUE(eventually([&] { return stats_->not_found.value() >= 3; }, 5s, 1ms))
      << "not_found " << stats_->not_found.value();
  EXPECT_EQ(stats_->requests.value(), stats_->not_found.value());
  EXPECT_TRUE(seen().empty());
  expect_counts_add_up();
}

TEST_F(CoapServerTest, OtherMethodsOnSensorsAnswer405) {
  start();
  EXPECT_EQ(code_of(run_client({"-m", "get", uri("/sensors/dev1")})), "4.05");
  EXPECT_EQ(code_of(run_client({"-m", "put", "-e", "1", uri("/sensors/dev1/t")})), "4.05");
  EXPECT_EQ(code_of(run_client({"-m", "delete", uri("/sensors")})), "4.05");
  ASSERT_TRUE(eventually([&] { return stats_->requests.value() == 3; }, 5s, 1ms));
  EXPECT_TRUE(seen().empty());
}

TEST_F(CoapServerTest, BadSegmentsAnswer400) {
  start();
  // coap-client drops URI segments longer than its path buffer, so long and
  // empty segments are sent as explicit Uri-Path options (11).
  auto post_segments = [&](const std::string& device, const std::string& metric) {
    return run_client({"-m", "post", "-e", "1", "-O", "11,sensors", "-O", "11," + device, "-O",
                       "11," + metric, "coap://127.0.0.1:" + std::to_string(port_)});
  };
  ClientRun run = post_segments(std::string(129, 'd'), "t");
  EXPECT_EQ(code_of(run), "4.00") << run.out;
  EXPECT_NE(run.err.find("128"), std::string::npos) << run.err;
  run = post_segments("dev1", "");
  EXPECT_EQ(code_of(run), "4.00") << run.out;
  EXPECT_NE(run.err.find("empty"), std::string::npos) << run.err;
  EXPECT_EQ(code_of(post_segments(std::string(128, 'd'), "t")), "2.04");
  ASSERT_TRUE(eventually([&] { return stats_->requests.value() == 3; }, 5s, 1ms));
  EXPECT_EQ(stats_->bad_request.value(), 2u);
  auto got = seen();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].device, std::string(128, 'd'));
}

TEST_F(CoapServerTest, UnsupportedContentFormatAnswers415) {
  start();
  EXPECT_EQ(code_of(post("/sensors/dev1", {"-t", "60", "-e", "1"})), "4.15");
  ASSERT_TRUE(eventually([&] { return stats_->bad_request.value() == 1; }, 5s, 1ms));
  EXPECT_TRUE(seen().empty());
  expect_counts_add_up();
}

TEST_F(CoapServerTest, WellKnownCoreListsSensors) {
  start();
  ClientRun run = run_client({"-m", "get", uri("/.well-known/core")});
  EXPECT_EQ(code_of(run), "2.05") << run.out;
  EXPECT_NE(run.out.find("</sensors>"), std::string::npos) << run.out;
}

TEST(CoapServerOpen, BindFailureIsReportedWithTheAddress) {
  CoapOptions options;
  options.bind = "192.0.2.1";  // TEST-NET-1: never a local address
  options.port = 0;
  CoapServer server(options, [](CoapRequest&&) { return CoapReply{}; });
  auto opened = server.open();
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().reason, "coap_bind");
  EXPECT_NE(opened.error().detail.find("192.0.2.1"), std::string::npos);
}

TEST(CoapServerOpen, PortZeroPicksAPortAndPollZeroDoesNotBlock) {
  CoapOptions options;
  options.bind = "127.0.0.1";
  options.port = 0;
  CoapServer server(options, [](CoapRequest&&) { return CoapReply{}; });
  ASSERT_TRUE(server.open());
  EXPECT_NE(server.port(), 0);
  const auto t0 = std::chrono::steady_clock::now();
  server.poll(0);  // libcoap's 0 would mean "forever"
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  EXPECT_FALSE(server.open());  // already open
}

}  // namespace
}  // namespace foggate::protocols
