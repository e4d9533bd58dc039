// foggate-loadgen: offers a paced MQTT load to a broker and, in the same
// process, receives what comes back, so every latency is measured on one
// steady clock (scripts/bench.sh, docs/benchmarks.md).
//
//   foggate-loadgen --uri tcp://127.0.0.1:P --devices 1000 --rate 10000 --seconds 10
//       [--qos 0|1] [--format json|msgpack] [--clients 2] [--alert-devices 10]
//       [--count FILTER | --count-alert-devices] [--alerts] [--metrics TOPIC] [--wait-uplink]
//       [--drain-seconds 5] [--latency-log FILE] [--alert-connection] [--pad BYTES]
//
// Publishers: --clients plain MQTT 3.1.1 connections (loadgen_publisher.h
// says why not Paho) share --rate msg/s; device i publishes
// sensors/dev-<i>/temp with its own seq. Devices below --alert-devices
// alternate above/below a threshold of 1000 (loadgen_wire.h).
// Receiver (one Paho C++ connection, like foggate's ingest):
//   --count FILTER          counts the readings on FILTER, which must cover
//                           all of them (sensors/#): rate, gaps, latency;
//   --count-alert-devices   the same for the alert devices' readings only:
//                           the broker's own latency, beside the alerts';
//   --alerts                matches foggate's alerts to the readings that
//                           raised them: latency;
//   --metrics TOPIC         keeps foggate's metrics documents (waits up to
//                           3 s for the first one before sending);
//   --alert-connection      the alert devices publish on one more connection
//                           of their own (at their share of --rate), as
//                           alarm sensors with their own link would;
//   --pad BYTES             adds "pad":"<BYTES random characters>" to each
//                           JSON reading: data that compresses like noisier
//                           real readings (S5's backlog);
//   --latency-log FILE      writes "alert <send time, ms into the run>
//                           <latency µs>" per alert and "metrics <arrival
//                           ms>" per metrics document: when slow ones happen.
// Ends after --seconds of sending plus at most --drain-seconds of waiting
// for what is still due; prints one RESULT line on stdout, a summary on
// stderr. A benchmark: it measures and asserts nothing.
#include <mqtt/async_client.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "loadgen_publisher.h"
#include "loadgen_receiver.h"

using namespace foggate::bench;
using Steady = std::chrono::steady_clock;

namespace {

struct Options {
  std::string uri = "tcp://127.0.0.1:1883";
  uint32_t devices = 1000;
  double rate = 1000;  // messages/s over all publishers
  double seconds = 10;
  int qos = 0;
  Format format = Format::kJson;
  uint32_t clients = 2;
  uint32_t alert_devices = 0;
  std::string count_filter;  // empty: no counting subscription of every reading
  bool count_alert_devices = false;  // count only the alert devices' readings
  bool alerts = false;
  std::string metrics_topic;  // empty: no metrics subscription
  bool wait_uplink = false;   // drain until foggate reports everything sent upstream
  double drain_seconds = 5;
  std::string latency_log;    // empty: no per-alert log
  bool alert_connection = false;  // the alert devices publish on a connection of their own
  uint32_t pad_bytes = 0;         // random characters added to each JSON reading
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "foggate-loadgen: %s\nusage: foggate-loadgen --uri URI --devices N --rate MSGS_PER_S --seconds S\n"
               "  [--qos 0|1] [--format json|msgpack] [--clients N] [--alert-devices K]\n"
               "  [--count FILTER | --count-alert-devices] [--alerts] [--metrics TOPIC] [--wait-uplink]\n"
               "  [--drain-seconds S] [--latency-log FILE] [--alert-connection] [--pad BYTES]\n",
               why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    // Options without a value.
    const std::pair<const char*, bool*> flags[] = {{"--alerts", &o.alerts},
                                                   {"--wait-uplink", &o.wait_uplink},
                                                   {"--count-alert-devices", &o.count_alert_devices},
                                                   {"--alert-connection", &o.alert_connection}};
    bool* flag = nullptr;
    for (const auto& [name, target] : flags)
      if (a == name) flag = target;
    if (flag != nullptr) {
      *flag = true;
      continue;
    }
    if (i + 1 >= argc) usage(("missing value after " + a).c_str());
    const std::string v = argv[++i];
    const double num = std::atof(v.c_str());
    if (a == "--uri") o.uri = v;
    else if (a == "--devices") o.devices = static_cast<uint32_t>(std::max(1.0, num));
    else if (a == "--rate") o.rate = num;
    else if (a == "--seconds") o.seconds = num;
    else if (a == "--qos") o.qos = v == "1" ? 1 : v == "0" ? 0 : (usage("--qos is 0 or 1"), 0);
    else if (a == "--format" && (v == "json" || v == "msgpack")) o.format = v == "json" ? Format::kJson : Format::kMsgpack;
    else if (a == "--format") usage("--format is json or msgpack");
    else if (a == "--clients") o.clients = static_cast<uint32_t>(std::max(1.0, num));
    else if (a == "--alert-devices") o.alert_devices = static_cast<uint32_t>(std::max(0.0, num));
    else if (a == "--count") o.count_filter = v;
    else if (a == "--metrics") o.metrics_topic = v;
    else if (a == "--drain-seconds") o.drain_seconds = std::max(0.0, num);
    else if (a == "--latency-log") o.latency_log = v;
    else if (a == "--pad") o.pad_bytes = static_cast<uint32_t>(std::max(0.0, num));
    else usage(("unknown option " + a).c_str());
  }
  if (o.rate <= 0 || o.seconds <= 0) usage("--rate and --seconds must be positive");
  if (!o.count_filter.empty() && o.count_alert_devices) usage("--count and --count-alert-devices exclude each other");
  if (o.count_alert_devices && o.alert_devices == 0) usage("--count-alert-devices needs --alert-devices");
  if (o.alert_connection && o.alert_devices == 0) usage("--alert-connection needs --alert-devices");
  o.clients = std::min(o.clients, o.devices);
  o.alert_devices = std::min(o.alert_devices, o.devices);
  return o;
}

