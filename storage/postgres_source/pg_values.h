// PostgreSQL's text output of a value -> the text exportd writes for it, the same text the SQLite
// source writes for the same data (storage/sqlite/sqlite_source.h). Pure functions: they read
// the text of the session settings PgSource sets on each connection (TimeZone UTC, DateStyle
// ISO, extra_float_digits 1, bytea_output hex).
#ifndef EXPORTD_STORAGE_POSTGRES_SOURCE_PG_VALUES_H_
#define EXPORTD_STORAGE_POSTGRES_SOURCE_PG_VALUES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/source.h"

namespace exportd {

// How a column's values are read; decided once from the column's type (its base type for a
// domain).
enum class PgKind : uint8_t {
  kInteger,      // int2, int4, int8, oid
  kFloat,        // float4, float8
  kNumeric,      // numeric
  kBool,         // boolean
  kTimestamptz,  // timestamp with time zone
  kTimestamp,    // timestamp without time zone (read as UTC)
  kBytea,        // bytea
  kText,         // text, varchar, char(n), name: compared as text
  kJson,         // json
  kJsonb,        // jsonb
  kOther,        // anything else (date, uuid, time, interval, arrays, ...): its text output
};

// The kind of a type by its OID (pg_type.oid of the base type).
PgKind PgKindOfType(uint32_t type_oid);

// float4/float8 text ("1.5", "1e+20", "NaN", "Infinity") as SQLite writes a REAL: the shortest
// text that reads back as the same double (std::to_chars); NaN is NULL (SQLite stores NaN as
// NULL); +-Infinity is kText "Inf"/"-Inf". `scratch` holds the text the cell points into.
Cell FloatCell(std::string_view text, std::string& scratch);

// numeric text ("123.4500", "-0.001", "NaN", "Infinity") as SQLite writes a value of a NUMERIC
// column: a value that is a whole number in (-2^63, 2^63) is an integer ("3.00" -> "3"); any
// other value that a double holds to all its significant digits is the double's shortest text
// ("0.00001" -> "1e-05", "123.4500" -> "123.45"). A value with more significant digits than a
// double keeps (SQLite cannot hold it) is written exactly, trailing fraction zeros dropped.
// NaN is NULL, +-Infinity "Inf"/"-Inf" (kText).
Cell NumericCell(std::string_view text, std::string& scratch);

// timestamptz text in UTC, ISO style ("2024-01-02 03:04:05.25+00") -> RFC 3339 UTC
// ("2024-01-02T03:04:05.25Z"); the fraction as PostgreSQL gives it (microseconds at most,
// trailing zeros dropped). timestamp text ("2024-01-02 03:04:05") is read as UTC the same way.
// Text of another shape (infinity, years after 9999 or BC) is passed through unchanged.
void AppendRfc3339FromPg(std::string_view text, std::string& out);

// bytea in hex output ("\x0aff") -> standard base64 with padding, as the SQLite source writes a
// BLOB. False (out unspecified) for text that is not hex output.
bool AppendBase64FromByteaHex(std::string_view text, std::string& out);

// One row of COPY ... TO STDOUT in text format split into its fields: fields are separated by
// tabs and the row ends with a newline (optional here); a field of exactly \N is NULL
// (nullopt); backslash escapes (\b \f \n \r \t \v \\, \ooo octal, \xhh hex, and a
// backslash before any other character, which stands for that character) are decoded into
// scratch[i], which fields[i] then points into; other fields point into `row`. Each field is
// the type's text output, as a text-format query result would hold it. False if the row does
// not hold exactly fields.size() fields. REQUIRES: scratch.size() == fields.size().
bool SplitCopyTextRow(std::string_view row, std::vector<std::optional<std::string_view>>& fields,
                      std::vector<std::string>& scratch);

// An instant as PostgreSQL reads it for a timestamptz parameter: "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ".
std::string PgInstantText(TimePoint t);

}  // namespace exportd

#endif  // EXPORTD_STORAGE_POSTGRES_SOURCE_PG_VALUES_H_
