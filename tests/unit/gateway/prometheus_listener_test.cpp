#include "ops/prometheus_listener.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "loopback_http.h"
#include "ops/prometheus_text.h"

namespace foggate::gateway {
namespace {

using namespace std::chrono_literals;

using testing_support::read_until_closed;

int connect_to(uint16_t port) { return testing_support::connect_loopback(port); }
std::string read_all(int fd, std::chrono::milliseconds timeout = 5s) { return read_until_closed(fd, timeout); }
std::string exchange(uint16_t port, const std::string& request) {
  return testing_support::http_exchange(port, request, 5s);
}

class PrometheusListenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    listener_ = std::make_unique<PrometheusListener>(
        PrometheusOptions{.enabled = true, .bind = "127.0.0.1", .port = 0},
        [this] {
          ++renders_;
          return std::string("# TYPE foggate_x_total counter\nfoggate_x_total 7\n");
        },
        PrometheusLimits{.request_timeout_ms = 300, .max_request_bytes = 1024});
    ASSERT_TRUE(listener_->start().has_value());
    ASSERT_NE(listener_->port(), 0);
  }
  std::unique_ptr<PrometheusListener> listener_;
  std::atomic<int> renders_{0};
};

TEST_F(PrometheusListenerTest, GetMetricsAnswersTheRenderedText) {
  const std::string r = exchange(listener_->port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(r.starts_with("HTTP/1.1 200 OK\r\n")) << r;
  EXPECT_NE(r.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"), std::string::npos) << r;
  EXPECT_NE(r.find("Content-Length: 49\r\n"), std::string::npos) << r;
  EXPECT_NE(r.find("Connection: close\r\n"), std::string::npos) << r;
  EXPECT_TRUE(r.ends_with("\r\n\r\n# TYPE foggate_x_total counter\nfoggate_x_total 7\n")) << r;
  // A query string and a bare-LF client are fine too.
  EXPECT_TRUE(exchange(listener_->port(), "GET /metrics?x=1 HTTP/1.0\n\n").starts_with("HTTP/1.1 200 OK"));
  const std::string head = exchange(listener_->port(), "HEAD /metrics HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(head.starts_with("HTTP/1.1 200 OK")) << head;
  EXPECT_TRUE(head.ends_with("\r\n\r\n")) << "HEAD has no body";
  EXPECT_EQ(listener_->stats().ok.value(), 3u);
}

TEST_F(PrometheusListenerTest, WrongRequestsAreRefusedAndCounted) {
  EXPECT_TRUE(exchange(listener_->port(), "GET / HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404 Not Found"));
  EXPECT_TRUE(exchange(listener_->port(), "GET /metricsx HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404"));
  const std::string post = exchange(listener_->port(), "POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_TRUE(post.starts_with("HTTP/1.1 405 Method Not Allowed")) << post;
  EXPECT_NE(post.find("Allow: GET, HEAD\r\n"), std::string::npos);
  for (const char* bad : {"\x16\x03\x01\x02\x05\r\n\r\n", "GET\r\n\r\n", "GET /metrics\r\n\r\n",
                          "GET /metrics HTTP/1.1 extra\r\n\r\n", "GET metrics HTTP/1.1\r\n\r\n",
                          "GET /metrics SPDY/3\r\n\r\n"})
    EXPECT_TRUE(exchange(listener_->port(), bad).starts_with("HTTP/1.1 400 Bad Request")) << bad;
  EXPECT_EQ(listener_->stats().not_found.value(), 2u);
  EXPECT_EQ(listener_->stats().method_not_allowed.value(), 1u);
  EXPECT_EQ(listener_->stats().bad_request.value(), 6u);
  EXPECT_EQ(renders_.load(), 0) << "nothing rendered for refused requests";
}

TEST_F(PrometheusListenerTest, HugeHeadIsRefusedWithoutReadingItAll) {
  const std::string big = "GET /metrics HTTP/1.1\r\nX-Junk: " + std::string(20'000, 'a') + "\r\n\r\n";
  const std::string r = exchange(listener_->port(), big);
  EXPECT_TRUE(r.starts_with("HTTP/1.1 431")) << r.substr(0, 100);
  EXPECT_EQ(listener_->stats().too_large.value(), 1u);
  EXPECT_TRUE(exchange(listener_->port(), "GET /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 200"));
}

TEST_F(PrometheusListenerTest, SlowAndSilentClientsAreDroppedAndOthersServed) {
  // Slowloris: a request head that never ends, one byte at a time.
  const int slow = connect_to(listener_->port());
  ASSERT_GE(slow, 0);
  // The attacker's pace (a byte every 25 ms), ended at once when the test is.
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::thread drip([&] {
    const std::string part = "GET /metrics HTTP/1.1\r\nX: ";
    std::unique_lock lock(mu);
    for (std::size_t i = 0; i < 40; ++i) {
      (void)::send(slow, i < part.size() ? &part[i] : "a", 1, MSG_NOSIGNAL);
      if (cv.wait_for(lock, 25ms, [&] { return done; })) break;
    }
  });
  const auto t0 = std::chrono::steady_clock::now();
  const std::string dropped = read_all(slow, 3s);
  const auto took = std::chrono::steady_clock::now() - t0;
  {
    std::lock_guard lock(mu);
    done = true;
  }
  cv.notify_all();
  drip.join();
  ::close(slow);
  EXPECT_EQ(dropped, "") << "dropped without an answer";
  EXPECT_LT(took, 2s) << "the deadline is for the whole head, not per byte";
  // A client that connects and says nothing, and one that hangs up at once.
  const int silent = connect_to(listener_->port());
  const int gone = connect_to(listener_->port());
  ::close(gone);
  EXPECT_EQ(read_all(silent, 3s), "");
  ::close(silent);
  EXPECT_TRUE(exchange(listener_->port(), "GET /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 200"));
  EXPECT_EQ(listener_->stats().timeout.value(), 2u);
  EXPECT_EQ(listener_->stats().closed.value(), 1u);
}

TEST_F(PrometheusListenerTest, StopsPromptlyAndCollectsItsCounters) {
  (void)exchange(listener_->port(), "GET /nope HTTP/1.1\r\n\r\n");
  MetricSink out;
  listener_->collect(out);
  EXPECT_NE(prometheus_text(out).find("foggate_prometheus_requests_total{outcome=\"not_found\"} 1\n"),
            std::string::npos);
  const int idle = connect_to(listener_->port());  // in service while stopping
  const auto t0 = std::chrono::steady_clock::now();
  listener_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  ::close(idle);
  EXPECT_EQ(connect_to(listener_->port()), -1) << "the port is closed";
}

TEST(PrometheusListenerBindTest, BindErrorsAreReported) {
  PrometheusListener a({.enabled = true, .bind = "127.0.0.1", .port = 0}, [] { return std::string(); });
  ASSERT_TRUE(a.start().has_value());
  PrometheusListener b({.enabled = true, .bind = "127.0.0.1", .port = a.port()}, [] { return std::string(); });
  auto r = b.start();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason, "prometheus_bind");
  PrometheusListener c({.enabled = true, .bind = "192.0.2.1", .port = 0}, [] { return std::string(); });
  EXPECT_FALSE(c.start().has_value()) << "not an address of this host";
}

}  // namespace
}  // namespace foggate::gateway
