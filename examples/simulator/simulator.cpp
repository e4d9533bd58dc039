// foggate-sim: a small sensor simulator for the demo. Publishes JSON
// readings for a handful of devices to the site broker: temperatures that
// drift and now and then overheat, and vibration with rare spikes, so a
// newcomer sees raised, cleared and anomaly alerts within seconds.
//
//   foggate-sim --uri tcp://127.0.0.1:1883 [--devices 5] [--rate 20] [--seconds 0]
#include <mqtt/async_client.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <random>
#include <string>
#include <thread>

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

}  // namespace

int main(int argc, char** argv) {
  std::string uri = "tcp://127.0.0.1:1883";
  int devices = 5, rate = 20, seconds = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--uri") uri = argv[i + 1];
    else if (a == "--devices") devices = std::max(1, std::atoi(argv[i + 1]));
    else if (a == "--rate") rate = std::max(1, std::atoi(argv[i + 1]));
    else if (a == "--seconds") seconds = std::atoi(argv[i + 1]);
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  mqtt::async_client client(uri, "foggate-sim-" + std::to_string(::getpid()), nullptr);
  try {
    client.connect(mqtt::connect_options_builder().clean_session(true).automatic_reconnect(true).finalize())
        ->wait_for(std::chrono::seconds(10));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "foggate-sim: cannot connect to %s: %s\n", uri.c_str(), e.what());
    return 1;
  }

  std::mt19937 rng(42);
  std::normal_distribution<double> noise(0.0, 0.3);
  std::vector<double> temp(devices, 55.0);
  const auto period = std::chrono::microseconds(1'000'000 / rate);
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  auto next = std::chrono::steady_clock::now();
  for (uint64_t tick = 0; !g_stop; ++tick) {
    if (seconds > 0 && std::chrono::steady_clock::now() >= end) break;
    const int d = static_cast<int>(tick % devices);
    const std::string dev = "machine-" + std::to_string(d + 1);
    // Device 1 heats past 70 and cools back every ~20 s; the others wander.
    const double t_s = static_cast<double>(tick) / rate;
    temp[d] = d == 0 ? 62 + 12 * std::sin(t_s * 0.3) + noise(rng) : 50 + 5 * std::sin(t_s * 0.05 + d) + noise(rng);
    const double vib = (tick % 400 == 399) ? 9.0 : 1.0 + noise(rng);
    const auto ts = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch()).count();
    char buf[128];
    std::snprintf(buf, sizeof buf, "{\"t\":%.2f,\"ts\":%lld}", temp[d], static_cast<long long>(ts));
    try {
      client.publish("sensors/" + dev + "/temp", buf, std::strlen(buf), 1, false);
      std::snprintf(buf, sizeof buf, "{\"vib\":%.3f,\"ts\":%lld}", vib, static_cast<long long>(ts));
      client.publish("sensors/" + dev + "/vib", buf, std::strlen(buf), 0, false);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "foggate-sim: publish failed: %s\n", e.what());
    }
    next += period;
    std::this_thread::sleep_until(next);
  }
  try {
    client.disconnect()->wait_for(std::chrono::seconds(2));
  } catch (...) {
  }
  return 0;
}
