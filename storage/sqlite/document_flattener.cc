#include "storage/sqlite/document_flattener.h"

#include <simdjson.h>

#include "core/formats/json_writer.h"
#include "core/text.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <utility>

namespace exportd {
namespace {

namespace od = simdjson::ondemand;

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// A cheap hash for short keys (field names are a few bytes); only the fallback of FindAfter.
size_t KeyHash(std::string_view key) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ key.size();
  size_t i = 0;
  for (; i + 8 <= key.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, key.data() + i, 8);
    h = (h ^ w) * 0xFF51AFD7ED558CCDull;
    h ^= h >> 32;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, key.data() + i, key.size() - i);
  h = (h ^ tail) * 0xC4CEB9FE1A85EC53ull;
  h ^= h >> 29;
  return static_cast<size_t>(h);
}

// Bytes a JSON string may hold as they are: not a quote, not a backslash, not a control
// character (so also not the zero bytes of the padding).
constexpr auto kPlainStringByte = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 256; ++c) plain[c] = c != '"' && c != '\\';
  return plain;
}();

// The first byte at or after `p` that is not plain string content (kPlainStringByte).
// REQUIRES: a stop (at the latest a zero byte of the padding) before the end of the readable
// buffer, with 15 readable bytes after it: the scan reads 16 bytes at a time.
const char* SkipPlainStringBytes(const char* p) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i highest_control = _mm_set1_epi8(0x1f);
  for (;; p += 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(bytes, highest_control), highest_control);
    const __m128i stop = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(bytes, quote), _mm_cmpeq_epi8(bytes, backslash)), control);
    const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(stop));
    if (mask != 0) return p + std::countr_zero(mask);
  }
#else
  while (kPlainStringByte[static_cast<unsigned char>(*p)]) ++p;
  return p;
#endif
}

// The first byte at or after `p` that is not an ASCII digit. REQUIRES: as SkipPlainStringBytes.
const char* SkipDigits(const char* p) {
#if defined(__SSE2__)
  const __m128i zero = _mm_set1_epi8('0');
  const __m128i nine = _mm_set1_epi8(9);
  for (;; p += 16) {
    const __m128i value = _mm_sub_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), zero);
    const __m128i digit = _mm_cmpeq_epi8(_mm_max_epu8(value, nine), nine);  // value <= 9
    const unsigned mask = ~static_cast<unsigned>(_mm_movemask_epi8(digit)) & 0xffffu;
    if (mask != 0) return p + std::countr_zero(mask);
  }
#else
  while (IsAsciiDigit(*p)) ++p;
  return p;
#endif
}

#if defined(__SSE2__)
// The bits of the 16 bytes at `p` that are ASCII digits.
unsigned DigitBits(__m128i bytes) {
  const __m128i value = _mm_sub_epi8(bytes, _mm_set1_epi8('0'));
  const __m128i nine = _mm_set1_epi8(9);
  return static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(value, nine), nine)));
}

unsigned ByteBits(__m128i bytes, char c) {
  return static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, _mm_set1_epi8(c))));
}
#endif

// The length of the number at `p` when it is a plain decimal ("-?(0|[1-9][0-9]*)(\.[0-9]+)?")
// of at most 15 bytes with a comma right after it: the shape of nearly every value of a dense
// document, checked with a few operations on one 16-byte load instead of byte by byte. 0 for
// anything else (exponents, spaces, strings, the last value of an object), which the general
// path then parses. REQUIRES: 16 readable bytes at p.
size_t PlainNumberBeforeComma(const char* p) {
#if defined(__SSE2__)
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const unsigned comma = ByteBits(bytes, ',');
  if (comma == 0) return 0;
  const unsigned length = static_cast<unsigned>(std::countr_zero(comma));
  const unsigned token = (1u << length) - 1;
  const unsigned digits = DigitBits(bytes) & token;
  const unsigned dots = ByteBits(bytes, '.') & token;
  const unsigned minus = ByteBits(bytes, '-') & 1u;  // a sign only in front
  if ((digits | dots | minus) != token || (dots & (dots - 1)) != 0) return 0;
  const unsigned first = minus;  // index of the first digit
  if ((digits >> first & 1u) == 0) return 0;
  if (dots != 0) {
    const unsigned dot = static_cast<unsigned>(std::countr_zero(dots));
    if (dot + 1 == length) return 0;  // "1." (a digit before it is known: the first is one)
  }
  // No leading zero: "0" alone or "0." only.
  if (p[first] == '0' && first + 1 < length && p[first + 1] != '.') return 0;
  return length;
#else
  (void)p;
  return 0;
#endif
}

