// The command line: check, version, help, exit codes, and the shipped examples.
#include <filesystem>
#include <utility>
#include <vector>

#include "fixture.h"

namespace foggate::itest {
namespace {

TEST(CliTest, VersionPrints) {
  int code = -1;
  auto out = run_command({FOGGATE_BIN, "version"}, &code);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(out.rfind("foggate ", 0), 0u) << out;
}

// jemalloc replaces glibc's malloc in the binary (gateway/CMakeLists.txt),
// except in the sanitizer and fuzz builds, which bring their own.
TEST(CliTest, BinaryLoadsJemallocUnlessSanitized) {
  int code = -1;
  const auto libs = run_command({"ldd", FOGGATE_BIN}, &code);
  ASSERT_EQ(code, 0) << libs;
  const bool jemalloc = libs.find("libjemalloc.so.2") != std::string::npos;
  EXPECT_EQ(jemalloc, FOGGATE_WITH_JEMALLOC != 0) << libs;
}

TEST(CliTest, CheckListsEveryErrorWithItsPath) {
  TempDir dir;
  dir.write("bad.json", R"({
    "gateway": {"id": "gw/1", "workers": "two"},
    "broker": {"uris": ["http://nope"], "colour": "red"},
    "rules": {"ordered": [{"name": "r", "when": ["t >"], "tasks": [{"task": "explode"}]}]},
    "detectors": [{"name": "d", "type": "threshold", "field": "t"}],
    "surprise": 1
  })");
  int code = -1;
  auto out = run_command({FOGGATE_BIN, "check", "--config", dir.file("bad.json")}, &code);
  EXPECT_EQ(code, 78) << "EX_CONFIG\n" << out;
  for (const char* path : {"gateway.id:", "gateway.workers:", "broker.uris[0]:", "broker.colour: unknown key",
                           "rules.ordered[0].when[0]:", "rules.ordered[0].tasks[0].task:", "detectors[0]:",
                           "surprise: unknown key"})
    EXPECT_NE(out.find(path), std::string::npos) << "missing " << path << " in:\n" << out;
}

TEST(CliTest, CheckReportsSyntaxErrorsAndMissingFiles) {
  TempDir dir;
  dir.write("syntax.json", "{\"gateway\": {\"id\": }");
  int code = -1;
  auto out = run_command({FOGGATE_BIN, "check", "--config", dir.file("syntax.json")}, &code);
  EXPECT_EQ(code, 78);
  EXPECT_NE(out.find("offset"), std::string::npos) << out;
  out = run_command({FOGGATE_BIN, "check", "--config", dir.file("missing.json")}, &code);
  EXPECT_EQ(code, 78);
  EXPECT_NE(out.find("cannot read"), std::string::npos) << out;
}

TEST(CliTest, EveryShippedExamplePassesCheck) {
  int count = 0;
  for (const auto& e : std::filesystem::directory_iterator(FOGGATE_SOURCE_DIR "/examples")) {
    if (e.path().extension() != ".json") continue;
    ++count;
    int code = -1;
    auto out = run_command({FOGGATE_BIN, "check", "--config", e.path().string()}, &code);
    EXPECT_EQ(code, 0) << e.path() << ":\n" << out;
  }
  EXPECT_GE(count, 2);
}

TEST(CliTest, UnknownCommandIsAUsageError) {
  int code = -1;
  auto out = run_command({FOGGATE_BIN, "frobnicate"}, &code);
  EXPECT_EQ(code, 64) << "EX_USAGE";
  EXPECT_NE(out.find("unknown command 'frobnicate'"), std::string::npos) << out;
  EXPECT_NE(out.find("foggate --help"), std::string::npos) << out;
  out = run_command({FOGGATE_BIN}, &code);
  EXPECT_EQ(code, 64);
  EXPECT_NE(out.find("usage: foggate"), std::string::npos) << out;
}

// Only what goes to stdout: --help is output, not an error.
std::string stdout_of(const std::string& args, int* code) {
  return run_command({"/bin/sh", "-c", std::string(FOGGATE_BIN) + " " + args + " 2>/dev/null"}, code);
}

TEST(CliTest, HelpAtEveryLevelPrintsThatLevelsUsageOnStdout) {
  const std::pair<const char*, const char*> cases[] = {
      {"--help", "usage: foggate COMMAND"},          {"-h", "usage: foggate COMMAND"},
      {"help", "usage: foggate COMMAND"},            {"run --help", "usage: foggate run"},
      {"run -h", "usage: foggate run"},              {"check --help", "usage: foggate check"},
      {"decode --help", "usage: foggate decode"},    {"config --help", "usage: foggate config push"},
      {"config push --help", "usage: foggate config push"}, {"config pull -h", "usage: foggate config pull"},
      {"status --help", "usage: foggate status"},    {"version --help", "usage: foggate version"},
      // Help wins over anything else on the line, even an error.
      {"status --bogus --help", "usage: foggate status"}, {"run --config /nonexistent --help", "usage: foggate run"},
  };
  for (const auto& [args, expected] : cases) {
    int code = -1;
    const auto out = stdout_of(args, &code);
    EXPECT_EQ(code, 0) << args << "\n" << out;
    EXPECT_NE(out.find(expected), std::string::npos) << args << ":\n" << out;
  }
  int code = -1;
  EXPECT_NE(stdout_of("status --help", &code).find("--password-file FILE"), std::string::npos)
      << "commands that connect list the connection options";
  EXPECT_EQ(stdout_of("run --help", &code).find("--password-file"), std::string::npos);
}

TEST(CliTest, VersionFlagWorksLikeVersion) {
  int code = -1;
  const auto out = stdout_of("--version", &code);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(out, stdout_of("version", &code));
  EXPECT_EQ(out.rfind("foggate ", 0), 0u) << out;
}

TEST(CliTest, UnknownOptionNamesItselfAndPointsToHelp) {
  for (const auto& [args, help] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"run", "--frob"}, "foggate run --help"},
           {{"config", "push", "--frob"}, "foggate config push --help"},
           {{"status", "--id", "x", "--frob", "1"}, "foggate status --help"},
           {{"decode", "--count"}, "foggate decode --help"}}) {
    std::vector<std::string> argv{FOGGATE_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    int code = -1;
    const auto out = run_command(argv, &code);
    EXPECT_EQ(code, 64) << out;
    EXPECT_NE(out.find(args[0] == "decode" ? "'--count'" : "'--frob'"), std::string::npos) << out;
    EXPECT_NE(out.find(help), std::string::npos) << out;
  }
}

