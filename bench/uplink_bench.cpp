// uplink_bench: the store-and-forward path's two local figures, on one
// generated load (N devices, ~60-byte JSON temperature readings):
//   1. upstream bytes per message vs. the topic+JSON bytes that came in
//      (batch encode: columns + msgpack + zlib), per batch size;
//   2. spool write throughput: encode + append + group commit, messages/s.
// A benchmark, not a test: it prints figures and asserts nothing.
//
//   build/bench/uplink_bench [--devices 1000] [--messages 200000] [--batch 1000]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "foggate/protocols/payload_decoder.h"
#include "foggate/protocols/uplink_codec.h"
#include "foggate/storage/spool.h"

using namespace foggate;

namespace {

std::vector<std::shared_ptr<const Message>> make_load(int devices, int n) {
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0, 0.4);
  std::vector<double> temp(devices, 40.0);
  std::vector<std::shared_ptr<const Message>> out;
  out.reserve(n);
  int64_t ts = 1'700'000'000'000;
  for (int i = 0; i < n; ++i) {
    const int d = i % devices;
    temp[d] += noise(rng) * 0.1;
    ts += 1;  // 1000 msg/s of sensor time
    auto m = std::make_shared<Message>();
    m->topic = "sensors/dev-" + std::to_string(d) + "/temp";
    m->device = "dev-" + std::to_string(d);
    m->metric = "temp";
    char buf[96];
    std::snprintf(buf, sizeof buf, R"({"t":%.2f,"h":%.1f,"ts":%lld,"ok":true})", temp[d], 40 + d % 20 * 0.5,
                  static_cast<long long>(ts));
    m->payload = buf;
    m->format = PayloadFormat::kJson;
    m->received_ms = ts + 3;
    m->sensor_ts_ms = ts;
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int devices = 1000, messages = 200'000, batch = 1000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--devices") devices = std::atoi(argv[i + 1]);
    else if (a == "--messages") messages = std::atoi(argv[i + 1]);
    else if (a == "--batch") batch = std::atoi(argv[i + 1]);
  }
  auto load = make_load(devices, messages);
  uint64_t raw_in = 0;
  for (const auto& m : load) raw_in += m->topic.size() + m->payload.size();
  std::printf("load: %d messages, %d devices, %.1f topic+JSON bytes/message on average\n", messages, devices,
              static_cast<double>(raw_in) / messages);

  // 1. Compression by batch size.
  const std::string topic = "foggate/gw-1/uplink/normal";
  std::printf("\n%-12s %14s %14s %10s\n", "batch size", "bytes/msg in", "bytes/msg up", "up / in");
  for (int size : {10, 100, 1000, 5000}) {
    uint64_t up = 0, in = 0, seq = 0;
    for (int start = 0; start + size <= messages; start += size) {
      std::vector<protocols::BatchItem> items;
      for (int i = start; i < start + size; ++i) items.push_back({load[i], 0});
      auto enc = protocols::encode_batch({"gw-1", ++seq, Priority::kNormal, 1'700'000'000'000}, items);
      if (!enc) return 1;
      up += enc->bytes.size() + topic.size();
      in += enc->raw_bytes;
    }
    const double n = static_cast<double>(seq) * size;
    std::printf("%-12d %14.1f %14.2f %9.1f%%\n", size, static_cast<double>(in) / n, static_cast<double>(up) / n,
                100.0 * static_cast<double>(up) / static_cast<double>(in));
  }

  // 2. Spool write throughput: encode + append, commit per batch (the
  //    worst case: critical traffic) and per 10 batches (a 1 s tick at load).
  char tmpl[] = "/tmp/foggate-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return 1;
  for (int per_commit : {1, 10}) {
    const std::string path = std::string(tmpl) + "/spool-" + std::to_string(per_commit) + ".db";
    auto spool = storage::Spool::open({.path = path, .max_bytes = 1ull << 34}, SystemClock::instance());
    if (!spool) {
      std::fprintf(stderr, "spool: %s\n", spool.error().detail.c_str());
      return 1;
    }
    const auto t0 = std::chrono::steady_clock::now();
    uint64_t seq = 0;
    int written = 0;
    for (int start = 0; start + batch <= messages; start += batch) {
      std::vector<protocols::BatchItem> items;
      for (int i = start; i < start + batch; ++i) items.push_back({load[i], 0});
      auto enc = protocols::encode_batch({"gw-1", ++seq, Priority::kNormal, 1'700'000'000'000}, items);
      if (!enc) return 1;
      auto r = (*spool)->append(Priority::kNormal, seq, 1'700'000'000'000, enc->messages, enc->raw_bytes,
                                std::move(enc->bytes));
      if (!r) return 1;
      written += batch;
      if (seq % per_commit == 0 && !(*spool)->commit()) return 1;
    }
    if (!(*spool)->commit()) return 1;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("\nspool write (batch %d, commit every %d batch%s): %.0f messages/s (%.2f s for %d)\n", batch,
                per_commit, per_commit == 1 ? "" : "es", written / s, s, written);
  }
  std::filesystem::remove_all(tmpl);
  return 0;
}
