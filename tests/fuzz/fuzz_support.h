// What the request fuzzers share: the fixed dataset they prepare requests against, and the
// properties every decoded request must have. A violated property prints what it saw and
// aborts, which libFuzzer reports as a crash with the input that caused it.
#ifndef EXPORTD_TESTS_FUZZ_FUZZ_SUPPORT_H_
#define EXPORTD_TESTS_FUZZ_FUZZ_SUPPORT_H_

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "api/request_codec.h"
#include "core/canonical_json.h"
#include "core/dataset.h"
#include "core/request.h"
#include "core/request_prepare.h"
#include "core/status.h"
#include "core/time_format.h"
#include "tests/fakes/fake_time_zone_db.h"
#include "tests/fuzz/fuzz_fail.h"

namespace exportd::fuzz {

// Hostile identifiers (a quote, a '?', a semicolon and a comment, a slash and a tilde, a dot,
// non-ASCII) so that the filter compiler's quoting is exercised too. Document fields live in
// the "doc" column.
inline Dataset FuzzDataset() {
  DatasetSpec spec;
  spec.name = "samples";
  spec.source.table = "tab le";
  spec.key = "id";
  spec.time_field = "collected_at";
  spec.partition_field = "study";
  spec.document = DocumentSpec{"doc", {"extra", "geo.lat", "a/b~c", "x\"y"}};
  return Dataset(spec, {{"id", FieldType::kInteger},
                        {"study", FieldType::kText},
                        {"collected_at", FieldType::kTimestamp},
                        {"rock_type", FieldType::kText},
                        {"depth_m", FieldType::kReal},
                        {"verified", FieldType::kBoolean},
                        {"we\"ird; --name", FieldType::kText},
                        {"sp ace.dot?", FieldType::kInteger},
                        {"\xc3\xbcn\xc3\xaf", FieldType::kAny},
                        {"extra", FieldType::kAny, true},
                        {"geo.lat", FieldType::kReal, true},
                        {"a/b~c", FieldType::kText, true},
                        {"x\"y", FieldType::kText, true}});
}

// The zones a fuzzed request may name (others are refused, as in production).
inline const TimeZoneDb& TheTimeZones() {
  static const fakes::FakeTimeZoneDb time_zones;
  return time_zones;
}

inline const Dataset& TheDataset() {
  static const Dataset* dataset = new Dataset(FuzzDataset());
  return *dataset;
}

// Errors from decoding and preparing a request are the client's: 400 or 422, with a JSON
// pointer (or none).
inline void CheckClientError(const Status& status, const char* stage) {
  if (status.code() != StatusCode::kMalformed && status.code() != StatusCode::kInvalidArgument) {
    Fail("errors are kMalformed or kInvalidArgument",
         std::string(stage) + ": " + status.ToString());
  }
  if (!status.pointer().empty() && status.pointer()[0] != '/') {
    Fail("an error's pointer is a JSON pointer", std::string(stage) + ": " + status.pointer());
  }
}

inline nlohmann::json ValueJson(const FilterValue& v) {
  if (const auto* b = std::get_if<bool>(&v)) return *b;
  if (const auto* i = std::get_if<int64_t>(&v)) return *i;
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return nullptr;
}

// The request written back as an API body ("Create an export"), or nullopt when the body form
// cannot say it (two conditions with the same field and operator, which only the query form
// can produce).
inline std::optional<std::string> ToApiBody(const ExportRequest& r) {
  nlohmann::json body = nlohmann::json::object();
  body["dataset"] = r.dataset;
  body["format"] = std::string(FormatName(r.format));
  body["compression"] = std::string(CompressionName(r.compression));
  body["max_rows_per_file"] = r.max_rows_per_file;
  if (!r.fields.empty()) body["fields"] = r.fields;
  if (!r.partitions.empty()) body["partitions"] = r.partitions;
  if (r.since) body["since"] = FormatRfc3339(*r.since);
  if (r.until) body["until"] = FormatRfc3339(*r.until);
  if (!r.filter.empty()) {
    nlohmann::json filter = nlohmann::json::object();
    for (const Condition& c : r.filter) {
      nlohmann::json& ops = filter[c.field];
      if (ops.is_null()) ops = nlohmann::json::object();
      const std::string op(FilterOpName(c.op));
      if (ops.contains(op)) return std::nullopt;
      if (c.op == FilterOp::kIn) {
        nlohmann::json values = nlohmann::json::array();
        for (const FilterValue& v : c.values) values.push_back(ValueJson(v));
        ops[op] = std::move(values);
      } else {
        if (c.values.size() != 1) Fail("a prepared condition has one value", c.field);
        ops[op] = ValueJson(c.values[0]);
      }
    }
    body["filter"] = std::move(filter);
  }
  try {
    return body.dump();  // strict: throws on invalid UTF-8
  } catch (const nlohmann::json::exception& e) {
    Fail("a decoded request holds only valid UTF-8", e.what());
  }
}

// REQUIRES: prepared came from PrepareRequest(..., TheDataset()).
//  - the canonical text is JSON (nlohmann reads it) with the members CanonicalJson documents;
//  - preparing again changes nothing (the same text);
//  - the request written back as an API body decodes and prepares to the same request and the
//    same text: the canonical text says everything the request says.
inline void CheckPrepared(const ExportRequest& prepared) {
  const std::string canonical = CanonicalJson(prepared);
  nlohmann::json parsed;
  try {
    parsed = nlohmann::json::parse(canonical);
  } catch (const nlohmann::json::exception& e) {
    Fail("the canonical text is JSON", canonical + "\n" + e.what());
  }
  static const char* const kMembers[] = {"compression", "dataset", "fields",
                                         "filter",      "format",  "max_rows_per_file",
                                         "partitions",  "since",   "until"};
  if (!parsed.is_object() || parsed.size() != std::size(kMembers)) {
    Fail("the canonical text is an object with every member", canonical);
  }
  for (const char* m : kMembers) {
    if (!parsed.contains(m)) Fail("the canonical text has every member", canonical + " " + m);
  }

  Result<ExportRequest> again = PrepareRequest(prepared, TheDataset(), TheTimeZones());
  if (!again.ok()) {
    Fail("preparing a prepared request succeeds", canonical + "\n" + again.status().ToString());
  }
  if (const std::string second = CanonicalJson(*again); second != canonical) {
    Fail("canonicalising twice gives the same text", canonical + "\n" + second);
  }

  const std::optional<std::string> body = ToApiBody(prepared);
  if (!body) return;
  auto decoded = api::ParseCreateExportJson(*body);
  if (!decoded.ok()) {
    Fail("the canonical request, as an API body, decodes", canonical + "\nbody: " + *body + "\n" +
                                                               decoded.status().ToString() +
                                                               " at " + decoded.status().pointer());
  }
  Result<ExportRequest> round = PrepareRequest(decoded->request, TheDataset(), TheTimeZones());
  if (!round.ok()) {
    const Status& s = round.status();
    Fail("the canonical request, as an API body, prepares",
         canonical + "\nbody: " + *body + "\n" + s.ToString() + " at " + s.pointer());
  }
  if (const std::string text = CanonicalJson(*round); text != canonical) {
    Fail("the canonical request round-trips through an API body", canonical + "\n" + text);
  }
  if (!(*round == prepared)) {
    Fail("the canonical text determines the request", canonical + "\nbody: " + *body);
  }
}

// Decoded input (either form) -> prepared request through PrepareRequest, the step production
// runs (ExportService::Create), checking every property on the way. Returns the prepared
// request, or nullopt when the input is (correctly) rejected.
inline std::optional<ExportRequest> PrepareAndCheck(const Result<api::CreateExportInput>& parsed) {
  if (!parsed.ok()) {
    CheckClientError(parsed.status(), "decode");
    return std::nullopt;
  }
  Result<ExportRequest> request = PrepareRequest(parsed->request, TheDataset(), TheTimeZones());
  if (!request.ok()) {
    CheckClientError(request.status(), "prepare");
    return std::nullopt;
  }
  CheckPrepared(*request);
  return std::move(request).value();
}

}  // namespace exportd::fuzz

#endif  // EXPORTD_TESTS_FUZZ_FUZZ_SUPPORT_H_
