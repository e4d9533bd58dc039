#include "uplink/uplink_report.h"

#include "foggate/base/log.h"

namespace foggate::gateway {

void collect_uplink(const UplinkReport& u, MetricSink& out) {
  const auto& ss = u.spool;
  uint64_t sent_total = 0;
  for (Priority p : kAllPriorities) {
    const auto i = index_of(p);
    const std::vector<std::pair<std::string, std::string>> pr{{"priority", std::string(to_string(p))}};
    auto add = [&](const char* name, double v) { out.push_back({name, pr, v}); };
    add("uplink_accepted_total", static_cast<double>(u.stats.accepted[i].value()));
    add("uplink_refused_total", static_cast<double>(u.stats.refused[i].value()));
    add("uplink_lost_messages_total", static_cast<double>(u.stats.lost[i].value()));
    add("uplink_batches_sent_total", static_cast<double>(u.stats.batches_sent[i].value()));
    add("uplink_messages_sent_total", static_cast<double>(u.stats.messages_sent[i].value()));
    add("uplink_bytes_sent_total", static_cast<double>(u.stats.bytes_sent[i].value()));
    add("spool_batches", static_cast<double>(ss.batches[i].value()));
    add("spool_bytes", static_cast<double>(ss.bytes[i].value()));
    add("spool_oldest_age_ms", static_cast<double>(u.oldest_age_ms[i].load()));
    add("spool_evicted_batches_total", static_cast<double>(ss.evicted[i].value()));
    add("spool_evicted_messages_total", static_cast<double>(ss.evicted_messages[i].value()));
    add("spool_expired_batches_total", static_cast<double>(ss.expired[i].value()));
    add("spool_expired_messages_total", static_cast<double>(ss.expired_messages[i].value()));
    add("uplink_degraded", static_cast<double>(u.stats.degraded[i].value()));
    add("uplink_degraded_seconds_total", static_cast<double>(u.stats.degraded_ms[i].value()) / 1000.0);
    add("uplink_summarized_readings_total", static_cast<double>(u.stats.summarized[i].value()));
    add("uplink_summaries_total", static_cast<double>(u.stats.summaries[i].value()));
    add("uplink_summaries_sent_total", static_cast<double>(u.stats.summaries_sent[i].value()));
    add("uplink_window_readings", static_cast<double>(u.stats.window_readings[i].value()));
    add("uplink_compacted_readings_total", static_cast<double>(u.stats.compacted[i].value()));
    add("spool_compacted_batches_total", static_cast<double>(ss.compacted[i].value()));
    sent_total += u.stats.bytes_sent[i].value();
  }
  const double raw = static_cast<double>(u.stats.raw_bytes_sent.value());
  out.push_back({"uplink_raw_bytes_sent_total", {}, raw});
  out.push_back({"uplink_compression_ratio", {}, sent_total ? raw / static_cast<double>(sent_total) : 0.0});
  out.push_back({"uplink_connected", {}, u.connected ? 1.0 : 0.0});
  out.push_back({"uplink_in_flight", {}, static_cast<double>(u.stats.in_flight.value())});
  out.push_back({"uplink_inbox_depth", {}, static_cast<double>(u.stats.inbox_depth.value())});
  out.push_back({"uplink_uncommitted_messages", {}, static_cast<double>(u.stats.uncommitted.value())});
  out.push_back({"uplink_connect_failures_total", {}, static_cast<double>(u.stats.connect_failures.value())});
  out.push_back({"uplink_publish_failures_total", {}, static_cast<double>(u.stats.publish_failures.value())});
  out.push_back({"uplink_encode_errors_total", {}, static_cast<double>(u.stats.encode_errors.value())});
  out.push_back({"uplink_read_errors_total", {}, static_cast<double>(u.stats.read_errors.value())});
  out.push_back({"spool_commits_total", {}, static_cast<double>(ss.commits.value())});
  out.push_back({"spool_write_errors_total", {}, static_cast<double>(ss.write_errors.value())});
}

void log_uplink_summary(const UplinkReport& u, const std::string& last_error) {
  const auto& ss = u.spool;
  int64_t batches = 0, bytes = 0;
  uint64_t sent = 0, evicted = 0, expired = 0;
  for (Priority p : kAllPriorities) {
    const auto i = index_of(p);
    batches += ss.batches[i].value();
    bytes += ss.bytes[i].value();
    sent += u.stats.messages_sent[i].value();
    evicted += ss.evicted_messages[i].value();
    expired += ss.expired_messages[i].value();
  }
  log::info("uplink", "summary",
            {{"connected", u.connected ? "yes" : "no"},
             {"spool_batches", std::to_string(batches)},
             {"spool_bytes", std::to_string(bytes)},
             {"messages_sent", std::to_string(sent)},
             {"evicted_messages", std::to_string(evicted)},
             {"expired_messages", std::to_string(expired)},
             {"last_error", last_error}});
}

}  // namespace foggate::gateway