mqtt::connect_options connect_options() {
  return mqtt::connect_options_builder().clean_session(true).keep_alive_interval(std::chrono::seconds(30)).finalize();
}

// "tcp://host:port" -> host, port; the publishers speak plain TCP only.
bool split_uri(const std::string& uri, std::string& host, uint16_t& port) {
  if (!uri.starts_with("tcp://")) return false;
  const auto colon = uri.rfind(':');
  if (colon == std::string::npos || colon < 6) return false;
  host = uri.substr(6, colon - 6);
  if (host == "localhost") host = "127.0.0.1";
  const int p = std::atoi(uri.c_str() + colon + 1);
  if (p <= 0 || p > 65535) return false;
  port = static_cast<uint16_t>(p);
  return true;
}

void print_latency(const char* prefix, LatencySet& l) {
  std::printf(" %s_p50_us=%lld %s_p99_us=%lld %s_p999_us=%lld %s_max_us=%lld", prefix,
              static_cast<long long>(l.percentile(0.5)), prefix, static_cast<long long>(l.percentile(0.99)), prefix,
              static_cast<long long>(l.percentile(0.999)), prefix, static_cast<long long>(l.percentile(1.0)));
}

struct Totals {
  uint64_t sent = 0, failed = 0, alert_sent = 0, bytes = 0;
};

// The publishers' progress (system clock ms, messages sent by then), taken
// each millisecond while they send. A metrics document says when foggate
// read its counters (time_ms); what had been sent by that moment less what
// foggate had received is how far behind it was then. The count on
// arrival would add the document's own trip through the busy broker.
class SentSeries {
 public:
  void add(int64_t wall_ms, uint64_t sent) { points_.emplace_back(wall_ms, sent); }
  // Sent by wall_ms (the last point at or before it); `total` after the last.
  uint64_t at(int64_t wall_ms, uint64_t total) const {
    if (points_.empty() || wall_ms > points_.back().first) return total;
    auto it = std::upper_bound(points_.begin(), points_.end(), wall_ms,
                               [](int64_t t, const auto& p) { return t < p.first; });
    return it == points_.begin() ? 0 : std::prev(it)->second;
  }

 private:
  std::vector<std::pair<int64_t, uint64_t>> points_;
};

