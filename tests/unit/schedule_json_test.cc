#include "api/schedule_json.h"

#include <gtest/gtest.h>

#include <string>

#include "api/request_codec.h"
#include "core/time_format.h"

namespace exportd::api {
namespace {

const char* kBody = R"({"name": "nightly", "cron": "0 10 * * *",
  "time_zone": "America/Los_Angeles",
  "request": {"dataset": "samples", "format": "csv", "fields": ["id", "depth"],
              "filter": {"depth": {"gt": 1.5, "lte": 9}, "site": "a", "id": {"in": [1, "2"]},
                         "note": {"null": false}},
              "since": "2026-01-01T00:00:00Z", "partitions": ["p1"], "compression": "gzip",
              "tag": "t", "notify": {"email": ["a@example.org"]}, "retention": "2h",
              "escape_formulas": true},
  "enabled": false, "catch_up": "all"})";

TEST(ScheduleJsonTest, CreateDecodesEveryMemberAndTheTemplateLikeAnExportBody) {
  Result<ScheduleSpec> spec = ParseScheduleCreateJson(kBody);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->name, "nightly");
  EXPECT_EQ(spec->cron, "0 10 * * *");
  EXPECT_EQ(spec->time_zone, "America/Los_Angeles");
  EXPECT_FALSE(spec->enabled);
  EXPECT_EQ(spec->catch_up, CatchUp::kAll);
  // The template is exactly what the POST /v1/exports decoder makes of the same object.
  const std::string templ = nlohmann::json::parse(kBody)["request"].dump();
  Result<CreateExportInput> direct = ParseCreateExportJson(templ);
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(spec->request.request, direct->request);
  EXPECT_EQ(spec->request.tag, direct->tag);
  EXPECT_EQ(spec->request.notify, direct->notify);
  EXPECT_EQ(spec->request.retention, direct->retention);
  EXPECT_EQ(spec->request.escape_formulas, direct->escape_formulas);
}

TEST(ScheduleJsonTest, CreateDefaults) {
  Result<ScheduleSpec> spec = ParseScheduleCreateJson(
      R"({"name": "n", "cron": "* * * * *", "request": {"dataset": "samples"}})");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->time_zone, "UTC");
  EXPECT_TRUE(spec->enabled);
  EXPECT_EQ(spec->catch_up, CatchUp::kLatest);
}

TEST(ScheduleJsonTest, RenderedTemplateDecodesBackToItself) {
  Result<ScheduleSpec> spec = ParseScheduleCreateJson(kBody);
  ASSERT_TRUE(spec.ok());
  const std::string rendered = ScheduleTemplateToJson(spec->request).dump();
  Result<CreateExportInput> again = ParseCreateExportJson(rendered);
  ASSERT_TRUE(again.ok()) << again.status().ToString() << " " << rendered;
  EXPECT_EQ(again->request, spec->request.request);
  EXPECT_EQ(again->tag, spec->request.tag);
  EXPECT_EQ(again->retention, spec->request.retention);
  EXPECT_EQ(again->escape_formulas, spec->request.escape_formulas);
}

TEST(ScheduleJsonTest, RenderedTemplateKeepsTheRecurringFields) {
  for (const char* request :
       {R"({"dataset": "samples", "incremental": true, "export_type": "daily",
            "time_zone": "Europe/Berlin", "split_by": "partition", "partitions": ["a"]})",
        R"({"dataset": "samples", "record_ids": [3, "x"], "export_type": "hourly"})"}) {
    const std::string body =
        std::string(R"({"name": "n", "cron": "0 3 * * *", "request": )") + request + "}";
    Result<ScheduleSpec> spec = ParseScheduleCreateJson(body);
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    const std::string rendered = ScheduleTemplateToJson(spec->request).dump();
    Result<CreateExportInput> again = ParseCreateExportJson(rendered);
    ASSERT_TRUE(again.ok()) << again.status().ToString() << " " << rendered;
    EXPECT_EQ(again->request, spec->request.request) << rendered;
  }
}

TEST(ScheduleJsonTest, ErrorsCarryTheirCodeAndPointer) {
  struct Case {
    const char* body;
    StatusCode code;
    const char* pointer;
  };
  const Case cases[] = {
      {"not json", StatusCode::kMalformed, ""},
      {"[]", StatusCode::kMalformed, ""},
      {R"({"cron": "* * * * *", "request": {"dataset": "s"}})", StatusCode::kMalformed, "/name"},
      {R"({"name": "n", "request": {"dataset": "s"}})", StatusCode::kMalformed, "/cron"},
      {R"({"name": "n", "cron": "* * * * *"})", StatusCode::kMalformed, "/request"},
      {R"({"name": 5, "cron": "* * * * *", "request": {"dataset": "s"}})", StatusCode::kMalformed,
       "/name"},
      {R"({"name": "n", "cron": "* * * * *", "request": []})", StatusCode::kMalformed, "/request"},
      {R"({"name": "n", "cron": "* * * * *", "request": {"dataset": "s"}, "catch_up": "some"})",
       StatusCode::kInvalidArgument, "/catch_up"},
      {R"({"name": "n", "cron": "* * * * *", "request": {"dataset": "s"}, "enabled": "yes"})",
       StatusCode::kMalformed, "/enabled"},
      {R"({"name": "n", "cron": "* * * * *", "request": {"dataset": "s"}, "colour": 1})",
       StatusCode::kInvalidArgument, "/colour"},
      // The template's own errors, under /request.
      {R"({"name": "n", "cron": "* * * * *", "request": {"dataset": "s", "format": "xls"}})",
       StatusCode::kInvalidArgument, "/request/format"},
      {R"({"name": "n", "cron": "* * * * *", "request": {"format": "csv"}})",
       StatusCode::kMalformed, "/request/dataset"},
      {R"({"name": "n", "cron": "* * * * *", "request": {"dataset": "s", "since": "yesterday"}})",
       StatusCode::kInvalidArgument, "/request/since"},
  };
  for (const Case& c : cases) {
    Result<ScheduleSpec> spec = ParseScheduleCreateJson(c.body);
    ASSERT_FALSE(spec.ok()) << c.body;
    EXPECT_EQ(spec.status().code(), c.code) << c.body << " " << spec.status().ToString();
    EXPECT_EQ(spec.status().pointer(), c.pointer) << c.body;
  }
}