TEST(CliTest, ToolsNeedToBeToldWhereTheBrokerIs) {
  int code = -1;
  auto out = run_command({FOGGATE_BIN, "status", "--id", "gw1"}, &code);
  EXPECT_EQ(code, 64) << out;
  EXPECT_NE(out.find("--uri URI or --config FILE"), std::string::npos) << out;
  TempDir dir;
  dir.write("bad.json", R"({"broker": {"uris": ["http://nope"]}})");
  out = run_command({FOGGATE_BIN, "status", "--id", "gw1", "--config", dir.file("bad.json")}, &code);
  EXPECT_EQ(code, 78) << "a broken gateway configuration is a configuration error\n" << out;
  out = run_command({FOGGATE_BIN, "config", "pull", "--id", "gw1", "--uri", "tcp://127.0.0.1:1", "--key", "k.pem"}, &code);
  EXPECT_EQ(code, 64) << out;
  EXPECT_NE(out.find("--sign-key"), std::string::npos) << "points a signing key to its new name\n" << out;
}

TEST(CliTest, RunRefusesABrokenConfig) {
  TempDir dir;
  dir.write("bad.json", R"({"gateway": {"workers": 0}})");
  int code = -1;
  auto out = run_command({FOGGATE_BIN, "run", "--config", dir.file("bad.json")}, &code);
  EXPECT_EQ(code, 78) << "EX_CONFIG: systemd does not restart it (RestartPreventExitStatus=78)";
  EXPECT_NE(out.find("gateway.workers"), std::string::npos) << out;
}

}  // namespace
}  // namespace foggate::itest

namespace foggate::itest {
namespace {

// A decompression bomb stops at the limit, not at the end of memory.
TEST(CliTest, DecodeRefusesABatchInflatingPastMaxBytes) {
  const std::string batch = std::string(FOGGATE_SOURCE_DIR) + "/fuzz/corpus/uplink_batch/mixed.bin";
  int code = -1;
  auto out = run_command({FOGGATE_BIN, "decode", batch}, &code);
  EXPECT_EQ(code, 0) << out;
  out = run_command({FOGGATE_BIN, "decode", "--max-bytes", "16", batch}, &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("too_large"), std::string::npos) << out;
}

}  // namespace
}  // namespace foggate::itest

namespace foggate::itest {
namespace {

// `foggate status`: online with its metrics summarized, exit 0; after a
// clean stop "offline (stopped)", exit 1; an id never seen is unknown.
TEST(CliTest, StatusSummarizesOnlineThenOffline) {
  TempDir dir;
  Mosquitto broker(dir);
  Foggate gw(dir, broker, "");
  gw.start();
  Probe probe(broker.uri());
  probe.subscribe("foggate/gw1/metrics", 0);
  probe.publish("sensors/pump-1/temp", R"({"t":21})");
  ASSERT_EQ(gw.wait_metric(probe, "messages_received_total{source=mqtt}", 1), 1);

  int code = -1;
  auto out = run_command({FOGGATE_BIN, "status", "--uri", broker.uri(), "--id", "gw1", "--timeout", "10"}, &code);
  EXPECT_EQ(code, 0) << out;
  for (const char* line : {"gw1: online since ", "uptime:", "messages in: mqtt 1, coap 0", "alerts:", "queues:      depth 0",
                           "uplink:      not configured", "process:     RSS ", "config:"})
    EXPECT_NE(out.find(line), std::string::npos) << "missing '" << line << "' in:\n" << out;

  ASSERT_EQ(gw.stop(), 0);
  out = run_command({FOGGATE_BIN, "status", "--uri", broker.uri(), "--id", "gw1", "--timeout", "10"}, &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("gw1: offline since "), std::string::npos) << out;
  EXPECT_NE(out.find("(stopped)"), std::string::npos) << out;

  out = run_command({FOGGATE_BIN, "status", "--uri", broker.uri(), "--id", "nobody", "--timeout", "1"}, &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("nobody: unknown"), std::string::npos) << out;

  out = run_command({FOGGATE_BIN, "status", "--uri", broker.uri()}, &code);
  EXPECT_EQ(code, 64) << out;
  EXPECT_NE(out.find("--id"), std::string::npos) << out;
}

}  // namespace
}  // namespace foggate::itest
