#include "api/http_framing.h"

#include <strings.h>

namespace exportd::api {
namespace {

bool IsSpaceOrTab(char c) { return c == ' ' || c == '\t'; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

size_t FindHeadEnd(std::string_view data, size_t from) {
  // A match may straddle the previous end of the data: look two bytes back.
  const size_t start = from >= 2 ? from - 2 : 0;
  const size_t pos = data.find("\n\r\n", start);
  return pos == std::string_view::npos ? pos : pos + 3;
}

BodyFraming FrameBody(const std::vector<std::string_view>& content_lengths,
                      const std::vector<std::string_view>& transfer_encodings) {
  BodyFraming out;
  auto invalid = [&](std::string why) {
    out.kind = BodyFraming::Kind::kInvalid;
    out.length = 0;
    out.problem = std::move(why);
    return out;
  };
  if (!transfer_encodings.empty()) {
    if (!content_lengths.empty()) {
      return invalid("a request may not have both Content-Length and Transfer-Encoding");
    }
    if (transfer_encodings.size() != 1 || !EqualsIgnoreCase(transfer_encodings[0], "chunked")) {
      return invalid("the only transfer coding accepted is Transfer-Encoding: chunked");
    }
    out.kind = BodyFraming::Kind::kChunked;
    return out;
  }
  if (content_lengths.empty()) return out;
  for (std::string_view value : content_lengths) {
    // 1*DIGIT (RFC 9110 8.6), and small enough for uint64_t.
    if (value.empty() || value.size() > 19 ||
        value.find_first_not_of("0123456789") != std::string_view::npos) {
      return invalid("Content-Length must be a decimal number of bytes");
    }
    if (value != content_lengths[0]) return invalid("the request has differing Content-Lengths");
  }
  out.kind = BodyFraming::Kind::kLength;
  for (char c : content_lengths[0]) out.length = out.length * 10 + static_cast<uint64_t>(c - '0');
  return out;
}

std::vector<std::pair<std::string_view, std::string_view>> HeadFields(std::string_view head) {
  std::vector<std::pair<std::string_view, std::string_view>> fields;
  size_t line_start = head.find('\n');  // skip the request line
  while (line_start != std::string_view::npos && ++line_start < head.size()) {
    const size_t lf = head.find('\n', line_start);
    if (lf == std::string_view::npos) break;
    std::string_view line = head.substr(line_start, lf - line_start);
    line_start = lf;
    if (line.empty() || line.back() != '\r') continue;  // cpp-httplib skips a bare-LF line
    line.remove_suffix(1);
    while (!line.empty() && IsSpaceOrTab(line.back())) line.remove_suffix(1);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && IsSpaceOrTab(value.front())) value.remove_prefix(1);
    fields.emplace_back(line.substr(0, colon), value);
  }
  return fields;
}

BodyFraming FrameHead(std::string_view head) {
  std::vector<std::string_view> lengths;
  std::vector<std::string_view> encodings;
  for (const auto& [name, value] : HeadFields(head)) {
    if (EqualsIgnoreCase(name, "Content-Length")) lengths.push_back(value);
    if (EqualsIgnoreCase(name, "Transfer-Encoding")) encodings.push_back(value);
  }
  return FrameBody(lengths, encodings);
}

}  // namespace exportd::api