TEST(ScheduleJsonTest, PatchTakesAnySubsetButNotNothing) {
  Result<SchedulePatch> patch = ParseSchedulePatchJson(R"({"enabled": false})");
  ASSERT_TRUE(patch.ok());
  EXPECT_EQ(patch->enabled, false);
  EXPECT_FALSE(patch->name || patch->cron || patch->time_zone || patch->request || patch->catch_up);
  patch = ParseSchedulePatchJson(R"({"catch_up": "none", "request": {"dataset": "x"}})");
  ASSERT_TRUE(patch.ok());
  EXPECT_EQ(patch->catch_up, CatchUp::kNone);
  EXPECT_EQ(patch->request->request.dataset, "x");
  EXPECT_EQ(ParseSchedulePatchJson("{}").status().code(), StatusCode::kMalformed);
  EXPECT_EQ(ParseSchedulePatchJson(R"({"id": "sch_x"})").status().pointer(), "/id");
}

TEST(ScheduleJsonTest, Preview) {
  const TimePoint now = *ParseRfc3339("2026-03-07T12:00:00Z");
  Result<PreviewQuery> q = ParsePreviewJson(R"({"cron": "0 * * * *"})", now);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->time_zone, "UTC");
  EXPECT_EQ(q->from, now);
  EXPECT_EQ(q->count, 5);
  q = ParsePreviewJson(R"({"cron": "0 * * * *", "time_zone": "Europe/Berlin",
                           "from": "2026-01-01T00:00:00Z", "count": 100})",
                       now);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->from, *ParseRfc3339("2026-01-01T00:00:00Z"));
  EXPECT_EQ(q->count, 100);
  // Counts out of range stay out of range (ScheduleService::Preview says so), whatever size.
  q = ParsePreviewJson(R"({"cron": "* * * * *", "count": 18446744073709551615})", now);
  ASSERT_TRUE(q.ok());
  EXPECT_GT(q->count, kMaxPreviewRuns);
  q = ParsePreviewJson(R"({"cron": "* * * * *", "count": -9223372036854775807})", now);
  ASSERT_TRUE(q.ok());
  EXPECT_LT(q->count, 1);
  EXPECT_EQ(ParsePreviewJson(R"({"count": 1})", now).status().pointer(), "/cron");
  EXPECT_EQ(ParsePreviewJson(R"({"cron": "* * * * *", "from": "soon"})", now).status().pointer(),
            "/from");
  EXPECT_EQ(ParsePreviewJson(R"({"cron": "* * * * *", "count": 1.5})", now).status().code(),
            StatusCode::kMalformed);
}

TEST(ScheduleJsonTest, ScheduleRendering) {
  ScheduleView view;
  Schedule& s = view.schedule;
  s.id = "sch_1";
  s.name = "n";
  s.cron = "0 * * * *";
  s.time_zone = "UTC";
  s.request.request.dataset = "samples";
  s.request.notify.webhook = "https://hooks.example.com/secret/token";
  s.created_at = s.updated_at = *ParseRfc3339("2026-03-07T12:00:00Z");
  nlohmann::json j = ScheduleToJson(view);
  EXPECT_EQ(j["last_run"], nullptr);
  EXPECT_EQ(j["next_runs"], nlohmann::json::array());
  EXPECT_EQ(j["catch_up"], "latest");
  EXPECT_EQ(j["enabled"], true);
  // Like tasks, a webhook shows only its origin.
  EXPECT_EQ(j["request"]["notify"]["webhook"], "https://hooks.example.com/...");
  EXPECT_FALSE(j.contains("principal"));

  s.last_run = ScheduleRun{*ParseRfc3339("2026-03-07T11:00:00Z"), "T1",
                           *ParseRfc3339("2026-03-07T11:00:01Z")};
  view.next_runs = {std::chrono::floor<std::chrono::seconds>(s.created_at)};
  j = ScheduleToJson(view);
  EXPECT_EQ(j["last_run"]["task_id"], "T1");
  EXPECT_EQ(j["last_run"]["slot"], FormatRfc3339(s.last_run->slot));
  EXPECT_EQ(j["next_runs"].size(), 1u);
  EXPECT_EQ(PreviewToJson(view.next_runs)["runs"][0], j["next_runs"][0]);
}

}  // namespace
}  // namespace exportd::api
