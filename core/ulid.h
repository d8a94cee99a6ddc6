// ULIDs: 26 Crockford base32 characters, 48 bits of milliseconds then 80 random bits, so ids
// sort by creation time. Thread-safe.
#ifndef EXPORTD_CORE_ULID_H_
#define EXPORTD_CORE_ULID_H_

#include <string>
#include <string_view>

#include "core/clock.h"

namespace exportd {

// Within one process, ids are strictly increasing even within one millisecond.
std::string NewUlid(TimePoint now);
bool IsUlid(std::string_view s);

}  // namespace exportd

#endif  // EXPORTD_CORE_ULID_H_
