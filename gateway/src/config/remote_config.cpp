#include "config/remote_config.h"

#include <filesystem>

#include "foggate/base/log.h"
#include "foggate/protocols/config_envelope.h"
#include "foggate/storage/config_store.h"

namespace foggate::gateway {

RemoteConfig::RemoteConfig(const Config& bootstrap, const Clock& clock)
    : id_(bootstrap.gateway.id),
      data_dir_(bootstrap.gateway.data_dir),
      key_file_(bootstrap.gateway.config_key_file),
      clock_(clock),
      layers_(bootstrap) {}

RemoteConfig::~RemoteConfig() = default;

std::vector<std::string> RemoteConfig::topics() const {
  return {"foggate/" + id_ + "/config/+", "foggate/all/config/+"};
}

Result<void> RemoteConfig::open() {
  if (!key_file_.empty()) {
    auto v = protocols::ConfigVerifier::from_file(key_file_);
    if (!v) return unexpected(v.error());
    verifier_ = std::move(v.value());
    log::info("config", "remote sections must be signed", {{"alg", protocols::to_string(verifier_->alg())}});
  }
  std::error_code ec;
  std::filesystem::create_directories(data_dir_, ec);
  auto store = storage::ConfigStore::open(data_dir_ + "/config.db");
  if (!store) return unexpected(store.error());
  store_ = std::move(store.value());
  auto stored = store_->load_all();
  if (!stored) return unexpected(stored.error());
  for (const auto& s : *stored) {
    const ConfigLayer layer = s.layer == "all" ? ConfigLayer::kAll : ConfigLayer::kGateway;
    ConfigIssues issues;
    if (layers_.offer(layer, s.name, {s.version, s.body, s.applied_ms}, issues) == ConfigLayers::Outcome::kRejected) {
      // Valid when stored; a newer build may read it differently. The file's
      // section stays in force and the state report says why.
      log::warn("config", "persisted section no longer valid; ignored",
                {{"section", s.name}, {"layer", s.layer}, {"detail", format_issues(issues)}});
    } else {
      log::info("config", "restored persisted section",
                {{"section", s.name}, {"layer", s.layer}, {"version", std::to_string(s.version)}});
    }
  }
  return {};
}

void RemoteConfig::on_message(const std::string& topic, const std::string& payload) {
  std::lock_guard lock(mu_);
  queued_.emplace_back(topic, payload);
}

void RemoteConfig::process() {
  std::vector<std::pair<std::string, std::string>> batch;
  {
    std::lock_guard lock(mu_);
    batch.swap(queued_);
  }
  if (batch.empty()) return;
  for (const auto& [topic, payload] : batch) handle(topic, payload);
  publish_state();
}

void RemoteConfig::publish_state() {
  if (publish_) publish_("foggate/" + id_ + "/state/config", layers_.state_json(clock_.wall_ms()));
}

void RemoteConfig::reject(ConfigLayer layer, const std::string& section, uint64_t version, std::string path,
                          std::string why) {
  stats_.rejected.add();
  log::warn("config", "section rejected",
            {{"section", section}, {"layer", to_string(layer)}, {"version", std::to_string(version)}, {"why", why}});
  layers_.note_rejected(layer, section, version, {{std::move(path), std::move(why)}}, clock_.wall_ms());
}

void RemoteConfig::handle(const std::string& topic, const std::string& payload) {
  // foggate/<target>/config/<section>
  const std::string prefix_own = "foggate/" + id_ + "/config/";
  const std::string prefix_all = "foggate/all/config/";
  ConfigLayer layer;
  std::string section;
  if (topic.starts_with(prefix_own)) {
    layer = ConfigLayer::kGateway;
    section = topic.substr(prefix_own.size());
  } else if (topic.starts_with(prefix_all)) {
    layer = ConfigLayer::kAll;
    section = topic.substr(prefix_all.size());
  } else {
    return;
  }
  const std::string target = layer == ConfigLayer::kAll ? "all" : id_;
  const int64_t now = clock_.wall_ms();

  protocols::ConfigEnvelope env;
  if (!payload.empty()) {
    auto parsed = protocols::parse_config_envelope(payload);
    if (!parsed) return reject(layer, section, 0, "", parsed.error().detail);
    env = std::move(parsed.value());
    if (env.enveloped && (env.section != section || env.target != target))
      return reject(layer, section, env.version, "",
                    "envelope is for " + env.target + "/" + env.section + " but arrived on " + topic);
  } else {
    env.section = section;
    env.target = target;
  }
  // A removal is an empty retained message; with a key it must instead be
  // a signed envelope with an empty body, or anyone could strip a section.
  if (verifier_) {
    if (payload.empty()) return reject(layer, section, 0, "", "unsigned removal (send a signed empty body)");
    if (auto v = verifier_->verify(env); !v) return reject(layer, section, env.version, "", v.error().reason);
  }
  if (!is_remote_section(section))
    return reject(layer, section, env.version, section, "not a section that can be set remotely");

  const std::string layer_name(to_string(layer));
  const uint64_t newest = store_->max_version(layer_name, section);
  const auto& current = layers_.value(layer, section);
  if (env.enveloped && env.version < newest)
    return reject(layer, section, env.version, "",
                  "replayed older version " + std::to_string(env.version) + " (newest accepted " +
                      std::to_string(newest) + ")");
  if (env.enveloped && env.version == newest && newest > 0 && !(current && current->body == env.body) &&
      !env.body.empty())
    return reject(layer, section, env.version, "", "version " + std::to_string(env.version) + " was already used");

  ConfigIssues issues;
  switch (layers_.offer(layer, section, {env.version, env.body, now}, issues)) {
    case ConfigLayers::Outcome::kUnchanged:
      stats_.unchanged.add();
      return;
    case ConfigLayers::Outcome::kRejected:
      stats_.rejected.add();
      log::warn("config", "section rejected", {{"section", section}, {"layer", layer_name},
                                                {"version", std::to_string(env.version)},
                                                {"errors", format_issues(issues)}});
      return;
    case ConfigLayers::Outcome::kApplied:
      break;
  }
  stats_.applied.add();
  Result<void> saved = env.body.empty() ? store_->erase(layer_name, section)
                                        : store_->put({layer_name, section, env.version, env.body, now});
  if (!saved) {
    stats_.not_persisted.add();
    log::error("config", "section applied but not persisted", {{"section", section}, {"detail", saved.error().detail}});
  }
  log::info("config", env.body.empty() ? "section removed" : "section applied",
            {{"section", section}, {"layer", layer_name}, {"version", std::to_string(env.version)}});
  if (apply_) apply_(layers_.effective(), {section});
}

}  // namespace foggate::gateway
