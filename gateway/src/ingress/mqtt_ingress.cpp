#include "ingress/mqtt_ingress.h"

#include <algorithm>

#include "foggate/base/log.h"
#include "foggate/message/topic.h"

namespace foggate::gateway {
namespace {

bool has_priority_lane(const IngestSection& in) {
  return std::any_of(in.mqtt.begin(), in.mqtt.end(), [](const MqttIngest& s) { return s.priority_lane; });
}

}  // namespace

MqttIngress::MqttIngress(const Config& cfg, const protocols::MqttOptions& site, const LiveConfig& live, Ingest& ingest,
                         const Clock& clock)
    : live_(live), ingest_(ingest), memory_(cfg.gateway.data_dir) {
  protocols::MqttOptions sub = site;
  sub.uris = cfg.broker.uris;
  sub.client_id = cfg.broker.client_id;
  sub.clean_session = false;
  sub.keepalive_s = cfg.broker.keepalive_s;
  sub.will = {};
  normal_lane_.client = std::make_unique<protocols::MqttClient>(sub, clock);
  if (has_priority_lane(cfg.ingest)) {
    protocols::MqttOptions prio = sub;
    prio.client_id = cfg.broker.client_id + "-prio";
    priority_lane_.client = std::make_unique<protocols::MqttClient>(prio, clock);
    priority_lane_.client->on_connected([this](bool) { priority_lane_.acknowledged = true; });
  }
  for (auto* lane : {&normal_lane_, &priority_lane_}) {
    if (!lane->client) continue;
    const bool priority = lane == &priority_lane_;
    configure(*lane, lane_subscriptions(cfg.ingest, priority));
    lane->client->on_message(
        [this, priority](const std::string& t, const std::string& p, bool) { on_message(t, p, priority); });
    // What an earlier run subscribed and this one does not is dropped from
    // the broker's session at the next connect.
    lane->client->forget_on_connect(memory_.last(lane->client->client_id()));
  }
}

void MqttIngress::configure(Lane& lane, std::vector<protocols::MqttSubscription> subs) {
  lane.filters.clear();
  for (const auto& s : subs) lane.filters.push_back(s.filter);
  lane.client->set_subscriptions(std::move(subs));
}

MqttIngress::~MqttIngress() { stop(); }

void MqttIngress::on_ready(std::function<void()> f) {
  normal_lane_.client->on_connected([this, f = std::move(f)](bool) {
    normal_lane_.acknowledged = true;
    f();
  });
}

Result<void> MqttIngress::start() {
  // The priority lane first: its subscriptions are in place before the
  // normal lane's backlog starts to flow.
  for (auto* client : {priority_lane_.client.get(), normal_lane_.client.get()}) {
    if (client == nullptr) continue;
    if (auto r = client->start(); !r) return r;
  }
  return {};
}

void MqttIngress::stop() {
  if (priority_lane_.client) priority_lane_.client->stop();
  normal_lane_.client->stop();
}

void MqttIngress::tick() {
  for (auto* lane : {&normal_lane_, &priority_lane_}) {
    if (lane->client == nullptr) continue;
    lane->client->tick();
    if (lane->acknowledged.exchange(false)) (void)memory_.remember(lane->client->client_id(), lane->filters);
  }
}

bool MqttIngress::connected() const { return normal_lane_.client->connected(); }

void MqttIngress::set_filters(const IngestSection& in) {
  configure(normal_lane_, lane_subscriptions(in, false));
  if (priority_lane_.client)
    configure(priority_lane_, lane_subscriptions(in, true));
  else if (has_priority_lane(in))
    log::warn("ingest-mqtt", "the priority lane opens at the next restart; its filters use the normal connection until then");
}

void MqttIngress::renew_credentials(const protocols::MqttOptions& site) {
  for (auto* lane : {&normal_lane_, &priority_lane_})
    if (lane->client) lane->client->renew_credentials(site.username, site.password, site.tls);
}

// Without a priority connection every entry goes to the normal one.
std::vector<protocols::MqttSubscription> MqttIngress::lane_subscriptions(const IngestSection& in,
                                                                          bool priority_lane) const {
  const bool split = priority_lane_.client != nullptr;
  std::vector<protocols::MqttSubscription> subs;
  for (const auto& s : in.mqtt)
    if ((split && s.priority_lane) == priority_lane) subs.push_back({s.filter, s.qos});
  return subs;
}

void MqttIngress::on_message(const std::string& topic, const std::string& payload, bool priority_lane) {
  const auto cfg = live_.load();
  const MqttIngest* sub = nullptr;  // the first entry of this lane that matches
  for (const auto& s : cfg->ingest.mqtt) {
    if (!topic_matches(s.filter, topic)) continue;
    const bool on_priority = s.priority_lane && priority_lane_.client;
    if (on_priority && !priority_lane) {
      // The priority connection delivers this one too, ahead of any backlog.
      lane_duplicates_.add();
      return;
    }
    if (on_priority == priority_lane && sub == nullptr) sub = &s;
    // Only a priority lane needs the later entries (to spot duplicates).
    if (sub != nullptr && !priority_lane_.client) break;
  }
  Message m;
  m.source = Source::kMqtt;
  m.topic = topic;
  m.payload = payload;
  TopicCaptures cap;
  if (sub != nullptr && extract_topic(sub->pattern, topic, cap)) {
    m.device.assign(cap.device);
    m.metric.assign(cap.metric);
  } else {
    // Still tracked per topic, so nothing is lost; the counter tells the
    // operator the pattern needs a look.
    m.device = topic;
    ingest_.note_pattern_mismatch(Source::kMqtt);
    if (!pattern_mismatch_logged_.exchange(true, std::memory_order_relaxed))
      log::warn("ingest-mqtt", "topic does not fit the subscription pattern; the topic is used as device id",
                {{"topic", topic}});
  }
  m.format = sub != nullptr ? sub->format : PayloadFormat::kAuto;
  // MQTT has no way to push back on one message: a full queue sheds by
  // priority instead (counted in tasks_shed_total).
  (void)ingest_.accept(std::move(m), false);
}

void MqttIngress::collect(MetricSink& out) const {
  out.push_back({"mqtt_lane_duplicates_total", {}, static_cast<double>(lane_duplicates_.value())});
  normal_lane_.client->collect(out, "ingest");
  if (priority_lane_.client) priority_lane_.client->collect(out, "ingest-priority");
}

}  // namespace foggate::gateway
