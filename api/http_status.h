// The one table that maps exportd's status codes to HTTP status codes.
#ifndef EXPORTD_API_HTTP_STATUS_H_
#define EXPORTD_API_HTTP_STATUS_H_

#include <string_view>

#include "core/status.h"

namespace exportd::api {

int HttpStatusFor(StatusCode code);
// The RFC 9457 "title" for an HTTP status ("Unprocessable Content").
std::string_view HttpTitle(int http_status);

}  // namespace exportd::api

#endif  // EXPORTD_API_HTTP_STATUS_H_