// IsValidJsonNumber for the common shape "-?[1-9][0-9]*(\.[0-9]+)?" or "-?0(\.[0-9]+)?" in one
// pass; anything else (exponents, bad tokens) is left to the full check.
bool IsPlainDecimal(std::string_view t) {
  const char* p = t.data();
  const char* end = p + t.size();
  if (p != end && *p == '-') ++p;
  if (p == end) return false;
  if (*p == '0') {
    ++p;
  } else {
    if (!IsAsciiDigit(*p)) return false;
    while (++p != end && IsAsciiDigit(*p)) {
    }
  }
  if (p == end) return true;
  if (*p != '.' || ++p == end || !IsAsciiDigit(*p)) return false;
  while (++p != end && IsAsciiDigit(*p)) {
  }
  return p == end;
}

Status JsonError(simdjson::error_code error, std::string_view what) {
  return DataLoss("malformed JSON document (" + std::string(what) +
                  "): " + simdjson::error_message(error));
}

}  // namespace

struct DocumentFlattener::Impl {
  od::parser parser;
  std::unique_ptr<char[]> buffer;
  // Unescaped strings of the one-pass path; as large as `buffer`, since unescaping never
  // lengthens a string, so it never moves while a row points into it.
  std::unique_ptr<char[]> unescaped;
  size_t capacity = 0;

  // Copies `json` into the reusable buffer with simdjson's padding after it.
  const char* Pad(std::string_view json) {
    const size_t needed = json.size() + simdjson::SIMDJSON_PADDING;
    if (needed > capacity) {
      capacity = std::max(needed, capacity * 2);
      buffer = std::make_unique<char[]>(capacity);
      unescaped = std::make_unique<char[]>(capacity);
    }
    std::memcpy(buffer.get(), json.data(), json.size());
    std::memset(buffer.get() + json.size(), 0, simdjson::SIMDJSON_PADDING);
    return buffer.get();
  }
};

DocumentFlattener::DocumentFlattener(std::vector<Target> targets, Path path)
    : targets_(std::move(targets)),
      one_pass_(path == Path::kAuto),
      successor_(targets_.size() + 1, kNone),
      filled_in_row_(targets_.size(), 0),
      impl_(std::make_unique<Impl>()) {
  row_targets_.reserve(targets_.size());
  slot_of_.reserve(targets_.size());
  for (const Target& target : targets_) slot_of_.push_back(static_cast<uint32_t>(target.slot));
  key_patterns_.reserve(targets_.size());
  for (const Target& target : targets_) {
    const bool plain = std::all_of(target.name.begin(), target.name.end(), [](char c) {
      return kPlainStringByte[static_cast<unsigned char>(c)];
    });
    key_patterns_.push_back(plain ? '"' + target.name + "\":" : std::string());
    const std::string& pattern = key_patterns_.back();
    FastKey fast{};
    if (!pattern.empty() && pattern.size() <= sizeof(fast.bytes)) {
      std::memcpy(fast.bytes, pattern.data(), pattern.size());
      fast.mask = static_cast<uint32_t>((uint64_t{1} << pattern.size()) - 1);
      fast.size = static_cast<uint32_t>(pattern.size());
    }
    fast_keys_.push_back(fast);
  }
  const size_t size = std::bit_ceil(std::max<size_t>(8, targets_.size() * 2));
  table_.assign(size, 0);
  mask_ = size - 1;
  for (size_t t = 0; t < targets_.size(); ++t) {
    size_t i = KeyHash(targets_[t].name) & mask_;
    while (table_[i] != 0) i = (i + 1) & mask_;
    table_[i] = static_cast<uint32_t>(t + 1);
  }
}

