// The export request: what a client asked for, in the normalised (canonical) form that decides
// the output. Parsing from JSON or URL query parameters lives in api/; validation against a
// dataset lives here (ValidateRequest), and the whole step from a decoded request to the
// canonical one in core/request_prepare.h, so every front end shares the same rules.
#ifndef EXPORTD_CORE_REQUEST_H_
#define EXPORTD_CORE_REQUEST_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace exportd {

class Dataset;

enum class Format { kCsv, kTsv, kJson, kNdjson };
enum class Compression { kNone, kGzip };

std::string_view FormatName(Format f);                // "csv"
std::optional<Format> ParseFormat(std::string_view);  // "csv" | "tsv" | "json" | "ndjson"
std::string_view FormatExtension(Format f);           // "csv"
std::string_view FormatContentType(Format f);         // "text/csv; charset=utf-8"
std::string_view CompressionName(Compression c);      // "none" | "gzip"
std::optional<Compression> ParseCompression(std::string_view);
// CSV and TSV: the formats spreadsheets open, where formula-like cells matter.
bool IsSpreadsheetFormat(Format f);

// A scalar in a filter. Integers and reals are kept apart so that binding is exact.
using FilterValue = std::variant<std::monostate /*null*/, bool, int64_t, double, std::string>;

enum class FilterOp { kEq, kNe, kGt, kGte, kLt, kLte, kIn, kPrefix, kNull };
std::string_view FilterOpName(FilterOp op);  // "eq", "ne", "gt", ..., "in", "prefix", "null"
std::optional<FilterOp> ParseFilterOp(std::string_view name);

struct Condition {
  std::string field;
  FilterOp op = FilterOp::kEq;
  // kIn: one or more values; kNull: exactly one bool (true = IS NULL); others: exactly one value.
  std::vector<FilterValue> values;

  friend bool operator==(const Condition&, const Condition&) = default;
};

// At most this many values in one "in" condition.
inline constexpr size_t kMaxInValues = 1000;

// Where a condition sits in the "Create an export" body: "/filter/<field>" for equality (the
// shorthand), "/filter/<field>/<op>" otherwise.
std::string ConditionPointer(const Condition& c);

inline constexpr int64_t kMaxRowsPerFile = 80000;

// What fills `until` when a request has none (the export engine applies it when a task starts):
// instant = now minus the dataset's settle_seconds; hourly / daily = the start of the current
// hour / day in the request's time zone (else the dataset's, else UTC).
enum class ExportType { kInstant, kHourly, kDaily };
std::string_view ExportTypeName(ExportType t);  // "instant" | "hourly" | "daily"
std::optional<ExportType> ParseExportType(std::string_view name);

// How output files are grouped: kPartition writes one file series per partition value.
enum class SplitBy { kPartition };
std::string_view SplitByName(SplitBy s);  // "partition"
std::optional<SplitBy> ParseSplitBy(std::string_view name);

// record_ids holds 1 to this many ids.
inline constexpr size_t kMaxRecordIds = 100000;

struct ExportRequest {
  std::string dataset;
  Format format = Format::kCsv;
  std::vector<std::string> fields;      // empty: every field of the dataset, in dataset order
  std::vector<Condition> filter;        // ANDed; canonical order: by field, then op
  std::optional<TimePoint> since;       // inclusive
  std::optional<TimePoint> until;       // exclusive
  std::vector<std::string> partitions;  // empty: all; canonical order: sorted, unique
  int64_t max_rows_per_file = kMaxRowsPerFile;
  Compression compression = Compression::kNone;
  // CSV/TSV: formula-like text cells get a leading single quote (core/formats/formula_cells.h).
  // The request's value or else the deployment's; always false for JSON and NDJSON.
  bool escape_formulas = false;
  // Per partition, the window [watermark, until); Succeeded moves each partition's watermark to
  // `until`. Needs a dataset with a time field and a partition field.
  bool incremental = false;
  ExportType export_type = ExportType::kInstant;
  // An IANA zone name as the TimeZoneDb spells it; nullopt: the dataset's zone, else UTC.
  std::optional<std::string> time_zone;
  // Exactly these records by the dataset's key (integers for an integer key, strings for a text
  // key); empty: no list. Not with incremental, since or until. Canonical order: the key's
  // order (sorted), unique.
  std::vector<FilterValue> record_ids;
  std::optional<SplitBy> split_by;  // nullopt: one file series for the whole export

  friend bool operator==(const ExportRequest&, const ExportRequest&) = default;
};

// Sorts conditions, partitions and record ids into canonical order and removes duplicate
// partitions and record ids;
// escape_formulas becomes false for formats that are not spreadsheet formats.
void Canonicalize(ExportRequest& request);

// Checks a request against a dataset: known fields, operators that fit the field's type, value
// types, since < until, time/partition filters only where the dataset has those fields,
// max_rows_per_file range, record ids that fit the key's type and are not combined with
// incremental, since or until, incremental and split_by only where the dataset has the fields
// they need. The time zone's name is PrepareRequest's to check (it needs a TimeZoneDb).
// kInvalidArgument with a JSON pointer on failure.
Status ValidateRequest(const ExportRequest& request, const Dataset& dataset);

struct Notify {
  std::optional<std::string> webhook;
  std::vector<std::string> email;

  friend bool operator==(const Notify&, const Notify&) = default;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_REQUEST_H_
