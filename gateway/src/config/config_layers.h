// ConfigLayers: which version of each remotely settable section is in
// force. Three layers, lowest first: the bootstrap file, the fleet
// ("all": foggate/all/config/<section>) and the gateway's own
// (foggate/<id>/config/<section>). The highest layer that has a section
// wins. A candidate is validated as the section it would become; a rejected
// one leaves everything as it was and is remembered for the state report.
//
// Pure logic, no I/O: signature and replay checks happen before offer().
// Owned by one thread (the gateway's supervisor); not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "foggate/gateway/config.h"

namespace foggate::gateway {

enum class ConfigLayer { kGateway = 0, kAll = 1 };
std::string_view to_string(ConfigLayer l);  // "gateway", "all"

class ConfigLayers {
 public:
  explicit ConfigLayers(Config bootstrap);

  struct Value {
    uint64_t version = 0;
    std::string body;
    int64_t applied_ms = 0;
  };
  enum class Outcome { kApplied, kUnchanged, kRejected };

  // Offers a new value (or, with body empty, the removal) of a layer's
  // section. kApplied: the layer took it and effective() reflects it (the
  // section in force may still be a higher layer's). kUnchanged: the same
  // version and body were already there (a retained redelivery).
  Outcome offer(ConfigLayer layer, const std::string& section, const Value& value, ConfigIssues& issues);

  // Records a rejection decided elsewhere (bad signature, replay) for the state report.
  void note_rejected(ConfigLayer layer, const std::string& section, uint64_t version, ConfigIssues issues,
                     int64_t at_ms);

  const Config& effective() const { return effective_; }
  const std::optional<Value>& value(ConfigLayer layer, const std::string& section) const;

  // The retained state document (foggate/<id>/state/config).
  std::string state_json(int64_t now_ms) const;

 private:
  struct Rejection {
    ConfigLayer layer;
    uint64_t version;
    ConfigIssues issues;
    int64_t at_ms;
  };
  struct Section {
    std::array<std::optional<Value>, 2> layers;  // indexed by ConfigLayer
    std::optional<Rejection> rejected;
  };
  // Rebuilds effective_'s `name` section from its highest layer.
  bool rebuild(const std::string& name, Config& into, ConfigIssues& issues) const;

  const Config bootstrap_;
  Config effective_;
  std::map<std::string, Section, std::less<>> sections_;
};

// A short stable fingerprint of a section body for the state report.
std::string body_hash(std::string_view body);

}  // namespace foggate::gateway