// The receiving connection's subscriptions, in order: readings, alerts, metrics.
void subscriptions(const Options& o, std::vector<std::string>& filters, std::vector<int>& qos) {
  if (!o.count_filter.empty()) filters.push_back(o.count_filter), qos.push_back(o.qos);
  if (o.count_alert_devices)
    for (uint32_t d = 0; d < o.alert_devices; ++d) filters.push_back("sensors/dev-" + std::to_string(d) + "/temp"), qos.push_back(o.qos);
  if (o.alerts) filters.push_back("foggate/+/alerts/#"), qos.push_back(1);  // alerts go out with QoS 1
  if (!o.metrics_topic.empty()) filters.push_back(o.metrics_topic), qos.push_back(0);
}

// Connects the receiver (subscribed before the first publish, so nothing is
// missed at the start) and the publishers. Throws on failure.
void connect_all(const Options& o, Receiver& receiver, SendTable& table, std::atomic<uint64_t>& sent_total,
                 std::unique_ptr<mqtt::async_client>& sub, std::vector<std::unique_ptr<Publisher>>& pubs) {
  std::vector<std::string> filters;
  std::vector<int> qos;
  subscriptions(o, filters, qos);
  if (!filters.empty()) {
    sub = std::make_unique<mqtt::async_client>(o.uri, "loadgen-" + std::to_string(::getpid()) + "-sub");
    sub->set_callback(receiver);
    if (!sub->connect(connect_options())->wait_for(std::chrono::seconds(10))) throw std::runtime_error("connect timed out");
    if (!sub->subscribe(mqtt::string_collection::create(filters), qos)->wait_for(std::chrono::seconds(10)))
      throw std::runtime_error("subscribe timed out");
  }
  PublisherSettings ps;
  if (!split_uri(o.uri, ps.host, ps.port)) throw std::runtime_error("the publishers need a tcp://IPv4:port URI");
  ps.qos = o.qos;
  ps.format = o.format;
  ps.rate = o.rate / o.clients;
  ps.devices = o.devices;
  ps.clients = o.clients;
  ps.alert_devices = o.alert_devices;
  ps.pad_bytes = o.pad_bytes;
  if (o.alert_connection) {
    // Every device keeps its rate (rate / devices): the alert devices' share
    // moves to their own connection.
    const double alert_share = static_cast<double>(o.alert_devices) / o.devices;
    ps.rate = o.rate * (1 - alert_share) / o.clients;
    ps.serve = PublisherSettings::Serve::kNonAlert;
    PublisherSettings alert = ps;
    alert.rate = o.rate * alert_share;
    alert.serve = PublisherSettings::Serve::kAlertOnly;
    alert.client_id = "loadgen-" + std::to_string(::getpid()) + "-pub-alerts";
    pubs.push_back(std::make_unique<Publisher>(alert, table, sent_total));
    pubs.back()->connect();
  }
  for (uint32_t i = 0; i < o.clients; ++i) {
    ps.client_id = "loadgen-" + std::to_string(::getpid()) + "-pub-" + std::to_string(i);
    ps.index = i;
    pubs.push_back(std::make_unique<Publisher>(ps, table, sent_total));
    pubs.back()->connect();
  }
}

// foggate's view, from its metrics documents: what it received in this run
// (counters less the first document's), its receive rate over the sending
// window (the first second left out: connections warm up), the most it fell
// behind the publishers, its deepest queues.
void print_gateway(const std::vector<GatewaySample>& samples, const SentSeries& sent, uint64_t sent_total,
                   double baseline, int64_t start_us, int64_t send_end_us) {
  double rate = 0, backlog_max = 0, backlog_on_arrival_max = 0, depth_max = 0;
  int64_t doc_delay_max_ms = 0;
  const GatewaySample* first = nullptr;
  const GatewaySample* last_in_window = nullptr;
  for (const auto& s : samples) {
    if (s.t_us > send_end_us) continue;
    const double received = s.received - baseline;
    backlog_on_arrival_max = std::max(backlog_on_arrival_max, static_cast<double>(s.sent_then) - received);
    const double sent_when_taken =
        s.taken_wall_ms > 0 ? static_cast<double>(sent.at(s.taken_wall_ms, sent_total)) : static_cast<double>(s.sent_then);
    backlog_max = std::max(backlog_max, sent_when_taken - received);
    if (s.taken_wall_ms > 0) doc_delay_max_ms = std::max(doc_delay_max_ms, s.arrived_wall_ms - s.taken_wall_ms);
    depth_max = std::max(depth_max, s.queue_depth);
    if (s.t_us >= start_us + 1'000'000) {
      if (first == nullptr) first = &s;
      last_in_window = &s;
    }
  }
  if (first != nullptr && last_in_window != first)
    rate = (last_in_window->received - first->received) / (static_cast<double>(last_in_window->t_us - first->t_us) / 1e6);
  const GatewaySample last = samples.empty() ? GatewaySample{} : samples.back();
  std::printf(" fg_samples=%zu fg_received=%.0f fg_rate=%.0f fg_backlog_max=%.0f fg_backlog_on_arrival_max=%.0f"
              " fg_metrics_delay_max_ms=%lld fg_queue_max=%.0f fg_queue_end=%.0f"
              " fg_shed=%.0f fg_alerts_failed=%.0f fg_up_msgs=%.0f fg_up_bytes=%.0f fg_rss=%.0f",
              samples.size(), last.received - baseline, rate, backlog_max, backlog_on_arrival_max,
              static_cast<long long>(doc_delay_max_ms), depth_max, last.queue_depth, last.shed,
              last.alerts_failed, last.uplink_messages, last.uplink_bytes, last.rss_bytes);
  std::fprintf(stderr, "loadgen: foggate received %.0f, %.0f msg/s while loaded, fell behind by at most %.0f\n",
               last.received - baseline, rate, backlog_max);
}

