// Readers of the files an import loads: CSV (RFC 4180), TSV (exportd's escapes) and NDJSON,
// record by record from a byte stream, holding one buffer and one record at a time.
#ifndef EXPORTD_CORE_IMPORTS_RECORD_PARSER_H_
#define EXPORTD_CORE_IMPORTS_RECORD_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/request.h"
#include "core/source.h"
#include "core/status.h"

namespace exportd {

// A source of bytes read front to back. Not thread-safe.
class ByteStream {
 public:
  virtual ~ByteStream() = default;
  // Up to `len` bytes into buf; 0 at the end.
  virtual Result<size_t> Read(char* buf, size_t len) = 0;
};

// One value of a record as the file gives it. CSV: kText, or kNull for an empty unquoted field
// (a quoted empty field "" is the empty text). TSV: kText, or kNull for an empty field. NDJSON:
// the JSON kind (kNumber keeps the number's token as written; kJson an object or array as text).
struct RecordValue {
  CellKind kind = CellKind::kNull;
  std::string text;
};

// A record: CSV/TSV give only `values` (the first record of a file is its header); NDJSON gives
// each object's member names in `names`, one per value.
struct Record {
  std::vector<std::string> names;
  std::vector<RecordValue> values;
};

class RecordParser {
 public:
  // REQUIRES: format is csv, tsv or ndjson; `in` outlives the parser.
  static std::unique_ptr<RecordParser> Create(Format format, ByteStream& in);
  virtual ~RecordParser() = default;
  // The next record into `record`: true, or false at the end of the stream. kInvalidArgument
  // for a malformed record (the message says what; line() where it starts); other errors are
  // the stream's.
  virtual Result<bool> Next(Record& record) = 0;
  // 1-based line on which the last record (or the malformed one) starts.
  virtual int64_t line() const = 0;
  // 1-based column (field) at fault in the last kInvalidArgument, 0 when none.
  virtual int64_t error_column() const = 0;
  // Bytes consumed from the stream so far.
  virtual int64_t bytes() const = 0;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_IMPORTS_RECORD_PARSER_H_
