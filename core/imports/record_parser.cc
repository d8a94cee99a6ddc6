#include "core/imports/record_parser.h"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "core/formats/json_writer.h"
#include "core/text.h"

namespace exportd {
namespace {

constexpr size_t kBufferBytes = 1 << 20;

// A set of stop bytes as a table, built once per set: building it at every field was the
// reader's largest cost, a strchr per byte before that.
class StopSet {
 public:
  constexpr explicit StopSet(std::string_view bytes) {
    for (const char c : bytes) table_[static_cast<unsigned char>(c)] = true;
  }
  constexpr bool Has(char c) const { return table_[static_cast<unsigned char>(c)]; }

 private:
  bool table_[256] = {};
};

constexpr StopSet kCsvQuoted("\"\n");
constexpr StopSet kCsvUnquoted(",\r\n\"");
constexpr StopSet kTsvField("\t\r\n");
constexpr StopSet kLineEnd("\n");

// The stream through a buffer, one byte at a time.
class Buffered {
 public:
  explicit Buffered(ByteStream& in) : in_(in), buf_(kBufferBytes) {}

  // The next byte without taking it; -1 at the end.
  Result<int> Peek() {
    if (pos_ != end_) return static_cast<unsigned char>(buf_[pos_]);
    RETURN_IF_ERROR(Fill());
    if (pos_ == end_) return -1;
    return static_cast<unsigned char>(buf_[pos_]);
  }
  Result<int> Get() {
    ASSIGN_OR_RETURN(int c, Peek());
    if (c >= 0) ++pos_, ++consumed_;
    return c;
  }
  // Takes the byte that Peek() just returned. REQUIRES: Peek() returned a byte (not -1).
  void Skip() { ++pos_, ++consumed_; }
  // The fast paths of the two below, without a Result (whose Status every call would build and
  // destroy): kNotBuffered when the answer needs a read, and then nothing is taken.
  static constexpr int kNotBuffered = -2;
  int PeekBuffered() const {
    return pos_ != end_ ? static_cast<unsigned char>(buf_[pos_]) : kNotBuffered;
  }
  int TakeUntilBuffered(const StopSet& stops, std::string& out) {
    const char* begin = buf_.data() + pos_;
    const char* limit = buf_.data() + end_;
    const char* stop = begin;
    while (stop != limit && !stops.Has(*stop)) ++stop;
    if (stop == limit) return kNotBuffered;
    out.append(begin, stop);
    consumed_ += stop - begin;
    pos_ += static_cast<size_t>(stop - begin);
    return static_cast<unsigned char>(*stop);
  }
  // Appends bytes up to (not including) the first of `stops` or the end; returns that byte
  // (not taken) or -1.
  Result<int> TakeUntil(const StopSet& stops, std::string& out) {
    for (;;) {
      if (pos_ == end_) RETURN_IF_ERROR(Fill());
      if (pos_ == end_) return -1;
      const char* begin = buf_.data() + pos_;
      const char* stop = begin;
      const char* limit = buf_.data() + end_;
      while (stop != limit && !stops.Has(*stop)) ++stop;
      out.append(begin, stop);
      consumed_ += stop - begin;
      pos_ += static_cast<size_t>(stop - begin);
      if (stop != limit) return static_cast<unsigned char>(*stop);
    }
  }
  int64_t consumed() const { return consumed_; }

 private:
  Status Fill() {
    if (eof_) return Status::Ok();
    ASSIGN_OR_RETURN(size_t n, in_.Read(buf_.data(), buf_.size()));
    pos_ = 0;
    end_ = n;
    if (n == 0) eof_ = true;
    return Status::Ok();
  }

  ByteStream& in_;
  std::vector<char> buf_;
  size_t pos_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
  int64_t consumed_ = 0;
};

class ParserBase : public RecordParser {
 public:
  explicit ParserBase(ByteStream& in) : in_(in) {}
  int64_t line() const override { return record_line_; }
  int64_t error_column() const override { return error_column_; }
  int64_t bytes() const override { return in_.consumed(); }

