#include "api/problem.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "api/http_status.h"

namespace exportd::api {
namespace {

std::string Slug(int http_status) {
  std::string slug;
  for (char c : HttpTitle(http_status)) {
    if (c == ' ') {
      slug += '-';
    } else {
      slug += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return slug;
}

}  // namespace

void SendProblem(const httplib::Request& req, httplib::Response& res, int http_status,
                 const std::string& detail, const std::vector<FieldProblem>& errors) {
  nlohmann::json body = {
      {"type", "https://exportd.dev/problems/" + Slug(http_status)},
      {"title", std::string(HttpTitle(http_status))},
      {"status", http_status},
      {"detail", detail},
      {"instance", req.path},
  };
  if (!errors.empty()) {
    nlohmann::json list = nlohmann::json::array();
    for (const FieldProblem& e : errors)
      list.push_back({{"pointer", e.pointer}, {"detail", e.detail}});
    body["errors"] = std::move(list);
  }
  res.status = http_status;
  if (http_status == 401) res.set_header("WWW-Authenticate", "Bearer realm=\"exportd\"");
  // Invalid UTF-8 echoed from a request must not turn an error report into an exception.
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/problem+json");
}

void SendStatus(const httplib::Request& req, httplib::Response& res, const Status& status) {
  std::vector<FieldProblem> errors;
  if (!status.pointer().empty()) errors.push_back({status.pointer(), status.message()});
  int http = HttpStatusFor(status.code());
  // A quota or limit: a hint for well-behaved clients unless the caller knew better.
  if (http == 429 && !res.has_header("Retry-After")) res.set_header("Retry-After", "5");
  if (http >= 500) spdlog::error("{} {}: {}", req.method, req.path, status.ToString());
  // Internal details are logged, not shown.
  std::string detail =
      http >= 500 && http != 503 && http != 504 ? "internal error" : status.message();
  if (status.code() == StatusCode::kDataLoss) {
    detail =
        "the stored data failed its integrity check (tampered with or corrupt); "
        "the server log names the file";
  }
  SendProblem(req, res, http, detail, errors);
}

}  // namespace exportd::api
