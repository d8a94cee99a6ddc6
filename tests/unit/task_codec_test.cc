#include "storage/sqlite/task_codec.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/time_format.h"

namespace exportd {
namespace {

TimePoint AtMs(int64_t ms) { return TimePoint{} + std::chrono::milliseconds(ms); }

// Every field set to a non-default value, times at whole milliseconds.
Task FullTask() {
  Task t;
  t.id = "01JD0000000000000000000001";
  t.principal = "key-alice";
  t.state = TaskState::kSucceeded;
  t.request.dataset = "samples";
  t.request.format = Format::kNdjson;
  t.request.fields = {"id", "rock_type", "collected_at"};
  t.request.filter = {
      Condition{"a_null", FilterOp::kEq, {std::monostate{}}},
      Condition{"b_bool", FilterOp::kNull, {true}},
      Condition{"c_int", FilterOp::kGte, {int64_t{42}}},
      Condition{"d_double", FilterOp::kLt, {2.5}},
      Condition{"e_string", FilterOp::kPrefix, {std::string("bas\"alt\n")}},
      Condition{"f_in",
                FilterOp::kIn,
                {int64_t{1}, 1.0, std::string("1"), false, std::monostate{},
                 std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), 0.1,
                 1e300, -1e-300}},
      Condition{"g_ne", FilterOp::kNe, {int64_t{-7}}},
  };
  t.request.since = AtMs(1'700'000'000'123);
  t.request.until = AtMs(1'700'000'900'999);
  t.request.partitions = {"s1", "s2"};
  t.request.max_rows_per_file = 1234;
  t.request.compression = Compression::kGzip;
  t.request.escape_formulas = true;
  t.request.incremental = true;
  t.request.export_type = ExportType::kDaily;
  t.request.time_zone = "Europe/Berlin";
  t.request.record_ids = {int64_t{3}, std::string("x")};
  t.request.split_by = SplitBy::kPartition;
  t.query_hash = std::string(64, 'a');
  t.tag = "né tag ✓";
  t.notify.webhook = "https://hooks.example.org/x?y=1";
  t.notify.email = {"a@example.org", "b@example.org"};
  t.idempotency_key = "idem-1";
  t.created_at = AtMs(1'700'000'000'001);
  t.updated_at = AtMs(1'700'000'000'999);
  t.started_at = AtMs(1'700'000'000'500);
  t.finished_at = AtMs(1'700'000'000'900);
  t.not_before = AtMs(1'700'000'000'700);
  t.attempts = 2;
  t.max_attempts = 5;
  t.progress = Progress{160000, 0, 98765};
  t.error = TaskError{"source_unavailable", "busy", true};
  t.cancel_requested = true;
  t.files = {
      FileInfo{"part-00001.ndjson.gz", 80000, 111, std::string(64, 'b'), "application/x-ndjson"},
      FileInfo{"part-00002.ndjson.gz", 80000, 222, std::string(64, 'c'), "application/x-ndjson"}};
  t.files[0].contains_formulas = true;
  t.files[1].contains_formulas = false;
  t.files[1].partition = "s2";
  t.manifest = FileInfo{"manifest.json", 0, 333, std::string(64, 'd'), "application/json"};
  t.csv_contains_formulas = true;
  t.checkpoint = Checkpoint{.after_key = std::string("key \"160000\""),
                            .next_file = 3,
                            .rows = 160000,
                            .bytes = 333,
                            .rows_total = 170000,
                            .transaction_time = AtMs(1'700'000'000'400)};
  t.lease = Lease{"inst_0123456789abcdef", AtMs(1'700'000'030'500)};
  t.retention = std::chrono::seconds(5400);
  t.files_expire_at = AtMs(1'700'005'400'900);
  t.window = TaskWindow{AtMs(1'700'000'900'000),
                        {PartitionWindow{"s1", std::nullopt, AtMs(1'700'000'900'000)},
                         PartitionWindow{"s2", AtMs(1'699'999'000'000), AtMs(1'700'000'900'000)}}};
  t.metrics = TaskMetrics{.rows_by_partition = {{"s1", 120}, {"s2", 0}},
                          .excluded_rows = 3,
                          .distinct = {{"participant_id", {{"s1", 40}}}},
                          .missing_ids = 12,
                          .missing_ids_sample = {int64_t{7}, std::string("y")}};
  t.schedule_id = "sch_01";
  t.schedule_slot = AtMs(1'700'000'940'000);
  return t;
}

Task RoundTrip(const Task& task) {
  Result<Task> decoded = DecodeTask(EncodeTask(task));
  EXPECT_TRUE(decoded.ok()) << decoded.status().ToString();
  return decoded.ok() ? *decoded : Task{};
}

TEST(TaskCodecTest, EveryFieldRoundTrips) {
  const Task task = FullTask();
  EXPECT_EQ(RoundTrip(task), task);
}

TEST(TaskCodecTest, CheckpointKeysKeepTheirTypeAndANullKeyIsNotNoKey) {
  for (FilterValue key : {FilterValue{int64_t{7}}, FilterValue{7.0}, FilterValue{std::string("7")},
                          FilterValue{std::monostate{}}}) {
    Task task = FullTask();
    task.checkpoint->after_key = key;
    EXPECT_EQ(RoundTrip(task), task) << key.index();
  }
  Task task = FullTask();
  task.checkpoint->after_key.reset();  // an export without rows: no key yet
  EXPECT_EQ(RoundTrip(task).checkpoint, task.checkpoint);
}

TEST(TaskCodecTest, TheSeriesOfASplitExportsCheckpointRoundTrips) {
  Task task = FullTask();
  EXPECT_FALSE(RoundTrip(task).checkpoint->series.has_value());
  task.checkpoint->series = SeriesCheckpoint{.partition = "eu/west", .next_file = 3};
  EXPECT_EQ(RoundTrip(task).checkpoint, task.checkpoint);
  task.checkpoint->series = SeriesCheckpoint{.partition = std::nullopt, .next_file = 2};
  EXPECT_EQ(RoundTrip(task).checkpoint, task.checkpoint);  // the NULL partition's series
  task.checkpoint->series = SeriesCheckpoint{.partition = "", .next_file = 1};
  EXPECT_EQ(RoundTrip(task).checkpoint, task.checkpoint);
}

// A record written by version 1 (before checkpoints and leases) still reads, with neither.
TEST(TaskCodecTest, VersionOneRecordsDecode) {
  const std::string v1 =
      R"({"v":1,"id":"01A","principal":"alice","state":"Processing",)"
      R"("request":{"dataset":"samples","format":"csv","fields":[],"filter":[],"since":null,)"
      R"("until":null,"partitions":[],"max_rows_per_file":80000,"compression":"none"},)"
      R"("query_hash":"h","tag":null,"notify":{"webhook":null,"email":[]},)"
      R"("idempotency_key":null,"created_at":1700000000000,"updated_at":1700000000000,)"
      R"("started_at":1700000000000,"finished_at":null,"not_before":null,"attempts":1,)"
      R"("max_attempts":3,"progress":{"rows":5,"rows_total":10,"bytes":50},"error":null,)"
      R"("cancel_requested":false,"files":[],"manifest":null})";
  Result<Task> decoded = DecodeTask(v1);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->state, TaskState::kProcessing);
  EXPECT_EQ(decoded->progress.rows, 5);
  EXPECT_FALSE(decoded->checkpoint.has_value());
  EXPECT_FALSE(decoded->lease.has_value());
  EXPECT_FALSE(decoded->window.has_value());
  EXPECT_FALSE(decoded->metrics.has_value());
  EXPECT_FALSE(decoded->schedule_id.has_value());
  EXPECT_FALSE(decoded->request.incremental);
  EXPECT_EQ(decoded->request.export_type, ExportType::kInstant);
  EXPECT_TRUE(decoded->request.record_ids.empty());
}

