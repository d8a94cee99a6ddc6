#include "core/schedule.h"

#include <gtest/gtest.h>

#include <string>

#include "core/time_format.h"

namespace exportd {
namespace {

TEST(ScheduleIdTest, NewIdsHaveTheirShape) {
  const std::string id = NewScheduleId(*ParseRfc3339("2026-03-08T10:00:00Z"));
  EXPECT_EQ(id.substr(0, 4), "sch_");
  EXPECT_EQ(id.size(), 4u + 26u);
  EXPECT_TRUE(IsScheduleId(id));
  EXPECT_FALSE(IsScheduleId(id.substr(4)));  // a task id is no schedule id
  EXPECT_FALSE(IsScheduleId("sch_"));
  EXPECT_FALSE(IsScheduleId("sch_../../etc"));
  EXPECT_FALSE(IsScheduleId("preview"));
}

TEST(ScheduleNameTest, OneToTwoHundredCharacters) {
  EXPECT_TRUE(ValidateScheduleName("n").ok());
  EXPECT_TRUE(ValidateScheduleName(std::string(200, 'a')).ok());
  // Characters, not bytes: 200 two-byte characters are fine.
  std::string umlauts;
  for (int i = 0; i < 200; ++i) umlauts += "\xC3\xA4";
  EXPECT_TRUE(ValidateScheduleName(umlauts).ok());

  for (const std::string& bad :
       {std::string(), std::string(201, 'a'), std::string("  \t"), std::string("\xC3")}) {
    Status s = ValidateScheduleName(bad);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(s.pointer(), "/name") << bad;
  }
}

}  // namespace
}  // namespace exportd
