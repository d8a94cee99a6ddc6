// The demo dataset: a deterministic SQLite file of geochemistry samples for demos, tests and
// benchmarks.
//
// Table `samples`:
//   id             INTEGER PRIMARY KEY  1..rows (the key)
//   study          TEXT     one of 8 studies (the partition field)
//   collected_at   TEXT     RFC 3339 UTC, whole seconds, 2019-01-01 .. 2024-12-31 (the time field)
//   site           TEXT     place names, some with commas, quotes, semicolons, tabs, a newline and
//                           non-ASCII UTF-8
//   rock_type      TEXT
//   depth_m        REAL     0.00 .. 2500.00
//   sample_mass_g  INTEGER  NULL on about 5% of rows
//   analytes       TEXT     a JSON object with 5-15 measurements named from
//                           DemoMeasurementNames(); about 1% are "{}" and 0.5% NULL
// Indexes on collected_at and on study.
#ifndef EXPORTD_SERVER_DEMO_DATASET_H_
#define EXPORTD_SERVER_DEMO_DATASET_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/dataset.h"
#include "core/status.h"

namespace exportd {

inline constexpr int64_t kDemoDefaultRows = 100000;

// Every measurement name a demo document may hold, in a fixed order: major oxides (wt%) and
// their uncertainties, trace elements (ppm, by ICP-MS and by XRF), precious metals (ppb),
// isotope ratios (with '/') and stable isotopes (with non-ASCII names such as "δ18O_permil").
const std::vector<std::string>& DemoMeasurementNames();

// Writes the demo file to `path` atomically (a temporary file beside it, then rename), replacing
// any file there. Deterministic: the same `rows` give the same rows (and the same bytes with the
// same SQLite library). One transaction with a prepared insert.
Status CreateDemoDataset(const std::string& path, int64_t rows = kDemoDefaultRows);

// The dataset spec for a demo file at `path`: name "samples", key "id", time field
// "collected_at", partition field "study", every column but the document, and the document
// column "analytes" with every DemoMeasurementNames() entry as a field.
DatasetSpec DemoDatasetSpec(const std::string& path);

}  // namespace exportd

#endif  // EXPORTD_SERVER_DEMO_DATASET_H_
