// Request JSON -> canonical request: bytes as a "Create an export" body through
// ParseCreateExportJson and PrepareRequest, then CanonicalJson. Properties: see
// fuzz_support.h (errors are 400/422 only; the canonical text is JSON, stable, and round-trips).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  (void)exportd::fuzz::PrepareAndCheck(exportd::api::ParseCreateExportJson(body));
  return 0;
}
