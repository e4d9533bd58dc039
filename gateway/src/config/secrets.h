// Secrets of the MQTT connections: a password may sit in the configuration
// document, in a file (mode 0600, readable by the service only) or in an
// environment variable (systemd's LoadCredential / EnvironmentFile), so the
// document itself can be shared, pushed over MQTT and printed safely.
// Values are never logged; errors name where the secret was looked for.
#pragma once

#include <cstdint>
#include <string>

#include "foggate/base/result.h"
#include "foggate/protocols/mqtt_client.h"

namespace foggate::gateway {

// The password from whichever of the three is set (config validation allows
// at most one). A file's trailing newline is stripped. Error reason "secret"
// when the file cannot be read or the variable is unset.
Result<std::string> resolve_password(const std::string& inline_value, const std::string& file,
                                     const std::string& env);

// Copies user name, password and TLS settings of a broker or uplink section
// into `mo`, reading the password from its source now (so a rotated file
// is picked up by the next client built).
template <typename Section>
Result<void> apply_credentials(const Section& s, protocols::MqttOptions& mo) {
  auto pw = resolve_password(s.password, s.password_file, s.password_env);
  if (!pw) return unexpected(pw.error());
  mo.username = s.username;
  mo.password = std::move(*pw);
  mo.tls = s.tls;
  return {};
}

}  // namespace foggate::gateway

#include <vector>

#include "foggate/protocols/coap_server.h"

namespace foggate::gateway {

// Reads the coaps:// key file: one "<identity> <key>" per line (identity =
// the device id it may post for), '#' starts a comment, the key is text or
// "hex:" followed by hex digits. Error reason "secret" naming the file and
// line, never a key; duplicate identities and empty keys are errors.
Result<std::vector<protocols::CoapPsk>> read_psk_file(const std::string& path);

// What a connection's credentials are made of now: user name, password,
// the TLS settings and the contents of the files they name, so that a file
// replaced under the same name counts as a change (an unreadable one too).
// For telling whether a reload changes anything; never logged or stored.
uint64_t credentials_fingerprint(const protocols::MqttOptions& mo);

}  // namespace foggate::gateway