DocumentFlattener::~DocumentFlattener() = default;

int DocumentFlattener::FindAfter(uint32_t previous, std::string_view key) {
  uint32_t& guess = successor_[previous];
  if (guess != kNone) {
    // Field names are a few bytes: a plain loop beats a call to memcmp.
    const std::string& name = targets_[guess].name;
    if (name.size() == key.size()) {
      size_t i = 0;
      while (i < key.size() && name[i] == key[i]) ++i;
      if (i == key.size()) return static_cast<int>(guess);
    }
  }
  const int found = Find(key);
  if (found >= 0) guess = static_cast<uint32_t>(found);
  return found;
}

int DocumentFlattener::Find(std::string_view key) const {
  size_t i = KeyHash(key) & mask_;
  for (;;) {
    uint32_t entry = table_[i];
    if (entry == 0) return -1;
    if (targets_[entry - 1].name == key) return static_cast<int>(entry - 1);
    i = (i + 1) & mask_;
  }
}

void DocumentFlattener::AppendSetSlots(std::vector<uint32_t>& out) const {
  for (size_t i = 0; i < layout_prefix_; ++i) out.push_back(slot_of_[layout_[i]]);
  for (uint32_t t : row_targets_) out.push_back(slot_of_[t]);
}

void DocumentFlattener::ResetRow(std::span<Cell> row) {
  for (size_t i = 0; i < layout_prefix_; ++i) row[slot_of_[layout_[i]]] = Cell{};
  layout_prefix_ = 0;
  for (uint32_t t : row_targets_) row[slot_of_[t]] = Cell{};
  row_targets_.clear();
  ++row_number_;  // so filled_in_row_ marks nothing
}

bool DocumentFlattener::FastKeyAt(const char* p, uint32_t t) const {
  const FastKey& key = fast_keys_[t];
#if defined(__SSE2__)
  const __m128i doc = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i pattern = _mm_loadu_si128(reinterpret_cast<const __m128i*>(key.bytes));
  const auto equal = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(doc, pattern)));
  return key.mask != 0 && (equal & key.mask) == key.mask;
#else
  (void)p;
  (void)key;
  return false;
#endif
}

void DocumentFlattener::ResetLayoutFrom(size_t matched, std::span<Cell> row) {
  if (stale_layout_cells_) {
    for (size_t i = matched; i < layout_.size(); ++i) row[slot_of_[layout_[i]]] = Cell{};
    stale_layout_cells_ = false;
  }
  layout_prefix_ = matched;
}

void DocumentFlattener::LeaveLayout(size_t matched, uint32_t& previous, std::span<Cell> row) {
  ResetLayoutFrom(matched, row);
  layout_prefix_ = 0;
  row_targets_.assign(layout_.begin(), layout_.begin() + static_cast<std::ptrdiff_t>(matched));
  for (uint32_t t : row_targets_) filled_in_row_[t] = row_number_;
  if (matched > 0) previous = layout_[matched - 1];
}

bool DocumentFlattener::KeyAt(const char* p, const char* end, uint32_t t) const {
  const std::string& pattern = key_patterns_[t];
  const size_t n = pattern.size();
  if (n == 0 || static_cast<size_t>(end - p) < n) return false;
  if (n >= 8 && n <= 16) {
    // Two overlapping 8-byte compares, as the key patterns of short names are 8 to 16 bytes.
    uint64_t doc_head, doc_tail, head, tail;
    std::memcpy(&doc_head, p, 8);
    std::memcpy(&doc_tail, p + n - 8, 8);
    std::memcpy(&head, pattern.data(), 8);
    std::memcpy(&tail, pattern.data() + n - 8, 8);
    return doc_head == head && doc_tail == tail;
  }
  return std::memcmp(p, pattern.data(), n) == 0;
}

