// The dataset the request decoding and preparation tests share: every field type, a time and a
// partition field, and document fields whose names need JSON pointer escaping or hold a dot.
#ifndef EXPORTD_TESTS_UNIT_SAMPLES_DATASET_H_
#define EXPORTD_TESTS_UNIT_SAMPLES_DATASET_H_

#include "core/dataset.h"

namespace exportd::testing_support {

inline Dataset SamplesDataset() {
  DatasetSpec spec;
  spec.name = "samples";
  spec.key = "id";
  spec.time_field = "collected_at";
  spec.partition_field = "study";
  return Dataset(spec, {{"id", FieldType::kInteger},
                        {"study", FieldType::kText},
                        {"collected_at", FieldType::kTimestamp},
                        {"rock_type", FieldType::kText},
                        {"depth_m", FieldType::kReal},
                        {"verified", FieldType::kBoolean},
                        {"extra", FieldType::kAny, true},
                        {"geo.lat", FieldType::kReal, true},
                        {"a/b~c", FieldType::kText, true}});
}

}  // namespace exportd::testing_support

#endif  // EXPORTD_TESTS_UNIT_SAMPLES_DATASET_H_
