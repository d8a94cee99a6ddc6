// A reader and checker of the Prometheus text exposition format 0.0.4, for tests of /metrics:
// it parses what a scrape returns into samples and reports what Prometheus would refuse or what
// `promtool check metrics` warns about (names, HELP/TYPE, counter and unit suffixes, histogram
// buckets). Header-only; the standard library only.
#ifndef EXPORTD_TESTS_SUPPORT_PROMETHEUS_TEXT_H_
#define EXPORTD_TESTS_SUPPORT_PROMETHEUS_TEXT_H_

#include <cctype>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace exportd::testing {

struct PromSample {
  std::string name;                           // as written ("x_bucket", "x_sum", ...)
  std::map<std::string, std::string> labels;  // unescaped values
  double value = 0;
};

struct PromFamily {
  std::string name;
  std::string type;  // counter, gauge, histogram, summary, untyped
  std::string help;
  std::vector<PromSample> samples;
};

struct PromText {
  std::vector<PromFamily> families;   // in the order of their TYPE lines
  std::vector<std::string> problems;  // empty when the text passes every check

  const PromFamily* Find(const std::string& name) const {
    for (const PromFamily& f : families) {
      if (f.name == name) return &f;
    }
    return nullptr;
  }
  // The value of the sample `name` whose labels include `labels`; nullopt if none or several.
  std::optional<double> Value(const std::string& name,
                              const std::map<std::string, std::string>& labels = {}) const {
    std::optional<double> found;
    int matches = 0;
    for (const PromFamily& f : families) {
      for (const PromSample& s : f.samples) {
        if (s.name != name) continue;
        bool all = true;
        for (const auto& [k, v] : labels) {
          auto it = s.labels.find(k);
          all = all && it != s.labels.end() && it->second == v;
        }
        if (all) {
          found = s.value;
          ++matches;
        }
      }
    }
    return matches == 1 ? found : std::nullopt;
  }
  // The sum of every sample `name` whose labels include `labels` (0 if none).
  double Sum(const std::string& name, const std::map<std::string, std::string>& labels = {}) const {
    double sum = 0;
    for (const PromFamily& f : families) {
      for (const PromSample& s : f.samples) {
        if (s.name != name) continue;
        bool all = true;
        for (const auto& [k, v] : labels) {
          auto it = s.labels.find(k);
          all = all && it != s.labels.end() && it->second == v;
        }
        if (all) sum += s.value;
      }
    }
    return sum;
  }
};

namespace prom_detail {

inline bool ValidName(const std::string& name, bool label) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
                    (!label && c == ':') || (i > 0 && std::isdigit(static_cast<unsigned char>(c)));
    if (!ok) return false;
  }
  return true;
}

inline bool EndsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

inline std::optional<double> ParseValue(const std::string& text) {
  if (text == "+Inf") return std::numeric_limits<double>::infinity();
  if (text == "-Inf") return -std::numeric_limits<double>::infinity();
  if (text == "NaN") return std::nullopt;
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return std::nullopt;
  return v;
}

// The family a sample name belongs to, given the families declared so far.
inline std::string FamilyOf(const std::string& sample, const std::map<std::string, size_t>& index,
                            const std::vector<PromFamily>& families) {
  if (index.count(sample)) return sample;
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    if (EndsWith(sample, suffix)) {
      std::string base = sample.substr(0, sample.size() - std::string(suffix).size());
      auto it = index.find(base);
      if (it != index.end() && families[it->second].type == "histogram") return base;
    }
  }
  return sample;
}

}  // namespace prom_detail

