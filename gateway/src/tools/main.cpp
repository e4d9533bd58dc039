// foggate: the command line. Thin on purpose: parse arguments, load the
// configuration (the one place exceptions are caught), run the Gateway
// until SIGINT or SIGTERM, or run one of the tools. Exit codes:
// tools/exit_codes.h; every level answers -h/--help on stdout.
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "foggate/base/log.h"
#include "foggate/gateway/config.h"
#include "foggate/gateway/gateway.h"
#include "tools/config_tool.h"
#include "tools/decode_tool.h"
#include "tools/exit_codes.h"
#include "tools/status_tool.h"
#include "tools/tool_connection.h"

namespace {

using namespace foggate::gateway;

constexpr const char* kUsage =
    "usage: foggate COMMAND [OPTIONS]   (foggate COMMAND --help for its options)\n"
    "\n"
    "commands:\n"
    "  run            run the gateway until SIGINT/SIGTERM (SIGHUP: reload credentials)\n"
    "  check          validate a configuration file\n"
    "  decode         print the messages in uplink batches, from files or a broker\n"
    "  config push    publish a configuration section retained (optionally signed)\n"
    "  config pull    print what a gateway has in force\n"
    "  status         summarize a gateway's health from what it publishes\n"
    "  version        print the version (also --version)\n"
    "\n"
    "exit status: 0 ok, 1 failure, 64 usage error, 78 configuration error\n";

struct Command {
  std::string_view name;
  const char* usage;
  bool connects = false;  // takes the connection options (tool_connection.h)
};

const Command kCommands[] = {
    {"run",
     "usage: foggate run [--config FILE]\n"
     "Runs the gateway until SIGINT or SIGTERM; SIGHUP rereads passwords, certificates and keys.\n"
     "  -c, --config FILE   the configuration (default: built-in defaults)\n"
     "exit status: 0 stopped, 1 could not start, 78 the configuration is invalid\n"},
    {"check",
     "usage: foggate check --config FILE\n"
     "Validates a configuration file and prints every problem with its path.\n"
     "exit status: 0 valid, 78 invalid, 64 usage error\n"},
    {"decode",
     "usage: foggate decode [--max-bytes N] [FILE...]\n"
     "       foggate decode --uri URI|--config FILE [--topic FILTER] [--count N] [--timeout SECONDS] [connection]\n"
     "Prints the messages inside uplink batches as JSON lines: from FILEs (stdin without one),\n"
     "or as they arrive on a broker (default topic foggate/+/uplink/#).\n"
     "  --max-bytes N       a batch inflating past N bytes is refused (default 64 MiB)\n"
     "  --count N, --timeout SECONDS   stop after N batches or that long (default: never)\n", true},
    {"config push",
     "usage: foggate config push --section S --target ID|all (--file F | --remove)\n"
     "                           [--sign-key K] [--version N] [--timeout SECONDS] [connection]\n"
     "Publishes a configuration section retained on foggate/<target>/config/<section>.\n"
     "  --sign-key K        sign it with this key (PEM EC private key or HMAC secret file)\n"
     "  --version N         the section's version (default: now in milliseconds)\n", true},
    {"config pull",
     "usage: foggate config pull --id ID [--timeout SECONDS] [connection]\n"
     "Prints which layer and version of each section gateway ID has in force.\n", true},
    {"status",
     "usage: foggate status --id ID [--timeout SECONDS] [connection]\n"
     "Summarizes gateway ID's health from its retained status, config state and metrics.\n"
     "  --timeout SECONDS   how long to wait for them (default 15)\n"
     "exit status: 0 online, 1 offline or unknown, 64 usage error, 78 bad --config file\n", true},
    {"version", "usage: foggate version\nPrints the version.\n"},
};

const Command* find_command(std::string_view name) {
  for (const auto& c : kCommands)
    if (c.name == name) return &c;
  return nullptr;
}

void print_help(const Command& c) {
  std::fputs(c.usage, stdout);
  if (c.connects) std::fputs(kConnectionHelp, stdout);
}

struct Args {
  const Command* command = nullptr;
  std::string config;
  ToolConnection connection;
  DecodeToolOptions decode;
  ConfigToolOptions config_tool;
  StatusToolOptions status;
};

// Why parsing stopped: go on, print help (exit 0), or a usage error (64).
enum class Parsed { kRun, kHelp, kUsageError };

Parsed usage_error(const Args& a, const std::string& what) {
  const std::string name = a.command ? std::string(a.command->name) : "";
  std::fprintf(stderr, "foggate%s%s: %s (see 'foggate%s%s --help')\n", name.empty() ? "" : " ", name.c_str(),
               what.c_str(), name.empty() ? "" : " ", name.c_str());
  return Parsed::kUsageError;
}

bool parse_count(const char* s, long& out) {
  char* end = nullptr;
  out = std::strtol(s, &end, 10);
  return end != s && *end == '\0' && out >= 0;
}

// One option of the command at argv[i]; false when it is not one of them.
bool parse_option(Args& a, int argc, char** argv, int& i, bool& bad_value) {
  const std::string_view o = argv[i];
  const std::string_view cmd = a.command->name;
  auto value = [&]() -> const char* {
    if (i + 1 >= argc) return bad_value = true, nullptr;
    return argv[++i];
  };
  auto count = [&](long& out) {
    const char* v = value();
    if (v != nullptr && !parse_count(v, out)) bad_value = true;
  };
  if (cmd == "run" || cmd == "check") {
    if (o != "--config" && o != "-c") return false;
    if (const char* v = value()) a.config = v;
  } else if (cmd == "decode") {
    if (o == "--topic") { if (const char* v = value()) a.decode.topic = v; }
    else if (o == "--count") count(a.decode.count);
    else if (o == "--timeout") count(a.decode.timeout_s);
    else if (o == "--max-bytes") { count(a.decode.max_bytes); bad_value |= a.decode.max_bytes <= 0; }
    else if (o == "-" || !o.starts_with("-")) a.decode.files.emplace_back(o);
    else return false;
  } else if (cmd == "config push" || cmd == "config pull") {
    auto& ct = a.config_tool;
    long n = 0;
    if (o == "--section") { if (const char* v = value()) ct.section = v; }
    else if (o == "--file") { if (const char* v = value()) ct.file = v; }
    else if (o == "--sign-key") { if (const char* v = value()) ct.sign_key = v; }
    else if (o == "--target" || o == "--id") { if (const char* v = value()) ct.target = v; }
    else if (o == "--version") { count(n); ct.version = static_cast<uint64_t>(n); }
    else if (o == "--timeout") count(ct.timeout_s);
    else if (o == "--remove") ct.remove = true;
    else return false;
  } else if (cmd == "status") {
    if (o == "--id") { if (const char* v = value()) a.status.id = v; }
    else if (o == "--timeout") { count(a.status.timeout_s); bad_value |= a.status.timeout_s <= 0; }
    else return false;
  } else {
    return false;
  }
  return true;
}

Parsed parse_args(int argc, char** argv, Args& a) {
  if (argc < 2) return usage_error(a, "no command given");
  std::string name = argv[1];
  int first = 2;
  if (name == "config") {
    if (argc < 3) return usage_error(a, "config needs push or pull");
    if (std::strcmp(argv[2], "-h") == 0 || std::strcmp(argv[2], "--help") == 0) {
      print_help(*find_command("config push"));
      print_help(*find_command("config pull"));
      return Parsed::kHelp;
    }
    name += std::string(" ") + argv[2];
    first = 3;
  }
  a.command = find_command(name);
  if (a.command == nullptr) return usage_error(a, "unknown command '" + name + "'");
  // Help wins over anything else on the line, errors included.
  for (int i = first; i < argc; ++i)
    if (std::strcmp(argv[i], "-h") == 0 || std::strcmp(argv[i], "--help") == 0) return print_help(*a.command), Parsed::kHelp;
  for (int i = first; i < argc; ++i) {
    const std::string_view o = argv[i];
    bool bad_value = false;
    const int at = i;
    if (parse_option(a, argc, argv, i, bad_value)) {
      if (bad_value) return usage_error(a, "option '" + std::string(argv[at]) + "' needs a valid value");
      continue;
    }
    if (a.command->connects) {
      const auto p = a.connection.parse(argc, argv, i);
      if (p == ToolConnection::Parse::kTaken) continue;
      if (p == ToolConnection::Parse::kMissingValue) return usage_error(a, "option '" + std::string(o) + "' needs a value");
    }
    return usage_error(a, "unknown option '" + std::string(o) + "'");
  }
  if (a.command->name == "check" && a.config.empty()) return usage_error(a, "--config FILE is required");
  if (a.command->name == "status" && a.status.id.empty()) return usage_error(a, "--id is required");
  // decode reads files unless told of a broker; the other tools need one.
  if (a.command->connects && a.command->name != "decode" && !a.connection.given())
    return usage_error(a, "say where the broker is: --uri URI or --config FILE");
  return Parsed::kRun;
}

int run(const Args& args) {
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
    return kExitFailure;
  }
  int sig = 0;
  while (sigwait(&stop_signals, &sig) == 0 && sig == SIGHUP) {
    foggate::log::info("main", "reloading credentials", {{"signal", "SIGHUP"}});
    gateway.reload_credentials();
  }
  foggate::log::info("main", "stopping", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
  gateway.stop();
  return kExitOk;
}

int check(const Args& args) {
  try {
    Config c = load_config_file(args.config);
    std::printf("%s: ok (gateway id \"%s\", %zu rules, %zu detectors, %zu MQTT filters)\n", args.config.c_str(),
                c.gateway.id.c_str(), c.rules.ordered.size(), c.detectors.size(), c.ingest.mqtt.size());
    return kExitOk;
  } catch (const ConfigError& e) {
    std::printf("%s: %zu error%s\n", args.config.c_str(), e.issues().size(), e.issues().size() == 1 ? "" : "s");
    std::fputs(format_issues(e.issues()).c_str(), stdout);
    return kExitConfig;
  }
}

// The tools' broker, from --uri/--config and the connection options.
bool resolve_server(const Args& args, foggate::protocols::MqttOptions& out, int& exit_code) {
  auto mo = resolve_connection(args.connection);
  if (!mo) {
    std::fprintf(stderr, "foggate %s: %s\n", std::string(args.command->name).c_str(), mo.error().detail.c_str());
    exit_code = mo.error().reason == "usage" ? kExitUsage : kExitConfig;
    return false;
  }
  out = std::move(*mo);
  return true;
}

int run_command(Args& args) {
  const std::string_view cmd = args.command->name;
  if (cmd == "version") {
    std::printf("foggate %s\n", FOGGATE_VERSION);
    return kExitOk;
  }
  if (cmd == "check") return check(args);
  if (cmd == "run") return run(args);
  // The tools print results on stdout; their logs say only what went wrong.
  foggate::log::min_level() = static_cast<int>(foggate::log::Level::kWarn);
  int code = kExitOk;
  if (cmd == "decode") {
    if (args.connection.given()) {
      if (!resolve_server(args, args.decode.server.emplace(), code)) return code;
    }
    return run_decode_tool(args.decode);
  }
  if (cmd == "status") {
    if (!resolve_server(args, args.status.server, code)) return code;
    return run_status_tool(args.status);
  }
  if (!resolve_server(args, args.config_tool.server, code)) return code;
  args.config_tool.action = cmd == "config push" ? "push" : "pull";
  return run_config_tool(args.config_tool);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2) {
    const std::string_view first = argv[1];
    if (first == "-h" || first == "--help" || first == "help") return std::fputs(kUsage, stdout), kExitOk;
    if (first == "--version") return std::printf("foggate %s\n", FOGGATE_VERSION), kExitOk;
  }
  Args args;
  switch (parse_args(argc, argv, args)) {
    case Parsed::kHelp: return kExitOk;
    case Parsed::kUsageError:
      if (argc < 2) std::fputs(kUsage, stderr);
      return kExitUsage;
    case Parsed::kRun: break;
  }
  try {
    return run_command(args);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "foggate: configuration error:\n%s", e.what());
    return kExitConfig;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "foggate: %s\n", e.what());
    return kExitFailure;
  }
}