// Bodies written before recurring exports (no window, metrics, schedule_id, request options or
// file partitions) read as tasks without them; and a task without them is written without those
// keys, so what older versions wrote and what this one writes for such a task are the same.
TEST(TaskCodecTest, BodiesWithoutRecurringExportKeysReadAsBefore) {
  Task task = FullTask();
  task.request.incremental = false;
  task.request.export_type = ExportType::kInstant;
  task.request.time_zone.reset();
  task.request.record_ids.clear();
  task.request.split_by.reset();
  task.files[1].partition.reset();
  task.window.reset();
  task.metrics.reset();
  task.schedule_id.reset();
  task.schedule_slot.reset();
  const std::string body = EncodeTask(task);
  for (const char* key :
       {"\"window\"", "\"metrics\"", "\"schedule_id\"", "\"schedule_slot\"", "\"incremental\"",
        "\"export_type\"", "\"time_zone\"", "\"record_ids\"", "\"split_by\"", "\"partition\""}) {
    EXPECT_EQ(body.find(key), std::string::npos) << key;
  }
  EXPECT_EQ(RoundTrip(task), task);
  // Explicit nulls (as a hand-edited or future body may hold) read as absent too.
  nlohmann::json j = nlohmann::json::parse(body);
  j["window"] = nullptr;
  j["metrics"] = nullptr;
  j["schedule_id"] = nullptr;
  j["schedule_slot"] = nullptr;
  Result<Task> decoded = DecodeTask(j.dump());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, task);
}

