// URL query string -> canonical request: bytes split and percent-decoded by cpp-httplib itself
// (httplib::detail::parse_query_text, what the server uses to fill Request::params), then
// ParseCreateExportQuery and PrepareRequest. Properties: see fuzz_support.h.
#include <httplib.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string query(reinterpret_cast<const char*>(data), size);
  httplib::Params params;
  httplib::detail::parse_query_text(query, params);
  (void)exportd::fuzz::PrepareAndCheck(exportd::api::ParseCreateExportQuery(params));
  return 0;
}
