// Recurring exports against the real binary: the cases of the design exportd replaces, each as
// an automated test. The items table has one row an hour from 2024-01-01T00:00Z (row i at i
// hours), in four regions (i % 4: north, south, east, west), so every window below selects
// rows that the test can name.
#include <set>
#include <thread>

#include "tests/integration/itest_support.h"
#include "tests/integration/source_db.h"

namespace exportd::itest {
namespace {

using std::chrono::seconds;

const std::vector<std::string> kFields = {"id", "region", "observed_at"};

class IncrementalExportTest : public ExportdTest {
 protected:
  // Creates an export of `body` (dataset items, fields id/region/observed_at added) and waits
  // for it to end; the task as it ended.
  Json Run(Json body) {
    body["dataset"] = "items";
    if (!body.contains("fields")) body["fields"] = kFields;
    const std::string id = CreateExport(*api_, body);
    if (id.empty()) return Json();
    return WaitForTerminal(*api_, id, seconds(60));
  }

  // The ids of rows [from_hour, to_hour) of the given regions (all when empty).
  static std::vector<int64_t> Hours(int from_hour, int to_hour, std::set<int> regions = {}) {
    std::vector<int64_t> ids;
    for (int i = std::max(from_hour, 1); i < to_hour; ++i) {
      if (regions.empty() || regions.count(i % 4)) ids.push_back(i);
    }
    return ids;
  }

  // partition -> watermark (RFC 3339) as GET .../watermarks lists them.
  std::map<std::string, std::string> Watermarks() {
    HttpResponse res = api_->Get("/v1/datasets/items/watermarks");
    EXPECT_EQ(res.status, 200) << res.Describe();
    std::map<std::string, std::string> out;
    for (const Json& item : res.json.value("items", Json::array())) {
      out[item["partition"]] = item["watermark"];
    }
    return out;
  }

  static std::map<std::string, std::string> AllAt(const std::string& instant) {
    return {{"east", instant}, {"north", instant}, {"south", instant}, {"west", instant}};
  }

  void SetWatermark(const std::string& partition, const std::string& instant) {
    HttpResponse res = api_->Send("PUT", "/v1/datasets/items/watermarks/" + partition,
                                  Json{{"watermark", instant}}.dump(), "application/json");
    ASSERT_EQ(res.status, 200) << res.Describe();
  }

