// What a stored notification target may be, whichever front end received it: the shape of a
// webhook URL and of an email address, and how many addresses one task may notify. The
// deployment's own policy (which hosts a webhook may reach, whether email can be sent at all) is
// ExportService's, checked on top of this.
#ifndef EXPORTD_CORE_NOTIFY_TARGET_H_
#define EXPORTD_CORE_NOTIFY_TARGET_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "core/request.h"
#include "core/status.h"

namespace exportd {

inline constexpr size_t kMaxEmails = 20;
inline constexpr size_t kMaxWebhookUrlBytes = 2048;

// An absolute http(s) URL of at most kMaxWebhookUrlBytes with a host and a valid port if one is
// given, printable ASCII only (non-ASCII must be percent-encoded), and no user info: credentials
// do not belong in a stored hook, and an '@' in the authority makes the host ambiguous to
// allowlists. kInvalidArgument at "/notify/webhook" otherwise.
Status ValidateWebhookUrl(std::string_view url);

// Deliberately simple: 1 to 254 characters, exactly one '@' with something on both sides, no
// whitespace or control characters (CR/LF would inject mail headers), and none of ",;<>" (which
// would smuggle a second recipient into a header). kInvalidArgument at `pointer` otherwise.
Status ValidateEmailAddress(std::string_view address, const std::string& pointer);

// The webhook and each address as above, and at most kMaxEmails addresses; errors point into
// the "Create an export" body ("/notify/email/3").
Status ValidateNotify(const Notify& notify);

}  // namespace exportd

#endif  // EXPORTD_CORE_NOTIFY_TARGET_H_
