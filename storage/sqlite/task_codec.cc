#include "storage/sqlite/task_codec.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/time_format.h"
#include "storage/sqlite/request_record.h"

namespace exportd {
namespace {

using nlohmann::json;

// Version of the stored layout. Decode accepts this and older versions.
// 2: "checkpoint" and "lease" (absent in 1, read as none).
// 3: "retention_s" and "files_expire_at" (absent before: the built-in default retention, and
//    finished_at + that for a finished task; migration 003 indexes the same expiry).
// Optional keys, in any version (absent: the default): request "escape_formulas" (false),
// files[] "contains_formulas" and "csv_contains_formulas" (unknown); the recurring-export keys
// request "incremental" (false), "export_type" ("instant"), "time_zone", "record_ids" (none),
// "split_by" (none), files[] "partition", checkpoint "series" (none), and "window", "metrics",
// "schedule_id", "schedule_slot" (none); the import keys "kind" ("export"), "import",
// "import_counts" (none) and error "details" (none). A window's partitions are "runs" (earlier:
// "partitions", one object each; both are read).
constexpr int kCodecVersion = 3;

// Thrown inside this file only, for shapes that parse as JSON but are not a stored task;
// DecodeTask turns it (and nlohmann's own exceptions) into kDataLoss.
struct CodecError {
  std::string message;
};

constexpr std::pair<Format, std::string_view> kFormats[] = {{Format::kCsv, "csv"},
                                                            {Format::kTsv, "tsv"},
                                                            {Format::kJson, "json"},
                                                            {Format::kNdjson, "ndjson"}};
constexpr std::pair<Compression, std::string_view> kCompressions[] = {{Compression::kNone, "none"},
                                                                      {Compression::kGzip, "gzip"}};
constexpr std::pair<ExportType, std::string_view> kExportTypes[] = {
    {ExportType::kInstant, "instant"},
    {ExportType::kHourly, "hourly"},
    {ExportType::kDaily, "daily"}};
constexpr std::pair<SplitBy, std::string_view> kSplitBys[] = {{SplitBy::kPartition, "partition"}};
constexpr std::pair<FilterOp, std::string_view> kFilterOps[] = {
    {FilterOp::kEq, "eq"},   {FilterOp::kNe, "ne"},         {FilterOp::kGt, "gt"},
    {FilterOp::kGte, "gte"}, {FilterOp::kLt, "lt"},         {FilterOp::kLte, "lte"},
    {FilterOp::kIn, "in"},   {FilterOp::kPrefix, "prefix"}, {FilterOp::kNull, "null"}};

template <typename E, size_t N>
std::string_view NameOf(const std::pair<E, std::string_view> (&table)[N], E value) {
  for (const auto& [e, name] : table) {
    if (e == value) return name;
  }
  return "?";
}

template <typename E, size_t N>
E ValueOf(const std::pair<E, std::string_view> (&table)[N], const json& j, std::string_view what) {
  const std::string& name = j.get_ref<const std::string&>();
  for (const auto& [e, n] : table) {
    if (n == name) return e;
  }
  throw CodecError{"unknown " + std::string(what) + " '" + name + "'"};
}

json MillisJson(TimePoint t) { return ToUnixMillis(t); }
json OptMillisJson(const std::optional<TimePoint>& t) { return t ? MillisJson(*t) : json(nullptr); }
json OptString(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }

// Finite doubles are JSON reals (nlohmann writes them with a '.' or exponent and the shortest
// digits that read back exactly). NaN and infinities have no JSON number, so they are tagged.
json EncodeValue(const FilterValue& value) {
  return std::visit(
      [](const auto& v) -> json {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return nullptr;
        } else if constexpr (std::is_same_v<T, double>) {
          if (std::isnan(v)) return json{{"double", "nan"}};
          if (std::isinf(v)) return json{{"double", v > 0 ? "inf" : "-inf"}};
          return v;
        } else {
          return v;
        }
      },
      value);
}

json EncodeFile(const FileInfo& f) {
  json j = json{{"name", f.name},
                {"rows", f.rows},
                {"bytes", f.bytes},
                {"sha256", f.sha256},
                {"content_type", f.content_type}};
  if (f.contains_formulas) j["contains_formulas"] = *f.contains_formulas;
  if (f.partition) j["partition"] = *f.partition;
  return j;
}

// Stored as runs of consecutive partitions with the same bounds, in the window's order: after a
// nightly export every partition has the same window, so a thousand partitions are one run of
// names, not a thousand objects to parse at each load of the task.
json EncodeWindow(const TaskWindow& w) {
  json runs = json::array();
  const PartitionWindow* run_start = nullptr;
  json names;
  auto close_run = [&] {
    if (run_start == nullptr) return;
    runs.push_back(json{{"since", OptMillisJson(run_start->since)},
                        {"until", MillisJson(run_start->until)},
                        {"partitions", std::move(names)}});
  };
  for (const PartitionWindow& p : w.partitions) {
    if (run_start == nullptr || p.since != run_start->since || p.until != run_start->until) {
      close_run();
      run_start = &p;
      names = json::array();
    }
    names.push_back(p.partition);
  }
  close_run();
  return json{{"until", MillisJson(w.until)}, {"runs", std::move(runs)}};
}

json EncodeMetrics(const TaskMetrics& m) {
  json sample = json::array();
  for (const FilterValue& v : m.missing_ids_sample) sample.push_back(EncodeValue(v));
  return json{{"rows_by_partition", m.rows_by_partition},
              {"excluded_rows", m.excluded_rows},
              {"distinct", m.distinct},
              {"missing_ids", m.missing_ids},
              {"missing_ids_sample", std::move(sample)}};
}

json EncodeSeries(const SeriesCheckpoint& s) {
  return json{{"partition", s.partition ? json(*s.partition) : json(nullptr)},
              {"next_file", s.next_file}};
}

json EncodeCheckpoint(const Checkpoint& c) {
  return json{{"after_key", c.after_key ? EncodeValue(*c.after_key) : json(nullptr)},
              {"has_after_key", c.after_key.has_value()},
              {"next_file", c.next_file},
              {"rows", c.rows},
              {"bytes", c.bytes},
              {"rows_total", c.rows_total ? json(*c.rows_total) : json(nullptr)},
              {"transaction_time", MillisJson(c.transaction_time)},
              {"series", c.series ? EncodeSeries(*c.series) : json(nullptr)}};
}

json EncodeRequest(const ExportRequest& r) {
  json filter = json::array();
  for (const Condition& c : r.filter) {
    json values = json::array();
    for (const FilterValue& v : c.values) values.push_back(EncodeValue(v));
    filter.push_back(
        json{{"field", c.field}, {"op", NameOf(kFilterOps, c.op)}, {"values", values}});
  }
  json out = json{{"dataset", r.dataset},
                  {"format", NameOf(kFormats, r.format)},
                  {"fields", r.fields},
                  {"filter", std::move(filter)},
                  {"since", OptMillisJson(r.since)},
                  {"until", OptMillisJson(r.until)},
                  {"partitions", r.partitions},
                  {"max_rows_per_file", r.max_rows_per_file},
                  {"compression", NameOf(kCompressions, r.compression)},
                  {"escape_formulas", r.escape_formulas}};
  // Written only when set, like the canonical request: bodies of other exports stay as they were.
  if (r.incremental) out["incremental"] = true;
  if (r.export_type != ExportType::kInstant) {
    out["export_type"] = NameOf(kExportTypes, r.export_type);
  }
  if (r.time_zone) out["time_zone"] = *r.time_zone;
  if (!r.record_ids.empty()) {
    json ids = json::array();
    for (const FilterValue& v : r.record_ids) ids.push_back(EncodeValue(v));
    out["record_ids"] = std::move(ids);
  }
  if (r.split_by) out["split_by"] = NameOf(kSplitBys, *r.split_by);
  return out;
}

// --- decoding: every accessor checks the JSON type, so a wrong type is an error, not a cast.

const json& Field(const json& obj, const char* key) {
  if (!obj.is_object()) throw CodecError{std::string("expected an object around '") + key + "'"};
  auto it = obj.find(key);
  if (it == obj.end()) throw CodecError{std::string("missing '") + key + "'"};
  return *it;
}

// Keys added without a version bump (older rows lack them, older decoders ignore them):
// nullptr when absent or null.
const json* OptionalField(const json& obj, const char* key) {
  if (!obj.is_object()) throw CodecError{std::string("expected an object around '") + key + "'"};
  // Looked up by value, not through the iterator: g++ 12 at -O3 sees a possible null inside
  // nlohmann's iterator dereference (-Wnull-dereference).
  if (!obj.contains(key)) return nullptr;
  const json& value = obj[key];
  return value.is_null() ? nullptr : &value;
}

std::string String(const json& j) {
  if (!j.is_string()) throw CodecError{"expected a string, got " + j.dump()};
  return j.get<std::string>();
}
int64_t Int(const json& j) {
  if (!j.is_number_integer()) throw CodecError{"expected an integer, got " + j.dump()};
  if (j.is_number_unsigned() && j.get<uint64_t>() > uint64_t{std::numeric_limits<int64_t>::max()}) {
    throw CodecError{"integer out of range: " + j.dump()};
  }
  return j.get<int64_t>();
}
bool Bool(const json& j) {
  if (!j.is_boolean()) throw CodecError{"expected a boolean, got " + j.dump()};
  return j.get<bool>();
}
TimePoint Time(const json& j) { return FromUnixMillis(Int(j)); }
std::optional<TimePoint> OptTime(const json& j) {
  if (j.is_null()) return std::nullopt;
  return Time(j);
}
std::optional<std::string> OptStr(const json& j) {
  if (j.is_null()) return std::nullopt;
  return String(j);
}
std::vector<std::string> Strings(const json& j) {
  if (!j.is_array()) throw CodecError{"expected an array, got " + j.dump()};
  std::vector<std::string> out;
  out.reserve(j.size());
  for (const json& e : j) out.push_back(String(e));
  return out;
}

FilterValue DecodeValue(const json& j) {
  if (j.is_null()) return std::monostate{};
  if (j.is_boolean()) return j.get<bool>();
  if (j.is_number_integer()) return Int(j);
  if (j.is_number_float()) return j.get<double>();
  if (j.is_string()) return j.get<std::string>();
  const std::string tag = String(Field(j, "double"));
  if (tag == "nan") return std::numeric_limits<double>::quiet_NaN();
  if (tag == "inf") return std::numeric_limits<double>::infinity();
  if (tag == "-inf") return -std::numeric_limits<double>::infinity();
  throw CodecError{"unknown double tag '" + tag + "'"};
}

FileInfo DecodeFile(const json& j) {
  FileInfo f;
  f.name = String(Field(j, "name"));
  f.rows = Int(Field(j, "rows"));
  f.bytes = Int(Field(j, "bytes"));
  f.sha256 = String(Field(j, "sha256"));
  f.content_type = String(Field(j, "content_type"));
  if (const json* formulas = OptionalField(j, "contains_formulas")) {
    f.contains_formulas = Bool(*formulas);
  }
  if (const json* partition = OptionalField(j, "partition")) f.partition = String(*partition);
  return f;
}

std::map<std::string, int64_t> Counts(const json& j) {
  if (!j.is_object()) throw CodecError{"expected an object of counts, got " + j.dump()};
  std::map<std::string, int64_t> out;
  for (const auto& [name, count] : j.items()) out.emplace(name, Int(count));
  return out;
}

TaskWindow DecodeWindow(const json& j) {
  TaskWindow w;
  w.until = Time(Field(j, "until"));
  if (const json* runs = OptionalField(j, "runs")) {
    if (!runs->is_array()) throw CodecError{"window runs is not an array"};
    for (const json& run : *runs) {
      const std::optional<TimePoint> since = OptTime(Field(run, "since"));
      const TimePoint until = Time(Field(run, "until"));
      const json& names = Field(run, "partitions");
      if (!names.is_array()) throw CodecError{"window run partitions is not an array"};
      for (const json& name : names) w.partitions.push_back({String(name), since, until});
    }
    return w;
  }
  // Before runs: one object per partition.
  const json& partitions = Field(j, "partitions");
  if (!partitions.is_array()) throw CodecError{"window partitions is not an array"};
  for (const json& p : partitions) {
    w.partitions.push_back(PartitionWindow{String(Field(p, "partition")),
                                           OptTime(Field(p, "since")), Time(Field(p, "until"))});
  }
  return w;
}

TaskMetrics DecodeMetrics(const json& j) {
  TaskMetrics m;
  m.rows_by_partition = Counts(Field(j, "rows_by_partition"));
  m.excluded_rows = Int(Field(j, "excluded_rows"));
  const json& distinct = Field(j, "distinct");
  if (!distinct.is_object()) throw CodecError{"metrics distinct is not an object"};
  for (const auto& [field, counts] : distinct.items()) m.distinct.emplace(field, Counts(counts));
  m.missing_ids = Int(Field(j, "missing_ids"));
  const json& sample = Field(j, "missing_ids_sample");
  if (!sample.is_array()) throw CodecError{"metrics missing_ids_sample is not an array"};
  for (const json& v : sample) m.missing_ids_sample.push_back(DecodeValue(v));
  return m;
}

Checkpoint DecodeCheckpoint(const json& j) {
  Checkpoint c;
  // A key may itself be NULL (a FilterValue monostate), so presence is stored apart.
  if (Bool(Field(j, "has_after_key"))) c.after_key = DecodeValue(Field(j, "after_key"));
  c.next_file = static_cast<int>(Int(Field(j, "next_file")));
  c.rows = Int(Field(j, "rows"));
  c.bytes = Int(Field(j, "bytes"));
  const json& rows_total = Field(j, "rows_total");
  if (!rows_total.is_null()) c.rows_total = Int(rows_total);
  c.transaction_time = Time(Field(j, "transaction_time"));
  if (const json* series = OptionalField(j, "series"); series != nullptr && !series->is_null()) {
    SeriesCheckpoint s;
    const json& partition = Field(*series, "partition");
    if (!partition.is_null()) s.partition = String(partition);
    s.next_file = static_cast<int>(Int(Field(*series, "next_file")));
    c.series = std::move(s);
  }
  return c;
}

ExportRequest DecodeRequest(const json& j) {
  ExportRequest r;
  r.dataset = String(Field(j, "dataset"));
  r.format = ValueOf(kFormats, Field(j, "format"), "format");
  r.fields = Strings(Field(j, "fields"));
  const json& filter = Field(j, "filter");
  if (!filter.is_array()) throw CodecError{"filter is not an array"};
  for (const json& c : filter) {
    Condition cond;
    cond.field = String(Field(c, "field"));
    cond.op = ValueOf(kFilterOps, Field(c, "op"), "filter op");
    const json& values = Field(c, "values");
    if (!values.is_array()) throw CodecError{"filter values is not an array"};
    for (const json& v : values) cond.values.push_back(DecodeValue(v));
    r.filter.push_back(std::move(cond));
  }
  r.since = OptTime(Field(j, "since"));
  r.until = OptTime(Field(j, "until"));
  r.partitions = Strings(Field(j, "partitions"));
  r.max_rows_per_file = Int(Field(j, "max_rows_per_file"));
  r.compression = ValueOf(kCompressions, Field(j, "compression"), "compression");
  if (const json* escape = OptionalField(j, "escape_formulas")) r.escape_formulas = Bool(*escape);
  if (const json* incremental = OptionalField(j, "incremental")) r.incremental = Bool(*incremental);
  if (const json* type = OptionalField(j, "export_type")) {
    r.export_type = ValueOf(kExportTypes, *type, "export_type");
  }
  if (const json* zone = OptionalField(j, "time_zone")) r.time_zone = String(*zone);
  if (const json* ids = OptionalField(j, "record_ids")) {
    if (!ids->is_array()) throw CodecError{"record_ids is not an array"};
    for (const json& v : *ids) r.record_ids.push_back(DecodeValue(v));
  }
  if (const json* split = OptionalField(j, "split_by")) {
    r.split_by = ValueOf(kSplitBys, *split, "split_by");
  }
  return r;
}

Task DecodeTaskJson(const json& j) {
  const int64_t version = Int(Field(j, "v"));
  if (version < 1 || version > kCodecVersion) {
    throw CodecError{"unsupported task record version " + std::to_string(version)};
  }
  Task t;
  t.id = String(Field(j, "id"));
  t.principal = String(Field(j, "principal"));
  const std::string state = String(Field(j, "state"));
  std::optional<TaskState> parsed = ParseTaskState(state);
  if (!parsed) throw CodecError{"unknown state '" + state + "'"};
  t.state = *parsed;
  t.request = DecodeRequest(Field(j, "request"));
  t.query_hash = String(Field(j, "query_hash"));
  t.tag = OptStr(Field(j, "tag"));
  const json& notify = Field(j, "notify");
  t.notify.webhook = OptStr(Field(notify, "webhook"));
  t.notify.email = Strings(Field(notify, "email"));
  t.idempotency_key = OptStr(Field(j, "idempotency_key"));
  t.created_at = Time(Field(j, "created_at"));
  t.updated_at = Time(Field(j, "updated_at"));
  t.started_at = OptTime(Field(j, "started_at"));
  t.finished_at = OptTime(Field(j, "finished_at"));
  t.not_before = OptTime(Field(j, "not_before"));
  t.attempts = static_cast<int>(Int(Field(j, "attempts")));
  t.max_attempts = static_cast<int>(Int(Field(j, "max_attempts")));
  // Absent in bodies written before the removal of a failed task's files was tracked.
  t.files_to_remove = j.contains("files_to_remove") && Bool(j["files_to_remove"]);
  // Set in every body by migration 008_task_recoveries; absent only in a body written by hand.
  t.recoveries = j.contains("recoveries") ? static_cast<int>(Int(j["recoveries"])) : 0;
  const json& progress = Field(j, "progress");
  t.progress.rows = Int(Field(progress, "rows"));
  const json& rows_total = Field(progress, "rows_total");
  if (!rows_total.is_null()) t.progress.rows_total = Int(rows_total);
  t.progress.bytes = Int(Field(progress, "bytes"));
  const json& error = Field(j, "error");
  if (!error.is_null()) {
    t.error = TaskError{String(Field(error, "code")),
                        String(Field(error, "message")),
                        Bool(Field(error, "retryable")),
                        {}};
    if (const json* details = OptionalField(error, "details")) {
      for (const json& d : *details) {
        t.error->details.push_back(ImportErrorDetail{String(Field(d, "file")),
                                                     Int(Field(d, "line")), Int(Field(d, "column")),
                                                     String(Field(d, "message"))});
      }
    }
  }
  if (const json* kind = OptionalField(j, "kind")) {
    std::optional<TaskKind> parsed_kind = ParseTaskKind(String(*kind));
    if (!parsed_kind) throw CodecError{"unknown kind"};
    t.kind = *parsed_kind;
  }
  if (const json* import = OptionalField(j, "import")) {
    ImportSpec spec;
    std::optional<OnConflict> on_conflict = ParseOnConflict(String(Field(*import, "on_conflict")));
    if (!on_conflict) throw CodecError{"unknown on_conflict"};
    spec.on_conflict = *on_conflict;
    spec.from_export = OptStr(Field(*import, "from_export"));
    spec.from_prefix = OptStr(Field(*import, "from_prefix"));
    spec.upload = Bool(Field(*import, "upload"));
    spec.gzip = Bool(Field(*import, "gzip"));
    t.import = std::move(spec);
  }
  if (const json* counts = OptionalField(j, "import_counts")) {
    t.import_counts =
        ImportCounts{Int(Field(*counts, "rows_inserted")), Int(Field(*counts, "rows_skipped")),
                     Int(Field(*counts, "rows_replaced"))};
  }
  t.cancel_requested = Bool(Field(j, "cancel_requested"));
  // Absent in tasks stored before pause existed.
  if (const json* pause = OptionalField(j, "pause_requested")) t.pause_requested = Bool(*pause);
  const json& files = Field(j, "files");
  if (!files.is_array()) throw CodecError{"files is not an array"};
  for (const json& f : files) t.files.push_back(DecodeFile(f));
  const json& manifest = Field(j, "manifest");
  if (!manifest.is_null()) t.manifest = DecodeFile(manifest);
  if (const json* formulas = OptionalField(j, "csv_contains_formulas")) {
    t.csv_contains_formulas = Bool(*formulas);
  }
  if (const json* window = OptionalField(j, "window")) t.window = DecodeWindow(*window);
  if (const json* metrics = OptionalField(j, "metrics")) t.metrics = DecodeMetrics(*metrics);
  if (const json* schedule = OptionalField(j, "schedule_id")) t.schedule_id = String(*schedule);
  if (const json* slot = OptionalField(j, "schedule_slot")) t.schedule_slot = Time(*slot);
  if (version >= 2) {
    const json& checkpoint = Field(j, "checkpoint");
    if (!checkpoint.is_null()) t.checkpoint = DecodeCheckpoint(checkpoint);
    const json& lease = Field(j, "lease");
    if (!lease.is_null()) {
      t.lease = Lease{String(Field(lease, "owner")), Time(Field(lease, "expires_at"))};
    }
  }
  if (version >= 3) {
    t.retention = std::chrono::seconds(Int(Field(j, "retention_s")));
    t.files_expire_at = OptTime(Field(j, "files_expire_at"));
  } else if (t.finished_at) {
    t.files_expire_at = *t.finished_at + t.retention;
  }
  return t;
}

TimePoint Truncate(TimePoint t) { return FromUnixMillis(ToUnixMillis(t)); }
void Truncate(std::optional<TimePoint>& t) {
  if (t) *t = Truncate(*t);
}

}  // namespace

