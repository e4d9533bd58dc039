// The MQTT client of the command-line tools (`foggate config`, `foggate
// status`): a clean session with a throwaway client id, connected and
// subscribed before it is returned. Runs on the calling thread; the
// message handler runs on Paho's thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "foggate/protocols/mqtt_client.h"

namespace foggate::gateway {

// nullptr when the broker did not accept the connection (and acknowledge
// the subscriptions) within timeout_s.
// `server`: uris, user name, password and TLS (resolve_connection()).
std::unique_ptr<protocols::MqttClient> connect_tool_client(const protocols::MqttOptions& server, const std::string& tool,
                                                           long timeout_s,
                                                           std::vector<protocols::MqttSubscription> subs,
                                                           protocols::MqttClient::MessageHandler on_message);

}  // namespace foggate::gateway
