// MQTT topic-filter matching (MQTT 3.1.1 section 4.7), topic patterns that
// capture {device} and {metric}, and shell-style globs for device ids.
// Pure functions over string_views: no allocation, callable from any thread.
#pragma once

#include <string>
#include <string_view>

namespace foggate {

// True when `topic` matches `filter` with '+' (one level) and '#' (the rest,
// including the parent level). Topics starting with '$' are not matched by
// a leading wildcard. A "$share/<group>/" prefix on the filter is ignored.
inline bool topic_matches(std::string_view filter, std::string_view topic) {
  if (filter.starts_with("$share/")) {
    auto slash = filter.find('/', 7);
    if (slash == std::string_view::npos) return false;
    filter.remove_prefix(slash + 1);
  }
  if (!topic.empty() && topic[0] == '$' && !filter.empty() && (filter[0] == '+' || filter[0] == '#'))
    return false;
  std::size_t fi = 0, ti = 0;
  while (true) {
    std::size_t fe = filter.find('/', fi);
    std::string_view flevel = filter.substr(fi, fe == std::string_view::npos ? std::string_view::npos : fe - fi);
    if (flevel == "#") return true;
    if (ti > topic.size()) return false;
    std::size_t te = topic.find('/', ti);
    std::string_view tlevel = topic.substr(ti, te == std::string_view::npos ? std::string_view::npos : te - ti);
    if (flevel != "+" && flevel != tlevel) return false;
    bool f_last = fe == std::string_view::npos;
    bool t_last = te == std::string_view::npos;
    if (f_last || t_last) {
      if (f_last && t_last) return true;
      // "a/#" matches "a": filter has one more level that is exactly "#".
      if (t_last && !f_last) return filter.substr(fe + 1) == "#";
      return false;
    }
    fi = fe + 1;
    ti = te + 1;
  }
}

// True when `filter` is a syntactically valid MQTT subscription filter.
inline bool valid_topic_filter(std::string_view filter) {
  if (filter.empty() || filter.size() > 65535) return false;
  std::size_t i = 0;
  while (i <= filter.size()) {
    std::size_t e = filter.find('/', i);
    std::string_view level = filter.substr(i, e == std::string_view::npos ? std::string_view::npos : e - i);
    if (level.find_first_of("+#") != std::string_view::npos) {
      if (level.size() != 1) return false;
      if (level == "#" && e != std::string_view::npos) return false;
    }
    if (e == std::string_view::npos) break;
    i = e + 1;
  }
  return filter.find('\0') == std::string_view::npos;
}

// A topic pattern such as "sensors/{device}/{metric}": literal levels, '+'
// for an ignored level, '{device}' and '{metric}' capture a level, '#' as
// the last level ignores the rest. Extract fills the captures when the
// topic fits the pattern.
struct TopicCaptures {
  std::string_view device;
  std::string_view metric;
};

inline bool extract_topic(std::string_view pattern, std::string_view topic, TopicCaptures& out) {
  std::size_t pi = 0, ti = 0;
  while (true) {
    std::size_t pe = pattern.find('/', pi);
    std::string_view plevel = pattern.substr(pi, pe == std::string_view::npos ? std::string_view::npos : pe - pi);
    if (plevel == "#") return true;
    std::size_t te = topic.find('/', ti);
    std::string_view tlevel = topic.substr(ti, te == std::string_view::npos ? std::string_view::npos : te - ti);
    if (plevel == "{device}") out.device = tlevel;
    else if (plevel == "{metric}") out.metric = tlevel;
    else if (plevel != "+" && plevel != tlevel) return false;
    bool p_last = pe == std::string_view::npos;
    bool t_last = te == std::string_view::npos;
    if (p_last || t_last) return p_last && t_last;
    pi = pe + 1;
    ti = te + 1;
  }
}

// Shell-style glob: '*' any run (possibly empty), '?' one character.
inline bool glob_matches(std::string_view pattern, std::string_view text) {
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace foggate
