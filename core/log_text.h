// Text that came from a client, made safe to write into a line-oriented log.
#ifndef EXPORTD_CORE_LOG_TEXT_H_
#define EXPORTD_CORE_LOG_TEXT_H_

#include <string>
#include <string_view>

namespace exportd {

// Whether `text` holds anything EscapeForLog rewrites.
bool NeedsLogEscape(std::string_view text);

// `text` with every character that could end a log line or steer a terminal written out
// visibly, so that one log entry stays one line and nobody can forge entries by putting line
// breaks into a URL, a header or a name: CR, LF and TAB as \r \n \t, the other C0 controls and
// DEL as \xHH, and the Unicode line breaks NEL, LS and PS (U+0085, U+2028, U+2029) as \uHHHH.
// Everything else, invalid UTF-8 included, is kept as it is. Not meant to be reversed: a
// backslash is not escaped.
std::string EscapeForLog(std::string_view text);

}  // namespace exportd

#endif  // EXPORTD_CORE_LOG_TEXT_H_