nlohmann::json EncodeRequestRecord(const ExportRequest& request) { return EncodeRequest(request); }

Result<ExportRequest> DecodeRequestRecord(const nlohmann::json& record) {
  try {
    return DecodeRequest(record);
  } catch (const CodecError& e) {
    return DataLoss("stored request: " + e.message);
  } catch (const json::exception& e) {
    return DataLoss(std::string("stored request: ") + e.what());
  }
}

std::string EncodeTask(const Task& t) {
  json files = json::array();
  for (const FileInfo& f : t.files) files.push_back(EncodeFile(f));
  json error = nullptr;
  if (t.error) {
    error = json{
        {"code", t.error->code}, {"message", t.error->message}, {"retryable", t.error->retryable}};
    if (!t.error->details.empty()) {
      json details = json::array();
      for (const ImportErrorDetail& d : t.error->details) {
        details.push_back(
            {{"file", d.file}, {"line", d.line}, {"column", d.column}, {"message", d.message}});
      }
      error["details"] = std::move(details);
    }
  }
  json progress = {
      {"rows", t.progress.rows},
      {"rows_total", t.progress.rows_total ? json(*t.progress.rows_total) : json(nullptr)},
      {"bytes", t.progress.bytes}};
  json j = {{"v", kCodecVersion},
            {"id", t.id},
            {"principal", t.principal},
            {"state", TaskStateName(t.state)},
            {"request", EncodeRequest(t.request)},
            {"query_hash", t.query_hash},
            {"tag", OptString(t.tag)},
            {"notify", json{{"webhook", OptString(t.notify.webhook)}, {"email", t.notify.email}}},
            {"idempotency_key", OptString(t.idempotency_key)},
            {"created_at", MillisJson(t.created_at)},
            {"updated_at", MillisJson(t.updated_at)},
            {"started_at", OptMillisJson(t.started_at)},
            {"finished_at", OptMillisJson(t.finished_at)},
            {"not_before", OptMillisJson(t.not_before)},
            {"attempts", t.attempts},
            {"max_attempts", t.max_attempts},
            {"recoveries", t.recoveries},
            {"files_to_remove", t.files_to_remove},
            {"progress", std::move(progress)},
            {"error", std::move(error)},
            {"cancel_requested", t.cancel_requested},
            {"pause_requested", t.pause_requested},
            {"files", std::move(files)},
            {"manifest", t.manifest ? EncodeFile(*t.manifest) : json(nullptr)},
            {"csv_contains_formulas",
             t.csv_contains_formulas ? json(*t.csv_contains_formulas) : json(nullptr)},
            {"checkpoint", t.checkpoint ? EncodeCheckpoint(*t.checkpoint) : json(nullptr)},
            {"lease", t.lease ? json{{"owner", t.lease->owner},
                                     {"expires_at", MillisJson(t.lease->expires_at)}}
                              : json(nullptr)},
            {"retention_s", t.retention.count()},
            {"files_expire_at", OptMillisJson(t.files_expire_at)}};
  if (t.window) j["window"] = EncodeWindow(*t.window);
  if (t.metrics) j["metrics"] = EncodeMetrics(*t.metrics);
  if (t.schedule_id) j["schedule_id"] = *t.schedule_id;
  if (t.schedule_slot) j["schedule_slot"] = MillisJson(*t.schedule_slot);
  if (t.kind != TaskKind::kExport) j["kind"] = TaskKindName(t.kind);
  if (t.import) {
    j["import"] = {{"on_conflict", OnConflictName(t.import->on_conflict)},
                   {"from_export", OptString(t.import->from_export)},
                   {"from_prefix", OptString(t.import->from_prefix)},
                   {"upload", t.import->upload},
                   {"gzip", t.import->gzip}};
  }
  if (t.import_counts) {
    j["import_counts"] = {{"rows_inserted", t.import_counts->rows_inserted},
                          {"rows_skipped", t.import_counts->rows_skipped},
                          {"rows_replaced", t.import_counts->rows_replaced}};
  }
  // Invalid UTF-8 in a string is replaced rather than thrown: the record must always be storable.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<Task> DecodeTask(std::string_view text) {
  try {
    return DecodeTaskJson(json::parse(text));
  } catch (const CodecError& e) {
    return DataLoss("stored task: " + e.message);
  } catch (const json::exception& e) {
    return DataLoss(std::string("stored task: ") + e.what());
  }
}

Task TruncateTimes(Task t) {
  Truncate(t.request.since);
  Truncate(t.request.until);
  t.created_at = Truncate(t.created_at);
  t.updated_at = Truncate(t.updated_at);
  Truncate(t.started_at);
  Truncate(t.finished_at);
  Truncate(t.not_before);
  Truncate(t.files_expire_at);
  if (t.checkpoint) t.checkpoint->transaction_time = Truncate(t.checkpoint->transaction_time);
  if (t.lease) t.lease->expires_at = Truncate(t.lease->expires_at);
  if (t.window) {
    t.window->until = Truncate(t.window->until);
    for (PartitionWindow& p : t.window->partitions) {
      Truncate(p.since);
      p.until = Truncate(p.until);
    }
  }
  return t;
}

}  // namespace exportd