// The RESULT line (stdout) and a summary (stderr). -1: not measured.
void print_result(const Options& o, const Totals& t, Receiver::Report& r, const SentSeries& sent, double baseline,
                  int64_t start_us, int64_t send_end_us, uint64_t expected_readings) {
  using ull = unsigned long long;
  const double send_s = static_cast<double>(send_end_us - start_us) / 1e6;
  const bool counting = !o.count_filter.empty() || o.count_alert_devices;
  const double recv_s = static_cast<double>(r.last_reading_us - start_us) / 1e6;
  const double recv_rate = r.readings > 0 && recv_s > 0 ? static_cast<double>(r.readings) / recv_s : 0.0;
  const long long lost = counting ? static_cast<long long>(expected_readings) - static_cast<long long>(r.readings) : -1;
  const long long drain_ms = r.readings > 0 ? std::max<int64_t>(0, (r.last_reading_us - send_end_us) / 1000) : -1;
  std::printf("RESULT sent=%llu send_rate=%.0f send_failed=%llu bytes_in=%llu", static_cast<ull>(t.sent),
              static_cast<double>(t.sent) / send_s, static_cast<ull>(t.failed), static_cast<ull>(t.bytes));
  std::printf(" received=%llu recv_rate=%.0f gaps=%llu out_of_order=%llu lost=%lld drain_ms=%lld",
              static_cast<ull>(r.readings), recv_rate, static_cast<ull>(r.gaps), static_cast<ull>(r.out_of_order), lost,
              drain_ms);
  print_latency("rx", r.reading_latency);
  std::printf(" alerts=%llu alerts_expected=%llu alerts_unmatched=%llu", static_cast<ull>(r.alerts),
              static_cast<ull>(t.alert_sent), static_cast<ull>(r.alerts_unmatched));
  print_latency("lat", r.alert_latency);
  print_latency("in", r.alert_inbound);
  if (!o.metrics_topic.empty()) print_gateway(r.samples, sent, t.sent, baseline, start_us, send_end_us);
  std::printf(" handler_errors=%llu connection_lost=%llu\n", static_cast<ull>(r.handler_errors),
              static_cast<ull>(r.connection_lost));
  std::fflush(stdout);

  std::fprintf(stderr, "loadgen: sent %llu in %.2f s (%.0f msg/s, %llu failed), %u devices, qos %d\n",
               static_cast<ull>(t.sent), send_s, static_cast<double>(t.sent) / send_s, static_cast<ull>(t.failed),
               o.devices, o.qos);
  if (counting)
    std::fprintf(stderr, "loadgen: received %llu of %llu (%llu gaps, last %lld ms after sending stopped), p99 %lld us\n",
                 static_cast<ull>(r.readings), static_cast<ull>(expected_readings), static_cast<ull>(r.gaps), drain_ms,
                 static_cast<long long>(r.reading_latency.percentile(0.99)));
  if (o.alerts)
    std::fprintf(stderr, "loadgen: alerts %llu of %llu, latency p50 %lld us p99 %lld us max %lld us\n",
                 static_cast<ull>(r.alerts), static_cast<ull>(t.alert_sent),
                 static_cast<long long>(r.alert_latency.percentile(0.5)),
                 static_cast<long long>(r.alert_latency.percentile(0.99)),
                 static_cast<long long>(r.alert_latency.percentile(1.0)));
}

