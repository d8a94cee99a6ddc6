// api/task_json.h: how long the file links of a rendered task live (LinkExpiry), and the
// fields of recurring exports in a task and a dataset.
#include "api/task_json.h"

#include <gtest/gtest.h>

#include "tests/fakes/memory_object_store.h"

namespace exportd::api {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

const TimePoint kNow = TimePoint{} + std::chrono::milliseconds(1'700'000'000'250);

Task Finished(std::chrono::seconds files_live) {
  Task t;
  t.files_expire_at = kNow + files_live;
  return t;
}

TEST(LinkExpiryTest, ApiLinksLiveTheTtlButNotPastTheFiles) {
  TaskViewContext ctx{nullptr, kNow, hours(24)};
  EXPECT_EQ(LinkExpiry(Finished(hours(24 * 7)), ctx),
            std::chrono::floor<seconds>(kNow + hours(24)));
  EXPECT_EQ(LinkExpiry(Finished(hours(2)), ctx), std::chrono::floor<seconds>(kNow + hours(2)));
}

// Links sent in a notification are read later: they live as long as the files.
TEST(LinkExpiryTest, NotificationLinksLiveUntilTheFilesExpire) {
  TaskViewContext ctx{nullptr, kNow, hours(24)};
  ctx.links_until_files_expire = true;
  EXPECT_EQ(LinkExpiry(Finished(hours(24 * 7)), ctx),
            std::chrono::floor<seconds>(kNow + hours(24 * 7)));
  EXPECT_EQ(LinkExpiry(Finished(hours(2)), ctx), std::chrono::floor<seconds>(kNow + hours(2)));
}

// S3 pre-signed URLs live at most 7 days: a link is never shown as valid for longer.
TEST(LinkExpiryTest, TheStoresLimitCutsLinksShort) {
  TaskViewContext ctx{nullptr, kNow, hours(24)};
  ctx.links_until_files_expire = true;
  ctx.max_link_ttl = hours(24 * 7);
  EXPECT_EQ(LinkExpiry(Finished(hours(24 * 30)), ctx),
            std::chrono::floor<seconds>(kNow + hours(24 * 7)));
  EXPECT_EQ(LinkExpiry(Finished(hours(24 * 3)), ctx),
            std::chrono::floor<seconds>(kNow + hours(24 * 3)));
}

// The task fields of recurring exports as API.md shows them: null until set, then objects.
TEST(TaskToJsonTest, WindowMetricsScheduleAndFilePartitions) {
  fakes::MemoryObjectStore objects([](std::string_view) { return std::string("d"); });
  TaskViewContext ctx{&objects, kNow, hours(24)};
  Task t;
  t.id = "01JD0000000000000000000001";
  t.request.dataset = "samples";
  t.state = TaskState::kSucceeded;
  t.files = {FileInfo{"part-00001.csv", 1, 2, "h", "text/csv"},
             FileInfo{"p1/part-00001.csv", 3, 4, "h", "text/csv"}};
  t.files[1].partition = "p1";
  nlohmann::json plain = TaskToJson(t, ctx);
  EXPECT_TRUE(plain.at("window").is_null());
  EXPECT_TRUE(plain.at("metrics").is_null());
  EXPECT_TRUE(plain.at("schedule_id").is_null());
  EXPECT_TRUE(plain.at("files").at(0).at("partition").is_null());
  EXPECT_EQ(plain.at("files").at(1).at("partition"), "p1");

  const TimePoint until = TimePoint{} + std::chrono::milliseconds(1'700'000'000'000);
  t.window = TaskWindow{until,
                        {PartitionWindow{"p1", std::nullopt, until},
                         PartitionWindow{"p2", until - hours(24), until}}};
  t.metrics = TaskMetrics{.rows_by_partition = {{"p1", 120}},
                          .excluded_rows = 3,
                          .distinct = {{"participant_id", {{"p1", 40}}}},
                          .missing_ids = 2,
                          .missing_ids_sample = {int64_t{7}, int64_t{9}}};
  t.schedule_id = "sch_01";
  nlohmann::json full = TaskToJson(t, ctx);
  EXPECT_EQ(full.at("window"), nlohmann::json::parse(R"({"until": "2023-11-14T22:13:20.000Z",
      "partitions": [{"partition": "p1", "since": null, "until": "2023-11-14T22:13:20.000Z"},
                     {"partition": "p2", "since": "2023-11-13T22:13:20.000Z",
                      "until": "2023-11-14T22:13:20.000Z"}]})"));
  EXPECT_EQ(full.at("metrics"), nlohmann::json::parse(R"({"rows_by_partition": {"p1": 120},
      "excluded_rows": 3, "distinct": {"participant_id": {"p1": 40}}, "missing_ids": 2,
      "missing_ids_sample": [7, 9]})"));
  EXPECT_EQ(full.at("schedule_id"), "sch_01");
}

TEST(DatasetToJsonTest, ShowsTheRulesOfRecurringExports) {
  DatasetSpec spec;
  spec.name = "samples";
  spec.key = "id";
  nlohmann::json plain = DatasetToJson(Dataset(spec, {{"id", FieldType::kInteger}}));
  EXPECT_TRUE(plain.at("time_zone").is_null());
  EXPECT_EQ(plain.at("settle_seconds"), 0);
  EXPECT_EQ(plain.at("row_filter"), nlohmann::json::array());
  EXPECT_EQ(plain.at("metrics"), nlohmann::json::parse(R"({"count_distinct": []})"));
  spec.time_zone = "Europe/Berlin";
  spec.settle_seconds = 60;
  spec.row_filter = {Condition{"scope", FilterOp::kNe, {std::string("none")}}};
  spec.count_distinct = {"participant_id"};
  nlohmann::json shown = DatasetToJson(Dataset(spec, {{"id", FieldType::kInteger}}));
  EXPECT_EQ(shown.at("time_zone"), "Europe/Berlin");
  EXPECT_EQ(shown.at("settle_seconds"), 60);
  EXPECT_EQ(shown.at("row_filter"),
            nlohmann::json::parse(R"([{"field": "scope", "op": "ne", "value": "none"}])"));
  EXPECT_EQ(shown.at("metrics").at("count_distinct"), nlohmann::json::array({"participant_id"}));
}

}  // namespace
}  // namespace exportd::api