TEST(TaskCodecTest, BadRecurringExportKeysAreDataLoss) {
  nlohmann::json j = nlohmann::json::parse(EncodeTask(FullTask()));
  for (auto mutate : std::vector<std::function<void(nlohmann::json&)>>{
           [](nlohmann::json& x) { x["request"]["export_type"] = "weekly"; },
           [](nlohmann::json& x) { x["request"]["split_by"] = "study"; },
           [](nlohmann::json& x) {
             x["window"] = nlohmann::json{{"until", "soon"}};
           },
           [](nlohmann::json& x) { x["window"]["runs"][0]["partitions"] = "s1"; },
           [](nlohmann::json& x) { x["metrics"]["rows_by_partition"] = nlohmann::json::array(); },
           [](nlohmann::json& x) { x["schedule_id"] = 5; },
           [](nlohmann::json& x) { x["schedule_slot"] = "now"; }}) {
    nlohmann::json bad = j;
    mutate(bad);
    EXPECT_EQ(DecodeTask(bad.dump()).status().code(), StatusCode::kDataLoss) << bad.dump();
  }
}

// A window is stored as runs of neighbouring partitions with equal bounds; the partitions come
// back in their order, whatever the runs, and a body written before runs (one object per
// partition) reads the same.
TEST(TaskCodecTest, WindowRunsKeepThePartitionsAndTheirOrder) {
  Task task = FullTask();
  const TimePoint until = AtMs(1'700'000'900'000);
  const TimePoint since = AtMs(1'699'999'000'000);
  task.window =
      TaskWindow{until,
                 {PartitionWindow{"a", since, until}, PartitionWindow{"b", since, until},
                  PartitionWindow{"c", std::nullopt, until}, PartitionWindow{"d", since, until},
                  PartitionWindow{"e", since, AtMs(1'699'999'500'000)}}};
  const nlohmann::json stored = nlohmann::json::parse(EncodeTask(task));
  ASSERT_EQ(stored["window"]["runs"].size(), 4u) << stored["window"].dump();
  EXPECT_EQ(stored["window"]["runs"][0]["partitions"], nlohmann::json::array({"a", "b"}));
  Result<Task> decoded = DecodeTask(stored.dump());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->window, task.window);

  nlohmann::json before = stored;
  nlohmann::json partitions = nlohmann::json::array();
  for (const PartitionWindow& p : task.window->partitions) {
    partitions.push_back(
        {{"partition", p.partition},
         {"since", p.since ? nlohmann::json(ToUnixMillis(*p.since)) : nlohmann::json(nullptr)},
         {"until", ToUnixMillis(p.until)}});
  }
  before["window"] = {{"until", ToUnixMillis(until)}, {"partitions", partitions}};
  Result<Task> old = DecodeTask(before.dump());
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(old->window, task.window);

  task.window->partitions.clear();
  decoded = DecodeTask(EncodeTask(task));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->window, task.window);
}

