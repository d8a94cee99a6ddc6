#include "core/formats/row_counter.h"

#include <algorithm>

namespace exportd {
namespace {

// Lines (LF-terminated, the last one possibly not); CSV quoting optional.
class LineCounter final : public RowCounter {
 public:
  // `quoted`: a '"' toggles a quoted section in which line breaks do not end the record.
  // `skip_empty`: empty lines are not counted. `header`: the first line is not a row.
  LineCounter(bool quoted, bool skip_empty, bool header)
      : quoted_(quoted), skip_empty_(skip_empty), header_(header) {}

  void Feed(std::string_view bytes) override {
    for (const char c : bytes) {
      if (quoted_ && c == '"') {
        in_quotes_ = !in_quotes_;  // "" inside quotes toggles twice: still inside
      } else if (c == '\n' && !in_quotes_) {
        if (!skip_empty_ || !line_empty_) ++lines_;
        line_empty_ = true;
        continue;
      } else if (c == '\r' && !in_quotes_) {
        continue;  // part of a CRLF line end
      }
      line_empty_ = false;
    }
  }

  int64_t rows() const override {
    const int64_t lines = lines_ + (line_empty_ ? 0 : 1);
    return header_ ? std::max<int64_t>(lines - 1, 0) : lines;
  }

 private:
  const bool quoted_;
  const bool skip_empty_;
  const bool header_;
  bool in_quotes_ = false;
  bool line_empty_ = true;  // nothing but a line end seen since the last line break
  int64_t lines_ = 0;       // lines ended by a line break
};

// Elements of the top-level JSON array; strings are skipped with their escapes.
class JsonArrayCounter final : public RowCounter {
 public:
  void Feed(std::string_view bytes) override {
    for (const char c : bytes) {
      if (in_string_) {
        if (escaped_) {
          escaped_ = false;
        } else if (c == '\\') {
          escaped_ = true;
        } else if (c == '"') {
          in_string_ = false;
        }
        continue;
      }
      if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
      if (depth_ == 1 && c == ',') {
        expect_element_ = true;
        continue;
      }
      if (depth_ == 1 && expect_element_ && c != ']') {
        ++elements_;
        expect_element_ = false;
      }
      if (c == '"') {
        in_string_ = true;
      } else if (c == '[' || c == '{') {
        if (++depth_ == 1) expect_element_ = true;
      } else if (c == ']' || c == '}') {
        --depth_;
      }
    }
  }

  int64_t rows() const override { return elements_; }

 private:
  int depth_ = 0;
  bool in_string_ = false;
  bool escaped_ = false;
  bool expect_element_ = false;
  int64_t elements_ = 0;
};

}  // namespace

std::unique_ptr<RowCounter> MakeRowCounter(Format format) {
  switch (format) {
    case Format::kCsv:
      return std::make_unique<LineCounter>(/*quoted=*/true, /*skip_empty=*/false, /*header=*/true);
    case Format::kTsv:
      return std::make_unique<LineCounter>(/*quoted=*/false, /*skip_empty=*/false, /*header=*/true);
    case Format::kNdjson:
      return std::make_unique<LineCounter>(/*quoted=*/false, /*skip_empty=*/true, /*header=*/false);
    case Format::kJson:
      return std::make_unique<JsonArrayCounter>();
  }
  return nullptr;
}

}  // namespace exportd
