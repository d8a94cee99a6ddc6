// How every fuzz target reports a violated property: it prints what it saw and aborts, which
// libFuzzer reports as a crash with the input that caused it.
#ifndef EXPORTD_TESTS_FUZZ_FUZZ_FAIL_H_
#define EXPORTD_TESTS_FUZZ_FUZZ_FAIL_H_

#include <cstdio>
#include <cstdlib>
#include <string>

namespace exportd::fuzz {

[[noreturn]] inline void Fail(const char* property, const std::string& detail) {
  std::fprintf(stderr, "\n*** property violated: %s\n%s\n", property, detail.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace exportd::fuzz

#endif  // EXPORTD_TESTS_FUZZ_FUZZ_FAIL_H_
