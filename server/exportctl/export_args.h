// The arguments of `exportctl export` and the POST /v1/exports body they make.
#ifndef EXPORTD_SERVER_EXPORTCTL_EXPORT_ARGS_H_
#define EXPORTD_SERVER_EXPORTCTL_EXPORT_ARGS_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace exportd::ctl {

struct ExportArgs {
  std::string dataset;
  std::optional<std::string> format;
  std::vector<std::string> fields;
  std::vector<std::string> filters;  // 'FIELD OP VALUE' each (filter_arg.h)
  std::optional<std::string> since;
  std::optional<std::string> until;
  std::vector<std::string> partitions;
  bool gzip = false;
  std::optional<int64_t> max_rows_per_file;
  std::optional<std::string> tag;
  bool incremental = false;
  std::optional<std::string> export_type;  // instant, hourly, daily (schedules create only)
};

// The request body: only what was given (the server's defaults stand for the rest).
// kInvalidArgument when a --filter does not parse.
Result<nlohmann::json> ExportRequestBody(const ExportArgs& args);

}  // namespace exportd::ctl

#endif  // EXPORTD_SERVER_EXPORTCTL_EXPORT_ARGS_H_