 protected:
  Status Fault(std::string message, int64_t column) {
    error_column_ = column;
    return InvalidArgument(std::move(message));
  }
  // Takes a line end (LF or CRLF) if one is next; true if it did.
  Result<bool> TakeLineEnd() {
    ASSIGN_OR_RETURN(int c, in_.Peek());
    if (c == '\r') {
      in_.Skip();
      ASSIGN_OR_RETURN(int lf, in_.Peek());
      if (lf == '\n') in_.Skip();
      ++next_line_;
      return true;
    }
    if (c == '\n') {
      in_.Skip();
      ++next_line_;
      return true;
    }
    return false;
  }
  // Skips blank lines; false at the end of the stream.
  Result<bool> StartRecord() {
    for (;;) {
      ASSIGN_OR_RETURN(int c, in_.Peek());
      if (c < 0) return false;
      ASSIGN_OR_RETURN(bool blank, TakeLineEnd());
      if (!blank) break;
    }
    record_line_ = next_line_;
    error_column_ = 0;
    return true;
  }

  // The value after the `n` taken so far, reusing the storage a record before left in `record`
  // (a record's strings are kept from one record to the next rather than allocated anew).
  static RecordValue& NextValue(Record& record, size_t& n) {
    if (n == record.values.size()) record.values.emplace_back();
    RecordValue& v = record.values[n++];
    v.kind = CellKind::kNull;
    v.text.clear();
    return v;
  }

  Buffered in_;
  int64_t next_line_ = 1;
  int64_t record_line_ = 0;
  int64_t error_column_ = 0;
};

class CsvParser final : public ParserBase {
 public:
  using ParserBase::ParserBase;

  Result<bool> Next(Record& record) override {
    record.names.clear();
    ASSIGN_OR_RETURN(bool more, StartRecord());
    if (!more) {
      record.values.clear();
      return false;
    }
    size_t n = 0;
    for (;;) {
      RecordValue& v = NextValue(record, n);
      const auto column = static_cast<int64_t>(n);
      int c = in_.PeekBuffered();
      if (c == Buffered::kNotBuffered) {
        ASSIGN_OR_RETURN(c, in_.Peek());
      }
      if (c == '"') {
        in_.Skip();
        v.kind = CellKind::kText;
        for (;;) {
          ASSIGN_OR_RETURN(int stop, in_.TakeUntil(kCsvQuoted, v.text));
          if (stop < 0) return Fault("a quoted field is not closed", column);
          in_.Skip();
          if (stop == '\n') {
            v.text.push_back('\n');
            ++next_line_;
            continue;
          }
          ASSIGN_OR_RETURN(int after, in_.Peek());
          if (after != '"') break;
          in_.Skip();
          v.text.push_back('"');
        }
        ASSIGN_OR_RETURN(int after, in_.Peek());
        if (after >= 0 && after != ',' && after != '\r' && after != '\n') {
          return Fault("unexpected character after a closing quote", column);
        }
      } else {
        int stop = in_.TakeUntilBuffered(kCsvUnquoted, v.text);
        if (stop == Buffered::kNotBuffered) {
          ASSIGN_OR_RETURN(stop, in_.TakeUntil(kCsvUnquoted, v.text));
        }
        if (stop == '"') return Fault("a quote inside an unquoted field", column);
        v.kind = v.text.empty() ? CellKind::kNull : CellKind::kText;
      }
      int sep = in_.PeekBuffered();
      if (sep == Buffered::kNotBuffered) {
        ASSIGN_OR_RETURN(sep, in_.Peek());
      }
      if (sep == ',') {
        in_.Skip();
        continue;
      }
      record.values.resize(n);
      if (sep >= 0) RETURN_IF_ERROR(TakeLineEnd().status());
      return true;
    }
  }
};

class TsvParser final : public ParserBase {
 public:
  using ParserBase::ParserBase;

