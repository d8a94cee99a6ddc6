#include "server/exportctl/export_args.h"

#include "server/exportctl/filter_arg.h"

namespace exportd::ctl {

Result<nlohmann::json> ExportRequestBody(const ExportArgs& args) {
  nlohmann::json body = {{"dataset", args.dataset}};
  if (args.format) body["format"] = *args.format;
  if (!args.fields.empty()) body["fields"] = args.fields;
  if (!args.filters.empty()) {
    std::vector<FilterArg> parsed;
    for (const std::string& text : args.filters) {
      ASSIGN_OR_RETURN(FilterArg arg, ParseFilterArg(text));
      parsed.push_back(std::move(arg));
    }
    ASSIGN_OR_RETURN(body["filter"], FilterObject(parsed));
  }
  if (args.since) body["since"] = *args.since;
  if (args.until) body["until"] = *args.until;
  if (!args.partitions.empty()) body["partitions"] = args.partitions;
  if (args.gzip) body["compression"] = "gzip";
  if (args.max_rows_per_file) body["max_rows_per_file"] = *args.max_rows_per_file;
  if (args.tag) body["tag"] = *args.tag;
  if (args.incremental) body["incremental"] = true;
  if (args.export_type) body["export_type"] = *args.export_type;
  return body;
}

}  // namespace exportd::ctl
