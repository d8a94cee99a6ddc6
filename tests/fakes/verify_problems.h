// What a verifier's report says about one file, as one string, for test assertions.
#ifndef EXPORTD_TESTS_FAKES_VERIFY_PROBLEMS_H_
#define EXPORTD_TESTS_FAKES_VERIFY_PROBLEMS_H_

#include <string>

#include "core/verifier.h"

namespace exportd::fakes {

// The problems of the file `name` in `report`, each followed by "; " ("" when it is OK), or
// "(no such file in the report)".
inline std::string Problems(const VerifyReport& report, const std::string& name) {
  for (const FileVerdict& f : report.files) {
    if (f.name != name) continue;
    std::string all;
    for (const std::string& p : f.problems) all += p + "; ";
    return all;
  }
  return "(no such file in the report)";
}

}  // namespace exportd::fakes

#endif  // EXPORTD_TESTS_FAKES_VERIFY_PROBLEMS_H_