// Records from before retention read with the default retention, and a finished one with its
// files expiring that long after finished_at (the same expiry migration 003 indexes).
TEST(TaskCodecTest, RecordsBeforeRetentionGetTheDefault) {
  auto as_v2 = [](const Task& task) {
    nlohmann::json j = nlohmann::json::parse(EncodeTask(task));
    EXPECT_EQ(j.erase("retention_s"), 1u);
    EXPECT_EQ(j.erase("files_expire_at"), 1u);
    j["v"] = 2;
    return j.dump();
  };
  Task task = FullTask();
  task.retention = kDefaultRetention;
  task.files_expire_at = *task.finished_at + kDefaultRetention;
  EXPECT_EQ(RoundTrip(task), task);
  Result<Task> decoded = DecodeTask(as_v2(task));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, task);

  task.state = TaskState::kPending;
  task.finished_at.reset();
  task.files_expire_at.reset();
  decoded = DecodeTask(as_v2(task));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->retention, kDefaultRetention);
  EXPECT_EQ(decoded->files_expire_at, std::nullopt);
}

TEST(TaskCodecTest, DefaultTaskRoundTrips) {
  Task task;
  task.id = "01JD0000000000000000000002";
  EXPECT_EQ(RoundTrip(task), task);
}

TEST(TaskCodecTest, EveryStateRoundTrips) {
  for (TaskState s : {TaskState::kPending, TaskState::kProcessing, TaskState::kSucceeded,
                      TaskState::kFailed, TaskState::kCancelled}) {
    Task task = FullTask();
    task.state = s;
    EXPECT_EQ(RoundTrip(task).state, s);
  }
}

TEST(TaskCodecTest, EveryFormatCompressionAndOpRoundTrips) {
  for (Format f : {Format::kCsv, Format::kTsv, Format::kJson, Format::kNdjson}) {
    for (Compression c : {Compression::kNone, Compression::kGzip}) {
      Task task = FullTask();
      task.request.format = f;
      task.request.compression = c;
      EXPECT_EQ(RoundTrip(task).request, task.request);
    }
  }
  Task task = FullTask();
  task.request.filter.clear();
  for (FilterOp op : {FilterOp::kEq, FilterOp::kNe, FilterOp::kGt, FilterOp::kGte, FilterOp::kLt,
                      FilterOp::kLte, FilterOp::kIn, FilterOp::kPrefix, FilterOp::kNull}) {
    task.request.filter.push_back(Condition{"x", op, {int64_t{1}}});
  }
  EXPECT_EQ(RoundTrip(task).request.filter, task.request.filter);
}

TEST(TaskCodecTest, IntegersAndRealsStayDistinct) {
  Task task = FullTask();
  task.request.filter = {Condition{"x", FilterOp::kIn, {int64_t{5}, 5.0, -0.0, 1e20}}};
  const Task decoded = RoundTrip(task);
  const std::vector<FilterValue>& values = decoded.request.filter.at(0).values;
  ASSERT_EQ(values.size(), 4u);
  ASSERT_TRUE(std::holds_alternative<int64_t>(values[0]));
  EXPECT_EQ(std::get<int64_t>(values[0]), 5);
  ASSERT_TRUE(std::holds_alternative<double>(values[1]));
  EXPECT_EQ(std::get<double>(values[1]), 5.0);
  ASSERT_TRUE(std::holds_alternative<double>(values[2]));
  EXPECT_TRUE(std::signbit(std::get<double>(values[2])));
  ASSERT_TRUE(std::holds_alternative<double>(values[3]));
  EXPECT_EQ(std::get<double>(values[3]), 1e20);
}

TEST(TaskCodecTest, NonFiniteDoublesRoundTrip) {
  Task task = FullTask();
  const double inf = std::numeric_limits<double>::infinity();
  task.request.filter = {
      Condition{"x", FilterOp::kIn, {inf, -inf, std::numeric_limits<double>::quiet_NaN()}}};
  const Task decoded = RoundTrip(task);
  const std::vector<FilterValue>& values = decoded.request.filter.at(0).values;
  ASSERT_EQ(values.size(), 3u);
  EXPECT_EQ(std::get<double>(values[0]), inf);
  EXPECT_EQ(std::get<double>(values[1]), -inf);
  EXPECT_TRUE(std::isnan(std::get<double>(values[2])));
}

