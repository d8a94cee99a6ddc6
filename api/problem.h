// RFC 9457 problem details: the only way api/ reports an error to a client.
#ifndef EXPORTD_API_PROBLEM_H_
#define EXPORTD_API_PROBLEM_H_

#include <httplib.h>

#include <string>
#include <vector>

#include "core/status.h"

namespace exportd::api {

struct FieldProblem {
  std::string pointer;
  std::string detail;
};

// Writes an application/problem+json body with this HTTP status.
void SendProblem(const httplib::Request& req, httplib::Response& res, int http_status,
                 const std::string& detail, const std::vector<FieldProblem>& errors = {});
// Writes the problem for a non-OK Status, its HTTP code from the one table (http_status.h).
void SendStatus(const httplib::Request& req, httplib::Response& res, const Status& status);

}  // namespace exportd::api

#endif  // EXPORTD_API_PROBLEM_H_
