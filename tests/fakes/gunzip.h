// Decompresses a whole gzip stream for tests that check what was stored compressed. Reports a
// truncated or damaged stream, or bytes after its end, as a gtest failure.
#ifndef EXPORTD_TESTS_FAKES_GUNZIP_H_
#define EXPORTD_TESTS_FAKES_GUNZIP_H_

#include <gtest/gtest.h>

#include <string>

#include "storage/base/gzip_decoder.h"

namespace exportd::fakes {

inline std::string Gunzip(const std::string& data) {
  Result<std::string> plain = GunzipAll(data);
  EXPECT_TRUE(plain.ok()) << plain.status().message();
  return plain.ok() ? *plain : std::string();
}

}  // namespace exportd::fakes

#endif  // EXPORTD_TESTS_FAKES_GUNZIP_H_