// Parses `text` and checks it; every problem found is listed in PromText::problems.
inline PromText ParsePromText(const std::string& text) {
  using namespace prom_detail;
  PromText out;
  std::map<std::string, size_t> index;  // family name -> position
  std::map<std::string, std::string> help;
  std::set<std::string> seen_series;
  auto problem = [&out](int line, const std::string& what) {
    out.problems.push_back("line " + std::to_string(line) + ": " + what);
  };
  if (!text.empty() && text.back() != '\n') out.problems.push_back("the text does not end in \\n");
  size_t at = 0;
  int line_no = 0;
  std::string current;  // the family of the last TYPE line
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(at, end - at);
    at = end + 1;
    ++line_no;
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::string kind;
      std::string name;
      std::string rest;
      size_t p = line.find(' ');
      size_t q = p == std::string::npos ? p : line.find(' ', p + 1);
      if (p == std::string::npos || q == std::string::npos) continue;  // a plain comment
      kind = line.substr(p + 1, q - p - 1);
      size_t r = line.find(' ', q + 1);
      name = line.substr(q + 1, r == std::string::npos ? std::string::npos : r - q - 1);
      rest = r == std::string::npos ? "" : line.substr(r + 1);
      if (kind == "HELP") {
        if (help.count(name)) problem(line_no, "second HELP for " + name);
        help[name] = rest;
        if (rest.empty()) problem(line_no, "empty HELP for " + name);
      } else if (kind == "TYPE") {
        if (index.count(name)) problem(line_no, "second TYPE for " + name);
        static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary",
                                                     "untyped"};
        if (!kTypes.count(rest)) problem(line_no, "unknown type " + rest);
        if (!ValidName(name, false)) problem(line_no, "invalid metric name " + name);
        if (rest == "counter" && !EndsWith(name, "_total")) {
          problem(line_no, "counter " + name + " does not end in _total");
        }
        if (rest != "counter" && EndsWith(name, "_total")) {
          problem(line_no, "non-counter " + name + " ends in _total");
        }
        for (const char* bad : {"_milliseconds", "_ms", "_kilobytes", "_megabytes", "_minutes",
                                "_hours", "_percent"}) {
          if (name.find(bad) != std::string::npos) {
            problem(line_no, name + ": use base units (seconds, bytes, ratios)");
          }
        }
        index[name] = out.families.size();
        out.families.push_back(PromFamily{name, rest, "", {}});
        current = name;
      }
      continue;
    }
    // name{labels} value
    PromSample sample;
    size_t p = 0;
    while (p < line.size() && line[p] != '{' && line[p] != ' ') ++p;
    sample.name = line.substr(0, p);
    if (!ValidName(sample.name, false)) problem(line_no, "invalid sample name " + sample.name);
    if (p < line.size() && line[p] == '{') {
      ++p;
      while (p < line.size() && line[p] != '}') {
        size_t eq = line.find('=', p);
        if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') {
          problem(line_no, "malformed labels");
          break;
        }
        std::string key = line.substr(p, eq - p);
        if (!ValidName(key, true) || key.rfind("__", 0) == 0) {
          problem(line_no, "invalid label name " + key);
        }
        std::string value;
        size_t v = eq + 2;
        bool closed = false;
        for (; v < line.size(); ++v) {
          if (line[v] == '\\' && v + 1 < line.size()) {
            const char n = line[++v];
            value += n == 'n' ? '\n' : n;
          } else if (line[v] == '"') {
            closed = true;
            break;
          } else {
            value += line[v];
          }
        }
        if (!closed) {
          problem(line_no, "unterminated label value");
          break;
        }
        if (sample.labels.count(key)) problem(line_no, "label " + key + " twice");
        sample.labels[key] = value;
        p = v + 1;
        if (p < line.size() && line[p] == ',') ++p;
      }
      if (p >= line.size() || line[p] != '}') {
        problem(line_no, "labels not closed");
        continue;
      }
      ++p;
    }
    if (p >= line.size() || line[p] != ' ') {
      problem(line_no, "no value");
      continue;
    }
    std::string value_text = line.substr(p + 1);
    if (size_t sp = value_text.find(' '); sp != std::string::npos) {
      value_text = value_text.substr(0, sp);  // a timestamp follows
    }
    std::optional<double> value = ParseValue(value_text);
    if (!value) {
      problem(line_no, "unparsable value '" + value_text + "'");
      continue;
    }
    sample.value = *value;
    const std::string family = FamilyOf(sample.name, index, out.families);
    auto it = index.find(family);
    if (it == index.end()) {
      problem(line_no, sample.name + " has no TYPE line before it");
      continue;
    }
    if (family != current) problem(line_no, sample.name + " is not with the rest of " + family);
    std::string series = sample.name;
    for (const auto& [k, v] : sample.labels) series += "|" + k + "=" + v;
    if (!seen_series.insert(series).second) problem(line_no, "duplicate series " + series);
    if (out.families[it->second].type == "counter" && sample.value < 0) {
      problem(line_no, "negative counter " + sample.name);
    }
    out.families[it->second].samples.push_back(std::move(sample));
  }
  for (PromFamily& f : out.families) {
    if (help.count(f.name)) {
      f.help = help[f.name];
    } else {
      out.problems.push_back(f.name + " has no HELP");
    }
    if (f.type != "histogram") continue;
    // Per series (labels but le): cumulative buckets ending in +Inf, which equals _count.
    std::map<std::map<std::string, std::string>, std::vector<std::pair<double, double>>> buckets;
    std::map<std::map<std::string, std::string>, double> counts;
    std::set<std::map<std::string, std::string>> sums;
    for (const PromSample& s : f.samples) {
      std::map<std::string, std::string> key = s.labels;
      if (s.name == f.name + "_bucket") {
        auto le = key.find("le");
        if (le == key.end()) {
          out.problems.push_back(f.name + ": a bucket without le");
          continue;
        }
        std::optional<double> bound = ParseValue(le->second);
        key.erase(le);
        if (!bound) {
          out.problems.push_back(f.name + ": unparsable le " + s.labels.at("le"));
          continue;
        }
        buckets[key].emplace_back(*bound, s.value);
      } else if (s.name == f.name + "_count") {
        counts[key] = s.value;
      } else if (s.name == f.name + "_sum") {
        sums.insert(key);
      } else {
        out.problems.push_back(f.name + ": sample " + s.name + " in a histogram");
      }
    }
    for (const auto& [key, list] : buckets) {
      for (size_t i = 1; i < list.size(); ++i) {
        if (!(list[i].first > list[i - 1].first)) {
          out.problems.push_back(f.name + ": buckets not in increasing le order");
        }
        if (list[i].second < list[i - 1].second) {
          out.problems.push_back(f.name + ": bucket counts decrease");
        }
      }
      if (list.empty() || list.back().first != std::numeric_limits<double>::infinity()) {
        out.problems.push_back(f.name + ": no le=\"+Inf\" bucket");
        continue;
      }
      auto count = counts.find(key);
      if (count == counts.end() || count->second != list.back().second) {
        out.problems.push_back(f.name + ": _count missing or not the +Inf bucket");
      }
      if (!sums.count(key)) out.problems.push_back(f.name + ": _sum missing");
    }
  }
  return out;
}

}  // namespace exportd::testing

#endif  // EXPORTD_TESTS_SUPPORT_PROMETHEUS_TEXT_H_