  Result<bool> Next(Record& record) override {
    record.names.clear();
    ASSIGN_OR_RETURN(bool more, StartRecord());
    if (!more) {
      record.values.clear();
      return false;
    }
    size_t n = 0;
    for (;;) {
      RecordValue& v = NextValue(record, n);
      const auto column = static_cast<int64_t>(n);
      int stop = in_.TakeUntilBuffered(kTsvField, v.text);
      if (stop == Buffered::kNotBuffered) {
        ASSIGN_OR_RETURN(stop, in_.TakeUntil(kTsvField, v.text));
      }
      v.kind = v.text.empty() ? CellKind::kNull : CellKind::kText;
      if (v.text.find('\\') != std::string::npos) {
        raw_.swap(v.text);
        v.text.clear();
        for (size_t i = 0; i < raw_.size(); ++i) {
          if (raw_[i] != '\\') {
            v.text.push_back(raw_[i]);
            continue;
          }
          const char e = i + 1 < raw_.size() ? raw_[++i] : '\0';
          switch (e) {
            case 't':
              v.text.push_back('\t');
              break;
            case 'n':
              v.text.push_back('\n');
              break;
            case 'r':
              v.text.push_back('\r');
              break;
            case '\\':
              v.text.push_back('\\');
              break;
            default:
              return Fault("an unknown escape after a backslash (TSV knows \\t \\n \\r \\\\)",
                           column);
          }
        }
      }
      if (stop == '\t') {
        in_.Skip();
        continue;
      }
      record.values.resize(n);
      if (stop >= 0) RETURN_IF_ERROR(TakeLineEnd().status());
      return true;
    }
  }

 private:
  std::string raw_;
};

// A flat JSON object per line; nested objects and arrays are kept as their text (kJson).
class NdjsonParser final : public ParserBase {
 public:
  using ParserBase::ParserBase;

  Result<bool> Next(Record& record) override {
    ASSIGN_OR_RETURN(bool more, StartRecord());
    if (!more) {
      record.names.clear();
      record.values.clear();
      return false;
    }
    line_text_.clear();
    ASSIGN_OR_RETURN(int stop, in_.TakeUntil(kLineEnd, line_text_));
    if (stop >= 0) RETURN_IF_ERROR(TakeLineEnd().status());
    if (!line_text_.empty() && line_text_.back() == '\r') line_text_.pop_back();
    p_ = 0;
    size_t n = 0;
    const Status parsed = ParseObject(record, n);
    record.names.resize(n);
    record.values.resize(n);
    RETURN_IF_ERROR(parsed);
    return true;
  }

 private:
  void Ws() {
    while (p_ < line_text_.size() &&
           (line_text_[p_] == ' ' || line_text_[p_] == '\t' || line_text_[p_] == '\r')) {
      ++p_;
    }
  }
  bool Eat(char c) {
    Ws();
    if (p_ < line_text_.size() && line_text_[p_] == c) {
      ++p_;
      return true;
    }
    return false;
  }
  Status Bad(const std::string& what, int64_t column) {
    return Fault("not a JSON object line: " + what + " at byte " + std::to_string(p_ + 1), column);
  }

  // Parses the object into the first `n` names and values of `record`.
  Status ParseObject(Record& record, size_t& n) {
    if (!Eat('{')) return Bad("expected '{'", 0);
    if (!Eat('}')) {
      for (;;) {
        const auto column = static_cast<int64_t>(n) + 1;
        Ws();
        if (n == record.names.size()) record.names.emplace_back();
        std::string& name = record.names[n];
        name.clear();
        RecordValue& value = NextValue(record, n);
        if (p_ >= line_text_.size() || line_text_[p_] != '"') return Bad("expected a name", column);
        RETURN_IF_ERROR(ParseString(name, column));
        if (!Eat(':')) return Bad("expected ':'", column);
        RETURN_IF_ERROR(ParseValue(value, column));
        if (Eat(',')) continue;
        if (Eat('}')) break;
        return Bad("expected ',' or '}'", column);
      }
    }
    Ws();
    if (p_ != line_text_.size()) return Bad("text after the object", 0);
    return Status::Ok();
  }

