#include "tools/tool_connection.h"

#include "config/secrets.h"
#include "foggate/gateway/config.h"

namespace foggate::gateway {

const char* const kConnectionHelp =
    "connection (as mosquitto_sub/mosquitto_pub):\n"
    "  --uri URI              the broker: tcp://, mqtt://, ssl:// or mqtts://HOST:PORT\n"
    "  --config FILE          take the connection from a gateway configuration's broker section\n"
    "  --uplink               with --config: from its uplink section (the cloud broker) instead\n"
    "  -u, --username USER    user name\n"
    "  --password-file FILE   the password is this file's content (never on the command line)\n"
    "  --password-env VAR     the password is in this environment variable\n"
    "  --cafile FILE          CA certificates that sign the broker's certificate (ssl://, mqtts://)\n"
    "  --cert FILE, --key FILE  client certificate and key (mutual TLS)\n"
    "  --insecure             do not check that the broker's certificate names its host\n";

ToolConnection::Parse ToolConnection::parse(int argc, char** argv, int& i) {
  const std::string_view a = argv[i];
  const struct {
    std::string_view name;
    std::string_view alias;
    std::string* text;
    std::optional<std::string>* maybe;
  } valued[] = {
      {"--uri", "", &uri, nullptr},
      {"--config", "-c", &config_file, nullptr},
      {"--username", "-u", nullptr, &username},
      {"--password-file", "", nullptr, &password_file},
      {"--password-env", "", nullptr, &password_env},
      {"--cafile", "", nullptr, &ca_file},
      {"--cert", "", nullptr, &cert_file},
      {"--key", "", nullptr, &key_file},
  };
  for (const auto& o : valued) {
    if (a != o.name && (o.alias.empty() || a != o.alias)) continue;
    if (i + 1 >= argc) return Parse::kMissingValue;
    const std::string value = argv[++i];
    if (o.text != nullptr) *o.text = value;
    else *o.maybe = value;
    return Parse::kTaken;
  }
  if (a == "--uplink") uplink = true;
  else if (a == "--insecure") insecure = true;
  else return Parse::kNotMine;
  return Parse::kTaken;
}

namespace {

// One section's connection: the broker and uplink sections share these keys.
template <typename Section>
Result<void> from_section(const Section& s, protocols::MqttOptions& mo) {
  mo.uris = s.uris;
  return apply_credentials(s, mo);
}

}  // namespace

Result<protocols::MqttOptions> resolve_connection(const ToolConnection& c) {
  protocols::MqttOptions mo;
  mo.uris.clear();
  if (!c.config_file.empty()) {
    const Config cfg = load_config_file(c.config_file);  // throws ConfigError
    if (c.uplink && !cfg.uplink.enabled())
      return unexpected(Error::permanent("usage", c.config_file + " has no uplink section with uris"));
    auto r = c.uplink ? from_section(cfg.uplink, mo) : from_section(cfg.broker, mo);
    if (!r) return unexpected(r.error());
  } else if (c.uplink) {
    return unexpected(Error::permanent("usage", "--uplink goes with --config FILE"));
  }
  if (!c.uri.empty()) mo.uris = {c.uri};
  if (mo.uris.empty()) return unexpected(Error::permanent("usage", "say where the broker is: --uri URI or --config FILE"));
  if (c.username) mo.username = *c.username;
  if (c.password_file || c.password_env) {
    if (c.password_file && c.password_env)
      return unexpected(Error::permanent("usage", "give --password-file or --password-env, not both"));
    auto pw = resolve_password("", c.password_file.value_or(""), c.password_env.value_or(""));
    if (!pw) return unexpected(pw.error());
    mo.password = std::move(*pw);
  }
  if (c.ca_file) mo.tls.ca_file = *c.ca_file;
  if (c.cert_file) mo.tls.cert_file = *c.cert_file;
  if (c.key_file) mo.tls.key_file = *c.key_file;
  if (c.insecure) mo.tls.verify_hostname = false;
  if (mo.tls.cert_file.empty() != mo.tls.key_file.empty())
    return unexpected(Error::permanent("usage", "--cert and --key go together (mutual TLS; a configuration signing key is --sign-key)"));
  return mo;
}

std::string describe_uris(const protocols::MqttOptions& mo) {
  std::string out;
  for (const auto& u : mo.uris) out += (out.empty() ? "" : ", ") + u;
  return out;
}

}  // namespace foggate::gateway
