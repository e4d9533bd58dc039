#include "ingress/ingest.h"

#include "foggate/base/log.h"
#include "foggate/routing/overload.h"

namespace foggate::gateway {

std::size_t worker_for(std::string_view device, std::size_t workers) {
  return std::hash<std::string_view>{}(device) % workers;
}

Ingest::Ingest(const Clock& clock, std::vector<std::unique_ptr<routing::TaskQueue>>& queues,
               std::size_t queue_capacity, protocols::DecodeOptions decode)
    : clock_(clock), queues_(queues), queue_capacity_(queue_capacity) {
  set_decode(decode);
}

void Ingest::set_decode(const protocols::DecodeOptions& decode) {
  auto by_format = std::make_shared<DecodeByFormat>();
  for (auto f : {PayloadFormat::kAuto, PayloadFormat::kJson, PayloadFormat::kMsgpack, PayloadFormat::kNumber}) {
    (*by_format)[static_cast<std::size_t>(f)] = decode;
    (*by_format)[static_cast<std::size_t>(f)].format = f;
  }
  decode_.store(std::move(by_format));
}

void Ingest::count_malformed(Source s, const std::string& reason) {
  stats_for(s).malformed.add();
  std::lock_guard lock(reasons_mu_);
  ++malformed_by_reason_[{s, reason}];
}

Ingest::Verdict Ingest::accept(Message&& msg, WhenFull when_full, bool defer_wake) {
  auto& st = stats_for(msg.source);
  st.received.add();
  msg.received_ms = clock_.wall_ms();
  msg.received_mono_ms = clock_.mono_ms();

  const auto decode = decode_.load();
  if (auto r = protocols::decode_payload(msg, (*decode)[static_cast<std::size_t>(msg.format)]); !r) {
    count_malformed(msg.source, r.error().reason);
    // One line per source and reason: the counters carry the volume.
    log::warn_once(std::string("ingest-") + std::string(to_string(msg.source)), r.error().reason,
                   "malformed payload rejected",
                   {{"source", to_string(msg.source)}, {"topic", msg.topic},
                    {"reason", r.error().reason}, {"detail", r.error().detail}});
    return {Outcome::kMalformed, r.error().reason + (r.error().detail.empty() ? "" : ": " + r.error().detail)};
  }

  return route(std::move(msg), when_full, defer_wake);
}

Ingest::Verdict Ingest::accept_again(Message&& msg, bool defer_wake) {
  return route(std::move(msg), WhenFull::kWait, defer_wake);
}

void Ingest::wake_workers() {
  for (auto& q : queues_) q->wake();
}

Ingest::Verdict Ingest::route(Message&& msg, WhenFull when_full, bool defer_wake) {
  auto& st = stats_for(msg.source);
  const auto rules = rules_.load();
  const auto& specs = rules->classify(msg);
  auto& queue = *queues_[worker_for(msg.device, queues_.size())];

  if (when_full != WhenFull::kShed && queue.size() >= queue_capacity_) {
    bool critical = false;
    for (const auto& t : specs) critical |= t.kind != routing::TaskKind::kDrop && t.priority == Priority::kCritical;
    if (!critical) {
      if (when_full == WhenFull::kRefuse) st.overloaded.add();
      return {Outcome::kOverloaded, {}};
    }
  }

  std::shared_ptr<const Message> shared;
  const int64_t received = msg.received_mono_ms;
  routing::ForwardSink* const forward_bypass = forward_bypass_.load(std::memory_order_relaxed);
  for (const auto& spec : specs) {
    if (spec.kind == routing::TaskKind::kDrop) {
      st.dropped_by_rule.add();
      continue;
    }
    if (!shared) shared = std::make_shared<const Message>(std::move(msg));
    if (spec.kind == routing::TaskKind::kForward && forward_bypass) {
      (void)forward_bypass->forward(shared, spec.priority, 0);
      continue;
    }
    // "keep" queues regardless, so only other policies pay for the estimate.
    if (spec.on_overload != routing::OverloadAction::kKeep) {
      const auto route = routing::route_under_load(spec, received, received + spec.deadline_ms,
                                                   {queue.expected_wait_ms(spec.priority), pressure()});
      if (route == routing::Route::kShed) {
        overload_shed_[index_of(spec.priority)].add();
        continue;
      }
      if (route == routing::Route::kOffload) {
        offloaded_[index_of(spec.priority)].add();
        if (offload_) offload_(shared, spec.priority);
        continue;
      }
    }
    // A shed task is counted by the queue (tasks_shed_total). A critical
    // task wakes its worker at once: the rest of the chunk can wait, it
    // cannot (and the reader may lose its core before the chunk ends).
    (void)queue.try_push(routing::Task{.kind = spec.kind,
                                       .priority = spec.priority,
                                       .deadline_mono_ms = shared->received_mono_ms + spec.deadline_ms,
                                       .message = shared},
                           !defer_wake || spec.priority == Priority::kCritical);
  }
  st.accepted.add();
  return {};
}

void Ingest::collect(MetricSink& out) const {
  for (Source s : {Source::kMqtt, Source::kCoap}) {
    const auto& st = stats(s);
    std::string src(to_string(s));
    auto add = [&](const char* name, const Counter& c) {
      out.push_back({name, {{"source", src}}, static_cast<double>(c.value())});
    };
    add("messages_received_total", st.received);
    add("messages_accepted_total", st.accepted);
    add("messages_malformed_total", st.malformed);
    add("messages_overloaded_total", st.overloaded);
    add("messages_pattern_mismatch_total", st.pattern_mismatch);
    add("messages_dropped_by_rule_total", st.dropped_by_rule);
  }
  for (Priority p : kAllPriorities) {
    const std::string pr(to_string(p));
    out.push_back({"tasks_routed_total", {{"action", "shed"}, {"priority", pr}},
                   static_cast<double>(overload_shed_[index_of(p)].value())});
    out.push_back({"tasks_routed_total", {{"action", "offload"}, {"priority", pr}},
                   static_cast<double>(offloaded_[index_of(p)].value())});
  }
  out.push_back({"overload_pressure", {}, pressure() ? 1.0 : 0.0});
  rules_.load()->collect(out);
  std::lock_guard lock(reasons_mu_);
  for (const auto& [key, n] : malformed_by_reason_) {
    out.push_back({"decode_errors_total",
                   {{"source", std::string(to_string(key.first))}, {"reason", key.second}},
                   static_cast<double>(n)});
  }
}

}  // namespace foggate::gateway