bool DocumentFlattener::FlattenSimple(const char* p, const char* end, std::span<Cell> row) {
  // The loops below rely on the padding after `end` (zero bytes, see Impl::Pad): a zero byte
  // ends every scan, so they test for `end` only where they stop.
  const auto skip_space = [&p, end] {
    while (p != end && IsJsonSpace(*p)) ++p;
  };
  // Advances p over string content; true when it stopped at the closing quote.
  const auto scan_string = [&p, end] {
    p = SkipPlainStringBytes(p);
    return p < end && *p == '"';
  };
  skip_space();
  if (p == end || *p != '{') return false;
  ++p;
  skip_space();
  if (p != end && *p == '}') {
    ResetLayoutFrom(0, row);
    ++p;
    skip_space();
    return p == end;
  }
  uint32_t previous = static_cast<uint32_t>(targets_.size());
  char* unescaped = impl_->unescaped.get();
  // The next key of layout_ to expect. While the document follows the layout (in_layout <=
  // layout_.size()), its cells are those of layout_[0, in_layout), recorded only when it leaves
  // the layout (LeaveLayout) or ends (layout_prefix_). Past layout_.size() once the document
  // has left it. Not tried at all after a document that did not begin like the one before it
  // (rows of varying keys, as sparse documents): a failed compare per document would cost more
  // than it saves.
  const size_t off_layout = layout_.size() + 1;
  size_t in_layout = try_layout_ ? 0 : off_layout;
  // Every failure once cells may have been set returns through here, so that the ResetRow
  // that follows it in Flatten finds them all.
  const auto give_up = [this, &in_layout, off_layout, row] {
    if (in_layout < off_layout) ResetLayoutFrom(in_layout, row);
    return false;
  };
  for (;;) {
    // The common case in one step: the layout's next key, a plain number, a comma.
    if (in_layout < layout_.size()) {
      const uint32_t t = layout_[in_layout];
      if (FastKeyAt(p, t)) {
        const char* value = p + fast_keys_[t].size;
        if (const size_t n = PlainNumberBeforeComma(value); n != 0) {
          row[slot_of_[t]] = Cell{CellKind::kNumber, std::string_view(value, n)};
          ++in_layout;
          p = value + n + 1;
          continue;
        }
      }
    }
    skip_space();
    if (p == end || *p != '"') return give_up();
    std::string_view key;
    int target = -1;  // known at once when the key is the layout's next one
    bool from_layout = false;
    if (in_layout < layout_.size() && KeyAt(p, end, layout_[in_layout])) {
      target = static_cast<int>(layout_[in_layout++]);
      from_layout = true;
      p += key_patterns_[static_cast<size_t>(target)].size();
    } else {
      if (in_layout < off_layout) {
        LeaveLayout(in_layout, previous, row);
        in_layout = off_layout;  // never matches again in this document
      }
      const char* key_begin = ++p;
      if (!scan_string()) return give_up();
      key = std::string_view(key_begin, static_cast<size_t>(p - key_begin));
      ++p;
      skip_space();
      if (p == end || *p != ':') return give_up();
      ++p;
    }
    skip_space();
    if (p == end) return give_up();
    Cell cell;
    const char c = *p;
    const size_t left = static_cast<size_t>(end - p);
    if (c == '"') {
      const char* text = ++p;
      if (scan_string()) {
        cell = {CellKind::kText, std::string_view(text, static_cast<size_t>(p - text))};
      } else {
        // Escapes other than \uXXXX are unescaped here (\u goes to simdjson).
        char* const out_begin = unescaped;
        std::memcpy(unescaped, text, static_cast<size_t>(p - text));
        unescaped += p - text;
        while (p != end && *p == '\\') {
          if (++p == end) return give_up();
          switch (*p) {
            // clang-format off
            case '"': *unescaped++ = '"'; break;
            case '\\': *unescaped++ = '\\'; break;
            case '/': *unescaped++ = '/'; break;
            case 'b': *unescaped++ = '\b'; break;
            case 'f': *unescaped++ = '\f'; break;
            case 'n': *unescaped++ = '\n'; break;
            case 'r': *unescaped++ = '\r'; break;
            case 't': *unescaped++ = '\t'; break;
            default: return give_up();
              // clang-format on
          }
          const char* run = ++p;
          const bool closed = scan_string();
          std::memcpy(unescaped, run, static_cast<size_t>(p - run));
          unescaped += p - run;
          if (closed) break;
        }
        if (p == end || *p != '"') return give_up();
        cell = {CellKind::kText,
                std::string_view(out_begin, static_cast<size_t>(unescaped - out_begin))};
      }
      ++p;
    } else if (c == '-' || IsAsciiDigit(c)) {
      // RFC 8259's number grammar in one pass; whatever follows must be a delimiter (checked
      // below), so "01" or "1.2.3" go to simdjson and its verdict.
      const char* token = p;
      if (*p == '-') ++p;
      if (*p == '0') {
        ++p;
      } else if (IsAsciiDigit(*p)) {
        p = SkipDigits(p + 1);
      } else {
        return give_up();
      }
      if (*p == '.') {
        if (!IsAsciiDigit(*++p)) return give_up();
        p = SkipDigits(p + 1);
      }
      if (*p == 'e' || *p == 'E') {
        ++p;
        if (*p == '+' || *p == '-') ++p;
        if (!IsAsciiDigit(*p)) return give_up();
        p = SkipDigits(p + 1);
      }
      if (p > end) return give_up();
      cell = {CellKind::kNumber, std::string_view(token, static_cast<size_t>(p - token))};
    } else if (c == 't' && left >= 4 && std::memcmp(p, "true", 4) == 0) {
      cell = {CellKind::kBool, "true"};
      p += 4;
    } else if (c == 'f' && left >= 5 && std::memcmp(p, "false", 5) == 0) {
      cell = {CellKind::kBool, "false"};
      p += 5;
    } else if (c == 'n' && left >= 4 && std::memcmp(p, "null", 4) == 0) {
      p += 4;
    } else {
      return give_up();  // objects, arrays, anything malformed
    }
    skip_space();
    if (p == end || (*p != ',' && *p != '}')) return give_up();
    const bool last = *p == '}';
    ++p;
    if (from_layout) {
      row[slot_of_[static_cast<size_t>(target)]] = cell;  // recorded with the layout's prefix
    } else {
      if (target < 0) target = FindAfter(previous, key);
      if (target >= 0 && filled_in_row_[target] != row_number_) {
        previous = static_cast<uint32_t>(target);
        filled_in_row_[target] = row_number_;
        row[slot_of_[static_cast<size_t>(target)]] = cell;
        row_targets_.push_back(static_cast<uint32_t>(target));
      }
    }
    if (last) break;
  }
  skip_space();
  if (p != end) return give_up();
  if (in_layout < off_layout) {
    // The document followed the layout to its end, or stopped early: then it is the new layout.
    ResetLayoutFrom(in_layout, row);
    layout_.resize(in_layout);
    try_layout_ = in_layout > 0;
  } else {
    try_layout_ = !row_targets_.empty() && !layout_.empty() && row_targets_[0] == layout_[0];
    layout_ = row_targets_;
  }
  return true;
}

