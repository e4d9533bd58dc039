// RemoteConfig: configuration sections from retained MQTT topics.
//
//   foggate/<id>/config/<section>   the gateway's own layer
//   foggate/all/config/<section>    the fleet layer
//
// Each message is checked (envelope, target and section match the topic,
// signature when a key is configured, no replay of an older version),
// validated by ConfigLayers, persisted in the ConfigStore, applied through
// the callback, and reported on the retained foggate/<id>/state/config.
//
// Threads: on_message() is called on Paho's thread and only queues;
// everything else runs on the one thread that calls process() (the
// supervisor), which owns the store and the layers.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config_layers.h"
#include "foggate/base/clock.h"
#include "foggate/base/counter.h"
#include "foggate/base/result.h"
#include "foggate/gateway/config.h"

namespace foggate::protocols {
class ConfigVerifier;
}
namespace foggate::storage {
class ConfigStore;
}

namespace foggate::gateway {

class RemoteConfig {
 public:
  // Applies a new effective configuration; `changed` names the sections.
  using ApplyFn = std::function<void(const Config& next, const std::vector<std::string>& changed)>;
  using PublishFn = std::function<void(const std::string& topic, const std::string& payload)>;

  RemoteConfig(const Config& bootstrap, const Clock& clock);
  ~RemoteConfig();

  // Opens the store in the data dir and the key (if configured), and
  // restores the persisted layers: effective() is then what was last in
  // force. Errors: "config_key", "config_store_open".
  Result<void> open();
  const Config& effective() const { return layers_.effective(); }

  void set_apply(ApplyFn f) { apply_ = std::move(f); }
  void set_publish(PublishFn f) { publish_ = std::move(f); }
  std::vector<std::string> topics() const;

  // Paho thread: queue only.
  void on_message(const std::string& topic, const std::string& payload);
  // Owner thread: handles what was queued; publishes the state when anything changed.
  void process();
  // Publishes the state document now (on connect).
  void publish_state();

  struct Stats {
    Counter applied;
    Counter rejected;
    Counter unchanged;
    Counter not_persisted;  // applied, but config.db refused the write

    void collect(MetricSink& out) const {
      out.push_back({"config_sections_total", {{"outcome", "applied"}}, static_cast<double>(applied.value())});
      out.push_back({"config_sections_total", {{"outcome", "rejected"}}, static_cast<double>(rejected.value())});
      out.push_back({"config_sections_total", {{"outcome", "unchanged"}}, static_cast<double>(unchanged.value())});
      out.push_back({"config_not_persisted_total", {}, static_cast<double>(not_persisted.value())});
    }
  };
  const Stats& stats() const { return stats_; }

 private:
  void handle(const std::string& topic, const std::string& payload);
  void reject(ConfigLayer layer, const std::string& section, uint64_t version, std::string path, std::string why);

  const std::string id_;
  const std::string data_dir_;
  const std::string key_file_;
  const Clock& clock_;
  ConfigLayers layers_;
  std::shared_ptr<const protocols::ConfigVerifier> verifier_;
  std::unique_ptr<storage::ConfigStore> store_;
  ApplyFn apply_;
  PublishFn publish_;
  std::mutex mu_;
  std::vector<std::pair<std::string, std::string>> queued_;  // guarded by mu_
  Stats stats_;
};

}  // namespace foggate::gateway
