// Which objects of the object store an import from a prefix (from_prefix) reads.
#ifndef EXPORTD_CORE_IMPORTS_IMPORT_OBJECTS_H_
#define EXPORTD_CORE_IMPORTS_IMPORT_OBJECTS_H_

#include <cstddef>
#include <string_view>
#include <vector>

#include "core/object_store.h"
#include "core/request.h"
#include "core/status.h"

namespace exportd {

// An import from a prefix reads at most this many objects (their names are held for error
// details); a larger set is refused, to be imported as several narrower prefixes.
inline constexpr size_t kMaxImportObjects = 10000;

// The rule: an object is read when its file name (after the last '/') ends with the format's
// extension, ".csv", ".tsv" or ".ndjson", followed by ".gz" when `gzip`, and is more than that
// extension. Everything else under the prefix (manifest.json, other formats, the other
// compression) is left out.
bool ImportObjectMatches(std::string_view name, Format format, bool gzip);

// The objects under `prefix` that ImportObjectMatches, in ascending byte order of their paths
// "<task_id>/<name>" (the order of the store's listing), at most `limit` of them; `*more` says
// whether there are others after them. Errors are the store's (kInvalidArgument for a prefix
// ValidateListPrefix refuses, kFailedPrecondition for a store that cannot list).
Result<std::vector<ListedObject>> ListImportObjects(ObjectStore& store, std::string_view prefix,
                                                    Format format, bool gzip, size_t limit,
                                                    bool* more);

}  // namespace exportd

#endif  // EXPORTD_CORE_IMPORTS_IMPORT_OBJECTS_H_