TEST(TaskCodecTest, RowsTotalNullAndZeroAreDistinct) {
  Task task = FullTask();
  task.progress.rows_total = std::nullopt;
  EXPECT_EQ(RoundTrip(task).progress.rows_total, std::nullopt);
  task.progress.rows_total = 0;
  EXPECT_EQ(RoundTrip(task).progress.rows_total, std::optional<int64_t>(0));
}

TEST(TaskCodecTest, OptionalFieldsAbsentRoundTrip) {
  Task task = FullTask();
  task.tag.reset();
  task.notify = Notify{};
  task.idempotency_key.reset();
  task.started_at.reset();
  task.finished_at.reset();
  task.not_before.reset();
  task.error.reset();
  task.files.clear();
  task.manifest.reset();
  task.request.since.reset();
  task.request.until.reset();
  EXPECT_EQ(RoundTrip(task), task);
}

TEST(TaskCodecTest, TimesAreKeptToTheMillisecond) {
  Task task = FullTask();
  task.created_at = AtMs(1'700'000'000'123) + std::chrono::microseconds(456);
  task.request.since = AtMs(5) + std::chrono::nanoseconds(999'999);
  const Task decoded = RoundTrip(task);
  EXPECT_EQ(decoded.created_at, AtMs(1'700'000'000'123));
  EXPECT_EQ(decoded.request.since, AtMs(5));
  EXPECT_EQ(decoded, TruncateTimes(task));
}

TEST(TaskCodecTest, CorruptRecordsAreDataLoss) {
  std::string good = EncodeTask(FullTask());
  const std::string bad[] = {
      "",
      "not json",
      "[]",
      "{}",
      // A wrong type must not be coerced.
      [&] {
        std::string s = good;
        s.replace(s.find("\"attempts\":2"), 12, "\"attempts\":2.5");
        return s;
      }(),
      [&] {
        std::string s = good;
        s.replace(s.find("\"state\":\"Succeeded\""), 19, "\"state\":\"Done\"");
        return s;
      }(),
      [&] {
        std::string s = good;
        s.replace(s.find("\"v\":3"), 5, "\"v\":99");
        return s;
      }(),
  };
  for (const std::string& text : bad) {
    Result<Task> decoded = DecodeTask(text);
    ASSERT_FALSE(decoded.ok()) << text;
    EXPECT_EQ(decoded.status().code(), StatusCode::kDataLoss) << text;
  }
}

// The formula keys came without a version bump: records without them read as "not escaped"
// and "unknown", and each key keeps false apart from absent.
TEST(TaskCodecTest, RecordsWithoutFormulaKeysReadAsUnknown) {
  Task task = FullTask();
  nlohmann::json j = nlohmann::json::parse(EncodeTask(task));
  EXPECT_EQ(j["request"]["escape_formulas"], true);
  EXPECT_EQ(j["files"][0]["contains_formulas"], true);
  EXPECT_EQ(j["files"][1]["contains_formulas"], false);
  EXPECT_EQ(j["csv_contains_formulas"], true);
  EXPECT_EQ(j["request"].erase("escape_formulas"), 1u);
  for (auto& f : j["files"]) EXPECT_EQ(f.erase("contains_formulas"), 1u);
  EXPECT_EQ(j.erase("csv_contains_formulas"), 1u);
  Result<Task> decoded = DecodeTask(j.dump());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_FALSE(decoded->request.escape_formulas);
  EXPECT_EQ(decoded->files[0].contains_formulas, std::nullopt);
  EXPECT_EQ(decoded->files[1].contains_formulas, std::nullopt);
  EXPECT_EQ(decoded->csv_contains_formulas, std::nullopt);

  task.csv_contains_formulas = false;
  task.files[0].contains_formulas.reset();
  EXPECT_EQ(RoundTrip(task), task);
  j = nlohmann::json::parse(EncodeTask(task));
  j["files"][1]["contains_formulas"] = "yes";
  EXPECT_EQ(DecodeTask(j.dump()).status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace exportd
