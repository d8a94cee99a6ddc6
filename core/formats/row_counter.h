// Counts the data rows of a file in one of the output formats, fed in pieces of any size, so
// that a verifier can check a file of any length without holding it in memory.
//
//   CSV    records (RFC 4180: a line break inside quotes belongs to the field; CRLF or LF),
//          minus the header
//   TSV    lines minus the header (escaping keeps tabs and newlines out of values)
//   NDJSON non-empty lines
//   JSON   elements of the top-level array
// A last record or line without a line break still counts.
#ifndef EXPORTD_CORE_FORMATS_ROW_COUNTER_H_
#define EXPORTD_CORE_FORMATS_ROW_COUNTER_H_

#include <cstdint>
#include <memory>
#include <string_view>

#include "core/request.h"

namespace exportd {

// Not thread-safe.
class RowCounter {
 public:
  virtual ~RowCounter() = default;
  virtual void Feed(std::string_view bytes) = 0;
  // Data rows in everything fed so far, as if the input ended here.
  virtual int64_t rows() const = 0;
};

std::unique_ptr<RowCounter> MakeRowCounter(Format format);

}  // namespace exportd

#endif  // EXPORTD_CORE_FORMATS_ROW_COUNTER_H_
