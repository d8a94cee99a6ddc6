// Base64 (RFC 4648): the standard alphabet with padding for what exportd writes (SQLite BLOBs
// in exports, MIME headers, Content-MD5, master keys) and both alphabets for what it reads.
#ifndef EXPORTD_STORAGE_BASE_BASE64_H_
#define EXPORTD_STORAGE_BASE_BASE64_H_

#include <string>
#include <string_view>

#include "core/status.h"

namespace exportd {

// Appends the standard encoding of `bytes`, padded with '=' (section 4).
void AppendBase64(std::string_view bytes, std::string& out);
std::string Base64Encode(std::string_view bytes);

// The standard (section 4: '+', '/') or URL-safe (section 5: '-', '_') alphabet. Trailing '='
// padding is optional; any other character, blanks included, or a dangling last character is
// kInvalidArgument. On failure the bytes decoded so far are cleansed, since what is decoded
// here may be a key.
Result<std::string> Base64Decode(std::string_view text);
Result<std::string> Base64UrlDecode(std::string_view text);

}  // namespace exportd

#endif  // EXPORTD_STORAGE_BASE_BASE64_H_