Status DocumentFlattener::Flatten(std::string_view json, std::span<Cell> row) {
  // A document that follows the layout of the one before overwrites every cell that one set
  // (then the whole layout, recorded as layout_prefix_), so those cells are reset only from
  // where the document leaves the layout, if it does (ResetLayoutFrom): a dense row then costs
  // no pass of its own over the row.
  stale_layout_cells_ = try_layout_ && !json.empty() && row_targets_.empty() && !layout_.empty() &&
                        layout_prefix_ == layout_.size();
  if (stale_layout_cells_) {
    ++row_number_;  // as ResetRow, so that filled_in_row_ marks nothing
  } else {
    ResetRow(row);
  }
  if (json.empty() || targets_.empty()) return Status::Ok();

  const char* padded = impl_->Pad(json);
  // Most documents take the one-pass path; simdjson decides everything else, errors included,
  // so both paths give the same cells and the same verdicts.
  if (one_pass_ && simdjson::validate_utf8(padded, json.size()) &&
      FlattenSimple(padded, padded + json.size(), row)) {
    return Status::Ok();
  }
  ResetRow(row);
  od::document doc;
  if (auto error = impl_->parser.iterate(padded, json.size(), impl_->capacity).get(doc)) {
    return JsonError(error, "parse");
  }
  od::object object;
  if (auto error = doc.get_object().get(object)) return JsonError(error, "not an object");

  // The target matched last in this document (the start entry before the first).
  uint32_t previous = static_cast<uint32_t>(targets_.size());
  for (auto field_result : object) {
    od::field field;
    if (auto error = std::move(field_result).get(field)) return JsonError(error, "field");
    // Keys without escapes (nearly all) are compared in place; the closing quote is there
    // because stage 1 validated the string.
    const char* raw = field.key().raw();
    const char* end = raw;
    while (*end != '"' && *end != '\\') ++end;
    std::string_view key;
    if (*end == '"') {
      key = std::string_view(raw, static_cast<size_t>(end - raw));
    } else if (auto error = field.unescaped_key().get(key)) {
      return JsonError(error, "key");
    }
    const int target = FindAfter(previous, key);
    if (target < 0 || filled_in_row_[target] == row_number_) continue;  // skipped by the parser
    previous = static_cast<uint32_t>(target);

    od::value& value = field.value();
    od::json_type type;
    if (auto error = value.type().get(type)) return JsonError(error, "value");
    Cell cell;
    switch (type) {
      case od::json_type::number: {
        std::string_view token = value.raw_json_token();
        while (!token.empty() && IsJsonSpace(token.back())) token.remove_suffix(1);
        if (!IsPlainDecimal(token) && !IsValidJsonNumber(token)) {
          return DataLoss("malformed JSON document: bad number '" + std::string(token) +
                          "' for key '" + std::string(key) + "'");
        }
        cell = {CellKind::kNumber, token};
        break;
      }
      case od::json_type::string: {
        std::string_view text;
        if (auto error = value.get_string().get(text)) return JsonError(error, "string");
        cell = {CellKind::kText, text};
        break;
      }
      case od::json_type::boolean: {
        bool b = false;
        if (auto error = value.get_bool().get(b)) return JsonError(error, "boolean");
        cell = {CellKind::kBool, b ? std::string_view("true") : std::string_view("false")};
        break;
      }
      case od::json_type::null: {
        bool is_null = false;
        if (auto error = value.is_null().get(is_null)) return JsonError(error, "null");
        if (!is_null) return DataLoss("malformed JSON document: bad literal");
        break;
      }
      case od::json_type::object: {
        od::object inner;
        std::string_view text;
        if (auto error = value.get_object().get(inner)) return JsonError(error, "object");
        if (auto error = inner.raw_json().get(text)) return JsonError(error, "object");
        cell = {CellKind::kJson, text};
        break;
      }
      case od::json_type::array: {
        od::array inner;
        std::string_view text;
        if (auto error = value.get_array().get(inner)) return JsonError(error, "array");
        if (auto error = inner.raw_json().get(text)) return JsonError(error, "array");
        cell = {CellKind::kJson, text};
        break;
      }
    }
    filled_in_row_[target] = row_number_;
    row[slot_of_[static_cast<size_t>(target)]] = cell;
    row_targets_.push_back(static_cast<uint32_t>(target));
  }
  // After the root object only the end of input may follow.
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    return DataLoss("malformed JSON document: content after the object");
  }
  return Status::Ok();
}

}  // namespace exportd