  // partition -> since ("" for none) of a task's window.
  static std::map<std::string, std::string> WindowSince(const Json& task) {
    std::map<std::string, std::string> out;
    for (const Json& p : task["window"]["partitions"]) {
      out[p["partition"]] = p["since"].is_null() ? "" : p["since"].get<std::string>();
    }
    return out;
  }
};

TEST_F(IncrementalExportTest, DailyWithoutWatermarkStartsADayBeforeUntilThenUsesTheWatermark) {
  ASSERT_TRUE(StartWithItems(200));
  // No watermark: each region starts one day before `until`.
  Json first =
      Run({{"incremental", true}, {"export_type", "daily"}, {"until", "2024-01-03T00:00:00Z"}});
  EXPECT_EQ(ExportedIds(*api_, first), Hours(24, 48));
  EXPECT_EQ(first["window"]["until"], "2024-01-03T00:00:00.000Z");
  EXPECT_EQ(WindowSince(first), AllAt("2024-01-02T00:00:00.000Z"));
  EXPECT_EQ(Watermarks(), AllAt("2024-01-03T00:00:00.000Z"));
  EXPECT_EQ(first["metrics"]["rows_by_partition"],
            (Json{{"east", 6}, {"north", 6}, {"south", 6}, {"west", 6}}));
  // The watermark moves by the task, named in the listing and in one audit event per region.
  HttpResponse listed = api_->Get("/v1/datasets/items/watermarks");
  EXPECT_EQ(listed.json["items"][0]["task_id"], first["id"]);
  EXPECT_EQ(EventsOfType(GetEvents(*api_, first["id"]), "watermark").size(), 4u);

  // With watermarks: each region continues where the last export ended.
  Json second =
      Run({{"incremental", true}, {"export_type", "daily"}, {"until", "2024-01-05T00:00:00Z"}});
  EXPECT_EQ(ExportedIds(*api_, second), Hours(48, 96));
  EXPECT_EQ(WindowSince(second), AllAt("2024-01-03T00:00:00.000Z"));
  EXPECT_EQ(Watermarks(), AllAt("2024-01-05T00:00:00.000Z"));
}

TEST_F(IncrementalExportTest, HourlyWithoutAndWithAWatermark) {
  ASSERT_TRUE(StartWithItems(50));
  Json first =
      Run({{"incremental", true}, {"export_type", "hourly"}, {"until", "2024-01-01T10:00:00Z"}});
  EXPECT_EQ(ExportedIds(*api_, first), Hours(9, 10));
  EXPECT_EQ(WindowSince(first), AllAt("2024-01-01T09:00:00.000Z"));
  Json second =
      Run({{"incremental", true}, {"export_type", "hourly"}, {"until", "2024-01-01T12:00:00Z"}});
  EXPECT_EQ(ExportedIds(*api_, second), Hours(10, 12));
  EXPECT_EQ(Watermarks(), AllAt("2024-01-01T12:00:00.000Z"));
}

TEST_F(IncrementalExportTest, InstantStartsAtTheBeginningAndEndsNowWithoutUntil) {
  ASSERT_TRUE(StartWithItems(60));
  Json first = Run({{"incremental", true}, {"until", "2024-01-01T05:00:00Z"}});
  EXPECT_EQ(ExportedIds(*api_, first), Hours(0, 5));
  EXPECT_EQ(WindowSince(first), AllAt(""));
  // No until: now (minus the dataset's settle_seconds, 0 here); everything after the watermark.
  const int64_t before = UnixNowMillis();
  Json second = Run({{"incremental", true}});
  EXPECT_EQ(ExportedIds(*api_, second), Hours(5, 61));
  const std::optional<int64_t> until = ParseRfc3339Millis(second["window"]["until"]);
  ASSERT_TRUE(until.has_value());
  EXPECT_GE(*until, before - 1000);
  EXPECT_LE(*until, UnixNowMillis());
  EXPECT_EQ(Watermarks(), AllAt(second["window"]["until"]));
}

TEST_F(IncrementalExportTest, AnExplicitSinceStartsPartitionsWithoutAWatermark) {
  ASSERT_TRUE(StartWithItems(100));
  SetWatermark("north", "2024-01-02T00:00:00Z");
  Json task = Run({{"incremental", true},
                   {"export_type", "daily"},
                   {"since", "2024-01-01T20:00:00Z"},
                   {"until", "2024-01-03T00:00:00Z"}});
  // north (i % 4 == 0) from its watermark; the others from `since`.
  std::vector<int64_t> expected;
  for (int i = 20; i < 48; ++i) {
    if (i % 4 != 0 || i >= 24) expected.push_back(i);
  }
  EXPECT_EQ(ExportedIds(*api_, task), expected);
  EXPECT_EQ(WindowSince(task)["north"], "2024-01-02T00:00:00.000Z");
  EXPECT_EQ(WindowSince(task)["south"], "2024-01-01T20:00:00.000Z");
}

TEST_F(IncrementalExportTest, ReDrivesOfAWindowAndRecordListsNeitherReadNorMoveWatermarks) {
  ASSERT_TRUE(StartWithItems(100));
  ASSERT_EQ(
      Run({{"incremental", true}, {"export_type", "daily"}, {"until", "2024-01-03T00:00:00Z"}})
          .value("status", ""),
      "Succeeded");
  const auto marks = Watermarks();
  ASSERT_EQ(marks, AllAt("2024-01-03T00:00:00.000Z"));

  // A daily re-drive of an explicit window that the watermarks have passed: exactly that window.
  Json daily = Run({{"export_type", "daily"},
                    {"since", "2024-01-01T00:00:00Z"},
                    {"until", "2024-01-02T00:00:00Z"}});
  EXPECT_EQ(ExportedIds(*api_, daily), Hours(0, 24));
  EXPECT_TRUE(daily["window"].is_null());
  // An hourly re-drive of a table window (one region).
  Json hourly = Run({{"export_type", "hourly"},
                     {"since", "2024-01-01T03:00:00Z"},
                     {"until", "2024-01-01T09:00:00Z"},
                     {"partitions", {"east"}}});
  EXPECT_EQ(ExportedIds(*api_, hourly), Hours(3, 9, {2}));
  // A record list: exactly those records, in key order; the unknown ones are counted.
  Json listed = Run({{"record_ids", {77, 5, 3, 123456, 5}}});
  EXPECT_EQ(ExportedIds(*api_, listed), (std::vector<int64_t>{3, 5, 77}));
  EXPECT_EQ(listed["metrics"]["missing_ids"], 1);
  EXPECT_EQ(listed["metrics"]["missing_ids_sample"], Json::array({123456}));

  EXPECT_EQ(Watermarks(), marks);
  HttpResponse audit = api_->Get("/v1/audit?type=watermark");
  ASSERT_EQ(audit.status, 200);
  EXPECT_EQ(audit.json["items"].size(), 4u) << "only the first export moved watermarks";
}

TEST_F(IncrementalExportTest, AnUntilBeforeTheWatermarkExportsNothingAndDoesNotMoveItBack) {
  ASSERT_TRUE(StartWithItems(100));
  SetWatermark("north", "2024-01-03T00:00:00Z");
  Json task =
      Run({{"incremental", true}, {"partitions", {"north"}}, {"until", "2024-01-02T00:00:00Z"}});
  EXPECT_EQ(ExportedIds(*api_, task), std::vector<int64_t>{});
  EXPECT_EQ(Watermarks(),
            (std::map<std::string, std::string>{{"north", "2024-01-03T00:00:00.000Z"}}));
  EXPECT_EQ(EventsOfType(GetEvents(*api_, task["id"]), "watermark").size(), 0u);
}

TEST_F(IncrementalExportTest, AFailedExportMovesNothingAndTheNextCoversBothWindows) {
  ASSERT_TRUE(StartWithItems(100));
  ASSERT_EQ(
      Run({{"incremental", true}, {"export_type", "daily"}, {"until", "2024-01-02T00:00:00Z"}})
          .value("status", ""),
      "Succeeded");
  // The source loses a column: the next export fails for good (schema drift is permanent).
  ExecSql(source_path(), "ALTER TABLE items RENAME COLUMN name TO name_gone");
  Json failed =
      Run({{"incremental", true}, {"export_type", "daily"}, {"until", "2024-01-03T00:00:00Z"}});
  EXPECT_EQ(failed.value("status", ""), "Failed") << failed.dump();
  EXPECT_EQ(Watermarks(), AllAt("2024-01-02T00:00:00.000Z"));
  ExecSql(source_path(), "ALTER TABLE items RENAME COLUMN name_gone TO name");
  // The next export starts where the last Succeeded one ended: nothing lost, nothing doubled.
  Json next =
      Run({{"incremental", true}, {"export_type", "daily"}, {"until", "2024-01-04T00:00:00Z"}});
  EXPECT_EQ(ExportedIds(*api_, next), Hours(24, 72));
  EXPECT_EQ(Watermarks(), AllAt("2024-01-04T00:00:00.000Z"));
}

TEST_F(IncrementalExportTest, IdenticalRequestsSentTogetherExportEveryRecordOnce) {
  ASSERT_TRUE(StartWithItems(300, {{"workers", 3}}));
  const Json body = {{"dataset", "items"}, {"fields", kFields}, {"incremental", true}};
  std::vector<std::string> ids(4);
  std::vector<std::thread> senders;
  for (size_t i = 0; i < ids.size(); ++i) {
    senders.emplace_back([&, i] { ids[i] = CreateExport(*api_, body); });
  }
  for (std::thread& t : senders) t.join();
  std::vector<int64_t> all;
  for (const std::string& id : ids) {
    ASSERT_FALSE(id.empty());
    std::vector<int64_t> got = ExportedIds(*api_, WaitForTerminal(*api_, id, seconds(60)));
    all.insert(all.end(), got.begin(), got.end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, Hours(0, 301));
  // They ran one after the other: each window starts where the one before ended.
  std::set<std::string> untils;
  for (const std::string& id : ids) untils.insert(GetTask(*api_, id)["window"]["until"]);
  EXPECT_EQ(untils.size(), ids.size());
}

TEST_F(IncrementalExportTest, DeletingAWatermarkStartsThatPartitionAfreshAndOthersContinue) {
  ASSERT_TRUE(StartWithItems(200));
  ASSERT_EQ(
      Run({{"incremental", true}, {"export_type", "daily"}, {"until", "2024-01-03T00:00:00Z"}})
          .value("status", ""),
      "Succeeded");
  ASSERT_EQ(api_->Delete("/v1/datasets/items/watermarks/north").status, 204);
  Json next =
      Run({{"incremental", true}, {"export_type", "daily"}, {"until", "2024-01-05T00:00:00Z"}});
  std::map<std::string, std::string> since = WindowSince(next);
  EXPECT_EQ(since["north"], "2024-01-04T00:00:00.000Z");  // the daily default start
  EXPECT_EQ(since["south"], "2024-01-03T00:00:00.000Z");  // its watermark
  std::vector<int64_t> expected;
  for (int i = 48; i < 96; ++i) {
    if (i % 4 != 0 || i >= 72) expected.push_back(i);
  }
  EXPECT_EQ(ExportedIds(*api_, next), expected);
}

TEST_F(IncrementalExportTest, DailyWindowsFollowTheTimeZoneAcrossADstChange) {
  ASSERT_TRUE(StartWithItems(24 * 80));
  // 2024-03-10 is 23 hours long in Los Angeles: its day runs 08:00Z .. 07:00Z next day.
  Json task = Run({{"incremental", true},
                   {"export_type", "daily"},
                   {"time_zone", "America/Los_Angeles"},
                   {"until", "2024-03-11T07:00:00Z"}});
  EXPECT_EQ(WindowSince(task), AllAt("2024-03-10T08:00:00.000Z"));
  const int start = (31 + 29 + 9) * 24 + 8;  // hours from 2024-01-01 to 2024-03-10T08:00Z
  EXPECT_EQ(ExportedIds(*api_, task), Hours(start, start + 23));
}

}  // namespace
}  // namespace exportd::itest
