#include "storage/sqlite/schedule_codec.h"

#include <gtest/gtest.h>

#include <string>

#include "core/time_format.h"

namespace exportd {
namespace {

Schedule FullSchedule() {
  Schedule s;
  s.id = "sch_01JNZ0000000000000000000AB";
  s.principal = "alice";
  s.name = "nightly \xC3\xA4";
  s.cron = "0 10 * * MON-FRI";
  s.time_zone = "America/Los_Angeles";
  s.enabled = false;
  s.catch_up = CatchUp::kAll;
  s.enabled_at = *ParseRfc3339("2026-02-01T10:00:00.250Z");
  ExportRequest& r = s.request.request;
  r.dataset = "samples";
  r.format = Format::kNdjson;
  r.fields = {"id", "depth"};
  r.filter = {Condition{"depth", FilterOp::kGt, {1.5}},
              Condition{"id", FilterOp::kIn, {int64_t{1}, std::string("2")}},
              Condition{"site", FilterOp::kNull, {true}}};
  r.since = *ParseRfc3339("2026-01-01T00:00:00.123Z");
  r.partitions = {"a", "b"};
  r.max_rows_per_file = 1000;
  r.compression = Compression::kGzip;
  s.request.tag = "nightly";
  s.request.notify.webhook = "https://example.com/hook?token=x";
  s.request.notify.email = {"a@example.org"};
  s.request.retention = std::chrono::seconds(7200);
  s.request.escape_formulas = true;
  return s;
}

// Only the body's members: the rest of a Schedule lives in other columns.
Schedule BodyOnly(const Schedule& s) {
  Schedule out;
  out.name = s.name;
  out.cron = s.cron;
  out.time_zone = s.time_zone;
  out.request = s.request;
  out.enabled = s.enabled;
  out.catch_up = s.catch_up;
  out.enabled_at = s.enabled_at;
  return out;
}

TEST(ScheduleCodecTest, EveryMemberRoundTrips) {
  const Schedule s = FullSchedule();
  Schedule decoded;
  ASSERT_TRUE(DecodeScheduleBody(EncodeScheduleBody(s), decoded).ok());
  EXPECT_EQ(decoded, BodyOnly(s));
}

TEST(ScheduleCodecTest, DefaultsRoundTrip) {
  Schedule s;
  s.name = "n";
  s.cron = "* * * * *";
  s.time_zone = "UTC";
  s.request.request.dataset = "samples";
  Schedule decoded;
  decoded.request.tag = "left over";  // decoding replaces, not merges
  ASSERT_TRUE(DecodeScheduleBody(EncodeScheduleBody(s), decoded).ok());
  EXPECT_EQ(decoded, s);
}

TEST(ScheduleCodecTest, NotABodyIsDataLoss) {
  Schedule decoded;
  for (const std::string& bad :
       {std::string("not json"), std::string("{}"), std::string("[]"),
        std::string(R"({"v": 99, "name": "n"})"),
        std::string(R"({"v":1,"name":"n","cron":"* * * * *","time_zone":"UTC","enabled":true,)"
                    R"("catch_up":"sometimes","template":{}})")}) {
    Status s = DecodeScheduleBody(bad, decoded);
    EXPECT_EQ(s.code(), StatusCode::kDataLoss) << bad;
  }
}

}  // namespace
}  // namespace exportd
