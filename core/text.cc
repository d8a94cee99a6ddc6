#include "core/text.h"

#include <algorithm>
#include <vector>

namespace exportd {

size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return 1;
  size_t len = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  const auto b1 = static_cast<unsigned char>(s[i + 1]);
  if (b1 < lo || b1 > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if (b < 0x80 || b > 0xBF) return 0;
  }
  return len;
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t len = Utf8SequenceLength(s, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string JsonPointerToken(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string UrlOriginForLog(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return "(url)";
  std::string_view rest = url.substr(scheme_end + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  return std::string(url.substr(0, scheme_end)) + "://" + std::string(authority) + "/...";
}

namespace {

// Replaces every occurrence of `needle` in `text` by `with`.
void ReplaceAll(std::string& text, std::string_view needle, std::string_view with) {
  if (needle.empty()) return;
  for (size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + with.size())) {
    text.replace(at, needle.size(), with);
  }
}

}  // namespace

std::string ScrubUrl(std::string_view text, std::string_view url) {
  std::string out(text);
  if (url.empty()) return out;
  ReplaceAll(out, url, UrlOriginForLog(url));
  // The parts, longest first, so that a query value inside the path-and-query goes with it.
  std::vector<std::string_view> parts;
  const size_t scheme_end = url.find("://");
  std::string_view rest = scheme_end == std::string_view::npos ? url : url.substr(scheme_end + 3);
  const size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    parts.push_back(authority.substr(0, at));  // user:password
    if (size_t colon = authority.find(':'); colon < at) {
      parts.push_back(authority.substr(colon + 1, at - colon - 1));  // the password alone
    }
  }
  if (authority_end != std::string_view::npos) {
    std::string_view tail = rest.substr(authority_end);  // path, query and fragment
    parts.push_back(tail);
    const size_t query = tail.find('?');
    parts.push_back(tail.substr(0, std::min(query, tail.find('#'))));  // the path
    if (query != std::string_view::npos) {
      std::string_view params = tail.substr(query + 1);
      params = params.substr(0, params.find('#'));
      parts.push_back(params);
      while (!params.empty()) {
        std::string_view param = params.substr(0, params.find('&'));
        if (size_t eq = param.find('='); eq != std::string_view::npos) {
          parts.push_back(param.substr(eq + 1));
        }
        if (param.size() == params.size()) break;
        params.remove_prefix(param.size() + 1);
      }
    }
    if (size_t hash = tail.find('#'); hash != std::string_view::npos) {
      parts.push_back(tail.substr(hash + 1));
    }
  }
  std::sort(parts.begin(), parts.end(),
            [](std::string_view a, std::string_view b) { return a.size() > b.size(); });
  for (std::string_view part : parts) {
    if (part.size() >= 4) ReplaceAll(out, part, "...");
  }
  return out;
}

std::string Plural(int64_t n, std::string_view word) {
  return std::to_string(n) + " " + std::string(word) + (n == 1 ? "" : "s");
}

}  // namespace exportd
