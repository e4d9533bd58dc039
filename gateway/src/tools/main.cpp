// foggate: the command line. Thin on purpose: parse arguments, load the
// configuration (the one place exceptions are caught), run the Gateway
// until SIGINT or SIGTERM.
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "foggate/gateway/config.h"
#include "tools/config_tool.h"
#include "tools/decode_tool.h"
#include "tools/status_tool.h"
#include "foggate/base/log.h"
#include "foggate/gateway/gateway.h"

namespace {

constexpr const char* kUsage =
    "usage: foggate run [--config FILE]     run the gateway until SIGINT/SIGTERM (SIGHUP: reload credentials)\n"
    "       foggate check --config FILE     validate a configuration; exit 1 on error\n"
    "       foggate decode [--max-bytes N] [FILE...]  print the messages in uplink batches (stdin without FILE);\n"
    "                                       a batch inflating past N bytes (default 64 MiB) is refused\n"
    "       foggate decode --uri URI [--topic FILTER] [--count N] [--timeout SECONDS]\n"
    "                                       ... as they arrive on a broker (default foggate/+/uplink/#)\n"
    "       foggate config push --uri URI --section S --target ID|all (--file F | --remove)\n"
    "                           [--key K] [--version N]   publish a section retained (signed with K)\n"
    "       foggate config pull --uri URI --id ID        print what gateway ID has in force\n"
    "       foggate status --uri URI --id ID [--timeout SECONDS]\n"
    "                                       summarize gateway ID's health from its status and metrics\n"
    "                                       (default 15 s); exit 0 online, 1 offline or unknown\n"
    "       foggate version                 print the version\n";

struct Args {
  std::string command;
  std::string config;
  foggate::gateway::DecodeToolOptions decode;
  foggate::gateway::ConfigToolOptions config_tool;
  foggate::gateway::StatusToolOptions status;
};

bool parse_long(const char* s, long& out) {
  char* end = nullptr;
  out = std::strtol(s, &end, 10);
  return end != s && *end == '\0' && out >= 0;
}

bool parse_args(int argc, char** argv, Args& out) {
  if (argc < 2) return false;
  out.command = argv[1];
  int first = 2;
  if (out.command == "config") {
    if (argc < 3) return false;
    out.config_tool.action = argv[2];
    first = 3;
  }
  auto& ct = out.config_tool;
  for (int i = first; i < argc; ++i) {
    std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (out.command == "config") {
      long n = 0;
      if (a == "--uri" && has_value) ct.uri = argv[++i];
      else if (a == "--section" && has_value) ct.section = argv[++i];
      else if (a == "--file" && has_value) ct.file = argv[++i];
      else if (a == "--key" && has_value) ct.key = argv[++i];
      else if ((a == "--target" || a == "--id") && has_value) ct.target = argv[++i];
      else if (a == "--version" && has_value && parse_long(argv[i + 1], n)) ct.version = static_cast<uint64_t>(n), ++i;
      else if (a == "--timeout" && has_value && parse_long(argv[i + 1], ct.timeout_s)) ++i;
      else if (a == "--remove") ct.remove = true;
      else {
        std::fprintf(stderr, "foggate: unknown argument '%s'\n", a.c_str());
        return false;
      }
      continue;
    }
    if (out.command == "status") {
      if (a == "--uri" && has_value) out.status.uri = argv[++i];
      else if (a == "--id" && has_value) out.status.id = argv[++i];
      else if (a == "--timeout" && has_value && parse_long(argv[i + 1], out.status.timeout_s) && out.status.timeout_s > 0) ++i;
      else {
        std::fprintf(stderr, "foggate: unknown argument '%s'\n", a.c_str());
        return false;
      }
      continue;
    }
    if ((a == "--config" || a == "-c") && i + 1 < argc) out.config = argv[++i];
    else if (a.starts_with("--config=")) out.config = a.substr(9);
    else if (out.command == "decode" && a == "--uri" && i + 1 < argc) out.decode.uri = argv[++i];
    else if (out.command == "decode" && a == "--topic" && i + 1 < argc) out.decode.topic = argv[++i];
    else if (out.command == "decode" && a == "--count" && i + 1 < argc && parse_long(argv[i + 1], out.decode.count)) ++i;
    else if (out.command == "decode" && a == "--timeout" && i + 1 < argc && parse_long(argv[i + 1], out.decode.timeout_s)) ++i;
    else if (out.command == "decode" && a == "--max-bytes" && i + 1 < argc && parse_long(argv[i + 1], out.decode.max_bytes) &&
             out.decode.max_bytes > 0) ++i;
    else if (out.command == "decode" && (a == "-" || !a.starts_with("-"))) out.decode.files.push_back(a);
    else {
      std::fprintf(stderr, "foggate: unknown argument '%s'\n", a.c_str());
      return false;
    }
  }
  if (out.command == "status" && (out.status.uri.empty() || out.status.id.empty())) {
    std::fputs("foggate status: --uri and --id are required\n", stderr);
    return false;
  }
  return true;
}

int run(const Args& args) {
  using namespace foggate::gateway;
  Config config = args.config.empty() ? default_config() : load_config_file(args.config);
  // Block the stop signals in every thread (threads inherit the mask), then
  // wait for them here: no handler runs on an arbitrary thread.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);  // reload credentials, not stop
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  Gateway gateway(std::move(config));
  if (auto r = gateway.start(); !r) {
    std::fprintf(stderr, "foggate: cannot start: %s: %s\n", r.error().reason.c_str(), r.error().detail.c_str());
    return 1;
  }
  int sig = 0;
  while (sigwait(&stop_signals, &sig) == 0 && sig == SIGHUP) {
    foggate::log::info("main", "reloading credentials", {{"signal", "SIGHUP"}});
    gateway.reload_credentials();
  }
  foggate::log::info("main", "stopping", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
  gateway.stop();
  return 0;
}

int check(const Args& args) {
  using namespace foggate::gateway;
  if (args.config.empty()) {
    std::fputs("foggate check: --config FILE is required\n", stderr);
    return 2;
  }
  try {
    Config c = load_config_file(args.config);
    std::printf("%s: ok (gateway id \"%s\", %zu rules, %zu detectors, %zu MQTT filters)\n", args.config.c_str(),
                c.gateway.id.c_str(), c.rules.ordered.size(), c.detectors.size(), c.ingest.mqtt.size());
    return 0;
  } catch (const ConfigError& e) {
    std::printf("%s: %zu error%s\n", args.config.c_str(), e.issues().size(), e.issues().size() == 1 ? "" : "s");
    std::fputs(format_issues(e.issues()).c_str(), stdout);
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!parse_args(argc, argv, args)) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  try {
    if (args.command == "version" || args.command == "--version") {
      std::printf("foggate %s\n", FOGGATE_VERSION);
      return 0;
    }
    if (args.command == "check") return check(args);
    // The tools print results on stdout; their logs say only what went wrong.
    if (args.command == "decode" || args.command == "config" || args.command == "status")
      foggate::log::min_level() = static_cast<int>(foggate::log::Level::kWarn);
    if (args.command == "decode") return foggate::gateway::run_decode_tool(args.decode);
    if (args.command == "config") return foggate::gateway::run_config_tool(args.config_tool);
    if (args.command == "status") return foggate::gateway::run_status_tool(args.status);
    if (args.command == "run") return run(args);
  } catch (const foggate::gateway::ConfigError& e) {
    std::fprintf(stderr, "foggate: configuration error:\n%s", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "foggate: %s\n", e.what());
    return 1;
  }
  std::fputs(kUsage, stderr);
  return 2;
}
