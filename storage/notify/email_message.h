// The notification email of a finished task: an RFC 5322 message in plain UTF-8 text.
//
// Headers: Date (RFC 5322), From, To, Subject (RFC 2047 encoded-word when not ASCII),
// Message-ID, MIME-Version 1.0, Content-Type text/plain; charset=utf-8,
// Content-Transfer-Encoding quoted-printable (long download links and UTF-8 text survive any
// relay), X-Exportd-Event, X-Exportd-Delivery. Lines end with CRLF.
// Body: the outcome, the completion timestamp, the download links with their expiry and the
// manifest link (as GET /v1/exports/{id} shows them), a query summary (dataset, format, fields,
// filter, range, partitions, rows) and, for a failed task, its error.
#ifndef EXPORTD_STORAGE_NOTIFY_EMAIL_MESSAGE_H_
#define EXPORTD_STORAGE_NOTIFY_EMAIL_MESSAGE_H_

#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "core/task.h"

namespace exportd {

struct EmailEnvelope {
  std::string from;             // address
  std::vector<std::string> to;  // addresses
  std::string message_id;       // "<id@domain>"
  TimePoint date{};
};

// kInvalidArgument if `value` holds CR or LF (a header injection) or another control character.
Status CheckHeaderValue(std::string_view name, std::string_view value);
// `text` as is when it is printable ASCII; otherwise RFC 2047 "=?UTF-8?B?...?=" words.
std::string EncodeHeaderText(std::string_view text);
// "Sun, 22 Nov 2026 00:46:06 +0000".
std::string Rfc5322Date(TimePoint t);
// RFC 2045 quoted-printable of UTF-8 text whose lines end with LF or CRLF; output lines end with
// CRLF and are at most 76 characters.
std::string QuotedPrintable(std::string_view text);

// "exportd: export <id> of <dataset> succeeded" (failed, was cancelled).
std::string EmailSubject(const Task& task);
// The plain-text body (LF line ends). `task_json` is the task as the API renders it.
Result<std::string> EmailBody(const Task& task, std::string_view task_json);
// The whole message, ready for SMTP. kInvalidArgument if a header value would hold CR/LF.
Result<std::string> BuildTaskEmail(const Task& task, std::string_view task_json,
                                   const EmailEnvelope& envelope);

}  // namespace exportd

#endif  // EXPORTD_STORAGE_NOTIFY_EMAIL_MESSAGE_H_
