#include "core/log_text.h"

namespace exportd {
namespace {

// The length of the escaped character starting at text[i], or 0 when it is kept.
size_t EscapedLength(std::string_view text, size_t i) {
  const auto c = static_cast<unsigned char>(text[i]);
  if (c < 0x20 || c == 0x7f) return 1;
  if (c == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x85) {
    return 2;  // U+0085 NEL
  }
  if (c == 0xe2 && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x80 &&
      (static_cast<unsigned char>(text[i + 2]) == 0xa8 ||
       static_cast<unsigned char>(text[i + 2]) == 0xa9)) {
    return 3;  // U+2028 LS, U+2029 PS
  }
  return 0;
}

}  // namespace

bool NeedsLogEscape(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (EscapedLength(text, i) > 0) return true;
  }
  return false;
}

std::string EscapeForLog(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size() + 16);
  for (size_t i = 0; i < text.size(); ++i) {
    const size_t len = EscapedLength(text, i);
    const auto c = static_cast<unsigned char>(text[i]);
    if (len == 0) {
      out += text[i];
    } else if (len == 1) {
      switch (c) {
        case '\r':
          out += "\\r";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
          break;
      }
    } else {
      out += len == 2 ? "\\u0085"
                      : (static_cast<unsigned char>(text[i + 2]) == 0xa8 ? "\\u2028" : "\\u2029");
      i += len - 1;
    }
  }
  return out;
}

}  // namespace exportd
