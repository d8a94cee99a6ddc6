// exportctl's --filter 'FIELD OP VALUE' arguments and the request's "filter" object they make.
#ifndef EXPORTD_SERVER_EXPORTCTL_FILTER_ARG_H_
#define EXPORTD_SERVER_EXPORTCTL_FILTER_ARG_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace exportd::ctl {

// One parsed --filter: `op` is the API's name (eq, ne, lt, lte, gt, gte, in, prefix, null) and
// `value` the JSON the request carries for it (an array for in, a bool for null).
struct FilterArg {
  std::string field;
  std::string op;
  nlohmann::json value;
};

// Parses "FIELD OP VALUE". OP: = != < <= > >= (spaces around them optional), or the API's
// names eq ne lt lte gt gte, in (comma-separated values), prefix, null and not-null (no value).
// A value that is a JSON number (100, -2.5, 1e3; not 007) becomes a number, a value in double
// quotes the string inside them, anything else the string as written (the server converts
// strings for integer, real, boolean and timestamp fields). kInvalidArgument with a message
// naming the argument when it does not parse.
Result<FilterArg> ParseFilterArg(std::string_view text);

// The request's "filter" object: {"f": v} for a lone equality, otherwise {"f": {"op": v, ...}}.
// Several conditions are ANDed; the same operator twice on one field is kInvalidArgument (the
// JSON object could not hold both).
Result<nlohmann::json> FilterObject(const std::vector<FilterArg>& args);

// A --filter value as JSON (the rule of ParseFilterArg).
nlohmann::json TypedValue(std::string_view text);

}  // namespace exportd::ctl

#endif  // EXPORTD_SERVER_EXPORTCTL_FILTER_ARG_H_
