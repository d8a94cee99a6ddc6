// Small text utilities shared by the request codec, validation and the format writers.
#ifndef EXPORTD_CORE_TEXT_H_
#define EXPORTD_CORE_TEXT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace exportd {

// ASCII classes, whatever the C locale says.
constexpr bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
constexpr bool IsAsciiAlnum(char c) {
  return IsAsciiDigit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

// Length of the well-formed UTF-8 sequence starting at s[i] (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF), or 0 if the bytes there are not one. ASCII is 1.
// REQUIRES: i < s.size().
size_t Utf8SequenceLength(std::string_view s, size_t i);

// True if all of `s` is well-formed UTF-8.
bool IsValidUtf8(std::string_view s);

// Appends code point `cp` to `out` as UTF-8 (1 to 4 bytes).
// REQUIRES: cp <= 0x10FFFF.
void AppendUtf8(uint32_t cp, std::string& out);

// One JSON pointer reference token (RFC 6901): '~' -> "~0", '/' -> "~1".
std::string JsonPointerToken(std::string_view s);

// What logs may show of a user's URL: "scheme://host[:port]/..." without user info, path or
// query, which often carry tokens ("https://hooks.example.org/services/T0/B0/secret"). Text
// without "://" comes back as "(url)".
std::string UrlOriginForLog(std::string_view url);

// `text` (e.g. an error message from libcurl or a remote server, which often repeats the URL it
// was given) with every occurrence of `url` replaced by UrlOriginForLog(url), and then every
// remaining occurrence of a part of `url` that may carry a secret (user info, path, query,
// fragment, each query value) replaced by "...". Parts shorter than 4 characters are left (they
// carry no secret worth the noise of replacing every "/a" in a message).
std::string ScrubUrl(std::string_view text, std::string_view url);

// "1 row", "0 rows", "3 rows": `n` and `word`, with an "s" unless n is 1.
std::string Plural(int64_t n, std::string_view word);

}  // namespace exportd

#endif  // EXPORTD_CORE_TEXT_H_
