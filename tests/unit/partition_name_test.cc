#include "core/partition_name.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "core/object_store.h"
#include "core/split_series.h"

namespace exportd {
namespace {

using Partition = std::optional<std::string>;

TEST(PartitionDirNameTest, SafeValuesStandForThemselves) {
  EXPECT_EQ(PartitionDirName(Partition("study_1")), "study_1");
  EXPECT_EQ(PartitionDirName(Partition("eu-west.2")), "eu-west.2");
  EXPECT_EQ(PartitionDirName(Partition("42")), "42");
}

TEST(PartitionDirNameTest, EverythingElseIsEscaped) {
  EXPECT_EQ(PartitionDirName(std::nullopt), "~NULL");
  EXPECT_EQ(PartitionDirName(Partition("")), "~EMPTY");
  EXPECT_EQ(PartitionDirName(Partition("eu/west")), "eu~2Fwest");
  EXPECT_EQ(PartitionDirName(Partition("..")), "~2E~2E");
  EXPECT_EQ(PartitionDirName(Partition(".")), "~2E");
  EXPECT_EQ(PartitionDirName(Partition("a..b")), "a.~2Eb");
  EXPECT_EQ(PartitionDirName(Partition("a.")), "a~2E");
  EXPECT_EQ(PartitionDirName(Partition("-rf")), "~2Drf");
  EXPECT_EQ(PartitionDirName(Partition("100%")), "100~25");
  EXPECT_EQ(PartitionDirName(Partition("a b")), "a~20b");
  EXPECT_EQ(PartitionDirName(Partition("~NULL")), "~7ENULL");
  EXPECT_EQ(PartitionDirName(Partition("caf\xC3\xA9")), "caf~C3~A9");
  EXPECT_EQ(PartitionDirName(Partition(std::string("a\0b", 3))), "a~00b");
}

TEST(PartitionDirNameTest, HostileValuesRoundTripAndMakeValidObjectNames) {
  std::vector<Partition> values = {std::nullopt,
                                   "",
                                   "/",
                                   "..",
                                   ".",
                                   "%",
                                   "%00",
                                   "~",
                                   "~NULL",
                                   "~EMPTY",
                                   " ",
                                   "a b",
                                   "a/../b",
                                   "../../etc/passwd",
                                   "C:\\x",
                                   "\xE6\x97\xA5\xE6\x9C\xAC",
                                   "\xFF\xFE",
                                   "-",
                                   "_",
                                   "a.",
                                   ".a",
                                   std::string("\0", 1),
                                   "\r\n",
                                   "A",
                                   "a",
                                   std::string(33, '/'),
                                   std::string(100, 'x'),
                                   std::string(82, 'y') + "/"};
  for (const Partition& value : values) {
    SCOPED_TRACE(value.value_or("NULL"));
    const std::string dir = PartitionDirName(value);
    EXPECT_TRUE(IsPartitionDirName(dir)) << dir;
    EXPECT_TRUE(ValidateObjectName(dir + "/part-00001.csv.gz").ok()) << dir;
    Result<Partition> back = ParsePartitionDirName(dir);
    ASSERT_TRUE(back.ok()) << dir << ": " << back.status().ToString();
    EXPECT_EQ(*back, value);
  }
}

TEST(PartitionDirNameTest, LongValuesAreShortenedWithAHashAndStayDistinct) {
  const std::string long_a(300, 'a');
  const std::string long_b = std::string(299, 'a') + "b";
  const std::string dir_a = PartitionDirName(long_a);
  const std::string dir_b = PartitionDirName(long_b);
  EXPECT_LE(dir_a.size(), kMaxPartitionDirLength);
  EXPECT_NE(dir_a, dir_b);
  EXPECT_NE(dir_a.find("~~"), std::string::npos);
  EXPECT_TRUE(IsPartitionDirName(dir_a));
  EXPECT_EQ(ParsePartitionDirName(dir_a).status().code(), StatusCode::kFailedPrecondition);
  // Escapes are never cut in the middle, and the name never ends in '.'.
  for (const std::string& value : {std::string(200, '/'), "x" + std::string(200, '.')}) {
    const std::string dir = PartitionDirName(value);
    EXPECT_TRUE(IsPartitionDirName(dir)) << dir;
    EXPECT_TRUE(ValidateObjectName(dir + "/part-00001.csv").ok()) << dir;
  }
  // The longest value that is not shortened.
  EXPECT_EQ(PartitionDirName(std::string(kMaxPartitionDirLength, 'z')),
            std::string(kMaxPartitionDirLength, 'z'));
}

TEST(PartitionDirNameTest, OnlyCanonicalEncodingsParse) {
  for (const char* bad : {"~41", "~2f", "~2", "a~", "~ZZ", "a/b", "..", ".a", "-a", "a.", ""}) {
    EXPECT_FALSE(ParsePartitionDirName(bad).ok()) << bad;
  }
}

TEST(ObjectNameTest, AcceptsOnePartitionDirectoryAndNothingUnsafe) {
  EXPECT_TRUE(ValidateObjectName("part-00001.csv").ok());
  EXPECT_TRUE(ValidateObjectName("eu~2Fwest/part-00001.csv").ok());
  EXPECT_TRUE(ValidateObjectName("~NULL/part-00002.ndjson.gz").ok());
  EXPECT_TRUE(ValidateObjectName(std::string(100, 'd') + "/" + std::string(128, 'f')).ok());
  const std::vector<std::string> bad = {"a/b/part-00001.csv",
                                        "../part-00001.csv",
                                        "./part-00001.csv",
                                        ".hidden/part-00001.csv",
                                        "-rf/part-00001.csv",
                                        "a../part-00001.csv",
                                        "a./part-00001.csv",
                                        "/part-00001.csv",
                                        "a/",
                                        "a//b",
                                        "a/..",
                                        "a/.x",
                                        "a%2F/part.csv",
                                        "a b/part.csv",
                                        "~/.ssh",
                                        std::string(101, 'd') + "/part.csv",
                                        "a\\b/part.csv",
                                        "part~1.csv"};
  for (const std::string& name : bad) {
    EXPECT_EQ(ValidateObjectName(name).code(), StatusCode::kInvalidArgument) << name;
  }
}

TEST(SplitSeriesTest, ResumeIndexFollowsTheSeriesOrder) {
  const std::vector<SeriesPartition> series = {"a", "c", std::nullopt};
  EXPECT_EQ(ResumeSeriesIndex(series, {.partition = "a"}), 0u);
  EXPECT_EQ(ResumeSeriesIndex(series, {.partition = "b"}), 1u);  // "b" has gone: "c" is next
  EXPECT_EQ(ResumeSeriesIndex(series, {.partition = "c"}), 1u);
  EXPECT_EQ(ResumeSeriesIndex(series, {.partition = "d"}), 2u);
  EXPECT_EQ(ResumeSeriesIndex(series, {.partition = std::nullopt}), 2u);
  EXPECT_EQ(ResumeSeriesIndex({"a"}, {.partition = std::nullopt}), 1u);
}

TEST(SplitSeriesTest, SeriesQueryNarrowsToOnePartitionOrToNull) {
  SourceQuery query;
  query.fields = {"id"};
  query.partitions = {"a", "b"};
  const SourceQuery a = SeriesQuery(query, "a");
  EXPECT_EQ(a.partitions, std::vector<std::string>{"a"});
  EXPECT_FALSE(a.null_partition);
  const SourceQuery null = SeriesQuery(SourceQuery{.fields = {"id"}}, std::nullopt);
  EXPECT_TRUE(null.partitions.empty());
  EXPECT_TRUE(null.null_partition);
}

}  // namespace
}  // namespace exportd
