// Decompresses a whole gzip stream for tests that check what was stored compressed. Reports a
// truncated or damaged stream, or bytes after its end, as a gtest failure.
#ifndef EXPORTD_TESTS_FAKES_GUNZIP_H_
#define EXPORTD_TESTS_FAKES_GUNZIP_H_

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

namespace exportd::fakes {

inline std::string Gunzip(const std::string& data) {
  z_stream zs{};
  EXPECT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[65536];
  int rc = Z_OK;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
  } while (rc == Z_OK);
  EXPECT_EQ(rc, Z_STREAM_END);
  EXPECT_EQ(zs.avail_in, 0u);
  inflateEnd(&zs);
  return out;
}

}  // namespace exportd::fakes

#endif  // EXPORTD_TESTS_FAKES_GUNZIP_H_
