// Datasets: what can be exported. A DatasetSpec comes from configuration; a Dataset is the spec
// resolved against its source (columns and their types known).
#ifndef EXPORTD_CORE_DATASET_H_
#define EXPORTD_CORE_DATASET_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/request.h"
#include "core/status.h"

namespace exportd {

class Source;

enum class FieldType { kInteger, kReal, kText, kTimestamp, kBoolean, kAny };
std::string_view FieldTypeName(
    FieldType t);  // "integer", "real", "text", "timestamp", "boolean", "any"

struct Field {
  std::string name;
  FieldType type = FieldType::kAny;
  bool from_document = false;  // a declared field flattened out of the JSON document column
};

struct DocumentSpec {
  std::string column;               // the table column holding one JSON object per row
  std::vector<std::string> fields;  // top-level keys flattened into columns of their own
};

struct SourceSpec {
  std::string type = "sqlite";  // "sqlite" or "postgres"
  std::string path;             // sqlite: the file, absolute after configuration is loaded
  std::string url;              // postgres: the libpq connection URL
  std::string table;            // postgres: "schema.table" or "table" (search_path)
  int busy_timeout_ms = 5000;
};

struct DatasetSpec {
  std::string name;
  std::string description;
  SourceSpec source;
  std::string key;                        // unique; stable order and keyset paging
  std::optional<std::string> time_field;  // stored as RFC 3339 text (UTC) or unix seconds
  std::optional<std::string> partition_field;
  std::vector<std::string> columns;  // empty: every column of the table but the document
  std::optional<DocumentSpec> document;
  // The zone of daily and hourly windows and of schedules' requests that name none; an IANA
  // name as the TimeZoneDb spells it (checked at start-up). nullopt: UTC.
  std::optional<std::string> time_zone;
  // Instant exports end this long before now (rows still arriving are left for the next one).
  int64_t settle_seconds = 0;  // >= 0
  // Conditions in the filter syntax of requests, checked against the dataset like a request's
  // filter and in canonical order. The export pipeline ANDs them into every export of the
  // dataset, in addition to the request's own filter, so no request can widen them; the rows
  // they exclude are counted in the task's metrics (excluded_rows).
  std::vector<Condition> row_filter;
  // Fields (of this dataset) whose distinct values each export counts per partition
  // (metrics.count_distinct in the configuration; the task's metrics.distinct).
  std::vector<std::string> count_distinct;
  // Whether POST /v1/imports may load rows into the dataset's table ("importable" in the
  // configuration; core/imports/).
  bool importable = false;
};

class Dataset {
 public:
  Dataset(DatasetSpec spec, std::vector<Field> fields);

  const DatasetSpec& spec() const { return spec_; }
  const std::string& name() const { return spec_.name; }
  // Every exportable field: the table columns, then the document fields, in declared order.
  const std::vector<Field>& fields() const { return fields_; }
  // nullptr if unknown.
  const Field* FindField(std::string_view name) const;

 private:
  DatasetSpec spec_;
  std::vector<Field> fields_;
  std::map<std::string, size_t, std::less<>> index_;
};

// Datasets by name, each with the Source that reads it. Immutable after start-up, so safe to
// share between threads without locking.
class DatasetCatalog {
 public:
  struct Entry {
    std::shared_ptr<const Dataset> dataset;
    std::shared_ptr<Source> source;
  };

  Status Add(Entry entry);                         // kAlreadyExists on a duplicate name
  const Entry* Find(std::string_view name) const;  // nullptr if unknown
  std::vector<const Entry*> List() const;          // by name

 private:
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_DATASET_H_