  bool Hex4(uint32_t& out) {
    if (p_ + 4 > line_text_.size()) return false;
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = line_text_[p_++];
      out <<= 4;
      if (c >= '0' && c <= '9') {
        out |= static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        out |= static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        out |= static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return false;
      }
    }
    return true;
  }

  // REQUIRES: line_text_[p_] == '"'.
  Status ParseString(std::string& out, int64_t column) {
    ++p_;
    for (;;) {
      if (p_ >= line_text_.size()) return Bad("a string is not closed", column);
      const char c = line_text_[p_++];
      if (c == '"') return Status::Ok();
      if (static_cast<unsigned char>(c) < 0x20)
        return Bad("a control character in a string", column);
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (p_ >= line_text_.size()) return Bad("a string is not closed", column);
      const char e = line_text_[p_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out.push_back(e);
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          uint32_t cp = 0;
          if (!Hex4(cp)) return Bad("a bad \\u escape", column);
          if (cp >= 0xD800 && cp < 0xDC00) {
            uint32_t low = 0;
            if (p_ + 2 > line_text_.size() || line_text_[p_] != '\\' || line_text_[p_ + 1] != 'u') {
              return Bad("a lone surrogate", column);
            }
            p_ += 2;
            if (!Hex4(low) || low < 0xDC00 || low > 0xDFFF) return Bad("a lone surrogate", column);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            return Bad("a lone surrogate", column);
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          return Bad("an unknown escape", column);
      }
    }
  }

  Status ParseValue(RecordValue& v, int64_t column) {
    Ws();
    if (p_ >= line_text_.size()) return Bad("expected a value", column);
    const char c = line_text_[p_];
    if (c == '"') {
      v.kind = CellKind::kText;
      return ParseString(v.text, column);
    }
    if (c == '{' || c == '[') {
      // Kept as text: the brackets are matched, strings passed over.
      const size_t begin = p_;
      int depth = 0;
      bool in_string = false;
      for (; p_ < line_text_.size(); ++p_) {
        const char d = line_text_[p_];
        if (in_string) {
          if (d == '\\') {
            ++p_;
          } else if (d == '"') {
            in_string = false;
          }
        } else if (d == '"') {
          in_string = true;
        } else if (d == '{' || d == '[') {
          ++depth;
        } else if (d == '}' || d == ']') {
          if (--depth == 0) {
            ++p_;
            break;
          }
        }
      }
      if (depth != 0) return Bad("an object or array is not closed", column);
      v.kind = CellKind::kJson;
      v.text.assign(line_text_, begin, p_ - begin);
      return Status::Ok();
    }
    for (const auto& [word, kind] : {std::pair<std::string_view, CellKind>{"true", CellKind::kBool},
                                     {"false", CellKind::kBool},
                                     {"null", CellKind::kNull}}) {
      if (std::string_view(line_text_).substr(p_, word.size()) == word) {
        p_ += word.size();
        v.kind = kind;
        if (kind == CellKind::kBool) v.text = word;
        return Status::Ok();
      }
    }
    const size_t begin = p_;
    while (p_ < line_text_.size() && std::strchr("+-0123456789.eE", line_text_[p_]) != nullptr &&
           line_text_[p_] != '\0') {
      ++p_;
    }
    std::string_view token(line_text_.data() + begin, p_ - begin);
    if (!IsValidJsonNumber(token)) return Bad("expected a value", column);
    v.kind = CellKind::kNumber;
    v.text = token;
    return Status::Ok();
  }

  std::string line_text_;
  size_t p_ = 0;
};

}  // namespace

std::unique_ptr<RecordParser> RecordParser::Create(Format format, ByteStream& in) {
  switch (format) {
    case Format::kTsv:
      return std::make_unique<TsvParser>(in);
    case Format::kNdjson:
      return std::make_unique<NdjsonParser>(in);
    default:
      return std::make_unique<CsvParser>(in);
  }
}

}  // namespace exportd
