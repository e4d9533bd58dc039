// ToolConnection: how a command-line tool (`foggate config`, `status`,
// `decode --uri`) reaches a broker, from options named as mosquitto_pub and
// mosquitto_sub users know them, or from a gateway configuration file.
//
// `--config FILE` takes the URIs, user name, password source and TLS files
// of the file's `broker` section (`--uplink`: its `uplink` section, the
// cloud side); explicit options then override single values. Passwords are
// never taken on the command line: only from a file or an environment
// variable, and never printed.
//
// Threads: the calling thread only.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "foggate/base/result.h"
#include "foggate/protocols/mqtt_client.h"

namespace foggate::gateway {

struct ToolConnection {
  std::string uri;                          // --uri
  std::string config_file;                  // --config
  bool uplink = false;                      // --uplink
  std::optional<std::string> username;      // -u, --username
  std::optional<std::string> password_file; // --password-file
  std::optional<std::string> password_env;  // --password-env
  std::optional<std::string> ca_file;       // --cafile
  std::optional<std::string> cert_file;     // --cert
  std::optional<std::string> key_file;      // --key
  bool insecure = false;                    // --insecure: no host name check

  // A connection option at argv[i] (its value at argv[i + 1]): kTaken (i
  // advanced past the value), kNotMine, or kMissingValue.
  enum class Parse { kTaken, kNotMine, kMissingValue };
  Parse parse(int argc, char** argv, int& i);
  bool given() const { return !uri.empty() || !config_file.empty(); }
};

// The lines of `--help` that describe the options above.
extern const char* const kConnectionHelp;

// The broker settings to connect with (uris, username, password, tls).
// Throws ConfigError when --config names an invalid file (exit 78); error
// reason "usage" when nothing says where the broker is or --uplink has no
// uplink section; reason "secret" when the password source is unreadable.
Result<protocols::MqttOptions> resolve_connection(const ToolConnection& c);

// "tcp://host:1883" or "ssl://a, ssl://b": for messages, no secrets.
std::string describe_uris(const protocols::MqttOptions& mo);

}  // namespace foggate::gateway