int64_t to_us(Steady::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);

  // Upper bound on any device's seq: the most one publisher sends, over its
  // fewest devices, plus the rounding of the pacing.
  const double per_client = o.rate / o.clients * o.seconds + 2;
  const auto max_seq = static_cast<uint32_t>(std::ceil(per_client / (o.devices / o.clients))) + 2;
  SendTable table(o.devices, max_seq);
  std::atomic<uint64_t> sent_total{0};
  Receiver receiver(o.format, o.devices, table, sent_total);  // outlives the client that calls it
  std::unique_ptr<mqtt::async_client> sub;
  std::vector<std::unique_ptr<Publisher>> pubs;
  try {
    connect_all(o, receiver, table, sent_total, sub, pubs);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "foggate-loadgen: cannot connect to %s: %s\n", o.uri.c_str(), e.what());
    return 1;
  }

  // foggate's counters are cumulative: the first document is the baseline.
  double baseline = 0;
  if (!o.metrics_topic.empty()) {
    const auto until = Steady::now() + std::chrono::seconds(3);
    while (!receiver.last_sample() && Steady::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (const auto s = receiver.last_sample()) baseline = s->received;
  }

  const auto start = Steady::now() + std::chrono::milliseconds(100);
  const auto end = start + std::chrono::microseconds(static_cast<int64_t>(o.seconds * 1e6));
  SentSeries sent_series;
  {
    std::atomic<std::size_t> running{pubs.size()};
    std::vector<std::jthread> threads;
    for (auto& p : pubs)
      threads.emplace_back([&p, &running, start, end] {
        try {
          p->run(start, end);
        } catch (const std::exception& e) {  // out of memory: report, do not abort the run
          std::fprintf(stderr, "foggate-loadgen: publisher stopped: %s\n", e.what());
        }
        running.fetch_sub(1);
      });
    while (running.load() > 0) {
      sent_series.add(wall_now_ms(), sent_total.load(std::memory_order_relaxed));
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  const auto send_end = Steady::now();
  Totals t;
  for (const auto& p : pubs) t.sent += p->sent, t.failed += p->failed, t.alert_sent += p->alert_sent, t.bytes += p->bytes;
  const uint64_t expected_readings = o.count_alert_devices ? t.alert_sent : t.sent;

  // Drain: wait for what is still on its way, at most --drain-seconds.
  auto all_in = [&] {
    if ((!o.count_filter.empty() || o.count_alert_devices) && receiver.readings() < expected_readings) return false;
    if (o.alerts && receiver.alerts() < t.alert_sent) return false;
    if (!o.metrics_topic.empty()) {
      const auto s = receiver.last_sample();
      if (!s || s->t_us < to_us(send_end) || s->received - baseline < static_cast<double>(t.sent) || s->queue_depth > 0)
        return false;
      if (o.wait_uplink && s->uplink_messages < static_cast<double>(t.sent)) return false;
    }
    return true;
  };
  const auto drain_deadline = send_end + std::chrono::microseconds(static_cast<int64_t>(o.drain_seconds * 1e6));
  while (!all_in() && Steady::now() < drain_deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));

  for (auto& p : pubs) p->finish(std::chrono::seconds(2));
  if (sub) {
    try {
      sub->disconnect()->wait_for(std::chrono::seconds(2));
    } catch (...) {
    }
  }
  auto report = receiver.take_report();
  if (!o.latency_log.empty()) {
    if (FILE* f = std::fopen(o.latency_log.c_str(), "w")) {
      for (const auto& [sent_us, lat_us] : report.alert_log)
        std::fprintf(f, "alert %.3f %lld\n", static_cast<double>(sent_us - to_us(start)) / 1000.0, static_cast<long long>(lat_us));
      for (const auto& m : report.samples)
        std::fprintf(f, "metrics %.3f\n", static_cast<double>(m.t_us - to_us(start)) / 1000.0);
      std::fclose(f);
    }
  }
  print_result(o, t, report, sent_series, baseline, to_us(start), to_us(send_end), expected_readings);
  return 0;
}
