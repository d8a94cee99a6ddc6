#include "core/ulid.h"

#include <gtest/gtest.h>

#include <set>

#include "core/time_format.h"

namespace exportd {
namespace {

TEST(UlidTest, WellFormedAndIncreasing) {
  TimePoint now = FromUnixMillis(1'700'000'000'000);
  std::string previous;
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    std::string id = NewUlid(now);  // the same millisecond every time
    EXPECT_TRUE(IsUlid(id)) << id;
    EXPECT_GT(id, previous);
    previous = id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 10000u);
}

TEST(UlidTest, EncodesTimeInPrefix) {
  // 5'000'000'000'000 ms (later than any other id made in this process) in Crockford base32.
  EXPECT_EQ(NewUlid(FromUnixMillis(5'000'000'000'000)).substr(0, 10), "04HGKKJM00");
  // A clock that goes backwards never makes a smaller id.
  EXPECT_EQ(NewUlid(FromUnixMillis(1'000)).substr(0, 10), "04HGKKJM00");
}

TEST(UlidTest, RejectsOthers) {
  EXPECT_FALSE(IsUlid(""));
  EXPECT_FALSE(IsUlid("01HF7YAT00ABCDEFGHJKMNPQRU"));  // U is not in the alphabet
  EXPECT_FALSE(IsUlid("../../etc/passwd"));
  EXPECT_FALSE(IsUlid("81HF7YAT00ABCDEFGHJKMNPQRS"));  // overflows 128 bits
}

}  // namespace
}  // namespace exportd
