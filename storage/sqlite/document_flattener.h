// DocumentFlattener: one JSON object per row -> one Cell per declared top-level key.
#ifndef EXPORTD_STORAGE_SQLITE_DOCUMENT_FLATTENER_H_
#define EXPORTD_STORAGE_SQLITE_DOCUMENT_FLATTENER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/source.h"
#include "core/status.h"

namespace exportd {

// Parses documents with simdjson On-Demand and writes the values of the wanted keys into the
// caller's row:
//   number        kNumber, the raw JSON token (exact, never reformatted)
//   string        kText, unescaped
//   true / false  kBool
//   null          kNull
//   object/array  kJson, the raw JSON text
// A wanted key the document lacks is kNull; keys not wanted are skipped; with duplicate keys the
// first one counts (as SQLite's json_each, which the filter compiler uses). An empty document
// (zero bytes) gives all NULLs. A document that is not a JSON object, or is malformed where the
// parser walks, is kDataLoss. Values of keys that are not wanted are skipped structurally, not
// validated in full (the cost of walking them is most of the work, see PERF-NOTES).
//
// Steady state allocates nothing: the padded input buffer and the parser's string buffer grow to
// the largest document seen and are reused.
//
// Not thread-safe: one flattener per reader.
class DocumentFlattener {
 public:
  struct Target {
    std::string name;  // top-level key, unescaped
    size_t slot = 0;   // index into the row passed to Flatten
  };

  // Which parser reads a document. kAuto: the one-pass path (FlattenSimple) when it can,
  // simdjson otherwise. kSimdjsonOnly: simdjson always, the reference that the one-pass path must
  // agree with, cell for cell and verdict for verdict; only the differential tests and the
  // fuzzer (tests/fuzz/flattener_paths_fuzz.cc) use it.
  enum class Path { kAuto, kSimdjsonOnly };

  // REQUIRES: target names are unique.
  explicit DocumentFlattener(std::vector<Target> targets, Path path = Path::kAuto);
  ~DocumentFlattener();
  DocumentFlattener(const DocumentFlattener&) = delete;
  DocumentFlattener& operator=(const DocumentFlattener&) = delete;

  // Sets row[t.slot] for every target t. Cells point into buffers owned by this flattener and
  // stay valid until the next Flatten() call or its destruction.
  // REQUIRES: every slot < row.size(); the target slots of `row` hold what the previous call
  // left there (or kNull): only slots written by the previous call are reset, so that sparse
  // documents over thousands of fields cost per present key, not per declared field.
  Status Flatten(std::string_view json, std::span<Cell> row);

  // After a Flatten() that succeeded: how many target cells the document set (a JSON null it
  // named included); every other target cell is NULL.
  size_t cells_set() const { return layout_prefix_ + row_targets_.size(); }
  // Appends the slots of those cells to `out`, in document order.
  void AppendSetSlots(std::vector<uint32_t>& out) const;

 private:
  struct Impl;
  // Returns the target index of `key`, or -1.
  int Find(std::string_view key) const;
  // Find(key), trying first the target that followed target `previous` (kStart: the first key of
  // a document) last time: documents of one dataset nearly always list their keys in the same
  // order, so one length check and one compare usually replace the hash lookup.
  int FindAfter(uint32_t previous, std::string_view key);
  // One pass over [p, end) for the common shape: a flat object whose keys have no escapes,
  // whose strings have no control characters and no \uXXXX escapes (the others are unescaped
  // into Impl's buffer), and whose values are numbers, strings or literals. False on
  // anything else (cells may be half set then): the simdjson parse decides those documents.
  // REQUIRES: [p, end) is valid UTF-8.
  bool FlattenSimple(const char* p, const char* end, std::span<Cell> row);
  // Forgets the cells the current row has set (the start of a row, or a fallback).
  void ResetRow(std::span<Cell> row);
  // Whether the bytes at p are target t's key in its plain form, `"name":` (key_patterns_).
  bool KeyAt(const char* p, const char* end, uint32_t t) const;
  // KeyAt for patterns of up to 16 bytes, in one 16-byte compare; false for longer ones.
  // REQUIRES: 16 readable bytes at p.
  bool FastKeyAt(const char* p, uint32_t t) const;
  // The document set the cells of layout_[0, matched) and will set no more of the layout's:
  // resets the cells after them that still hold the row before's values (stale_layout_cells_)
  // and makes layout_prefix_ `matched`.
  void ResetLayoutFrom(size_t matched, std::span<Cell> row);
  // ResetLayoutFrom(matched), then records the cells of layout_[0, matched) in row_targets_
  // and filled_in_row_ instead; `previous` becomes the last of them.
  void LeaveLayout(size_t matched, uint32_t& previous, std::span<Cell> row);

  static constexpr uint32_t kNone = UINT32_MAX;

  std::vector<Target> targets_;
  bool one_pass_ = true;  // Path::kAuto
  // Open addressing, power-of-two size; entries are target index + 1 (0 = empty).
  std::vector<uint32_t> table_;
  size_t mask_ = 0;
  // successor_[t]: the target matched after target t last time (kNone if none yet); the last
  // entry (index targets_.size()) is the one for the first key of a document.
  std::vector<uint32_t> successor_;
  std::vector<uint64_t> filled_in_row_;  // per target: the row number that last set it
  std::vector<uint32_t> slot_of_;        // per target: targets_[t].slot, packed for the cache
  // The targets the last call set, in document order, apart from the first layout_prefix_
  // entries of layout_, whose cells are set too.
  std::vector<uint32_t> row_targets_;
  size_t layout_prefix_ = 0;
  // While a document is flattened: the cells of layout_ it has not set yet still hold the values
  // of the row before (see Flatten).
  bool stale_layout_cells_ = false;
  // The layout of the document before: its targets in order (the targets set by the last call
  // that passed FlattenSimple). Dense documents of one dataset repeat it key for key, so
  // FlattenSimple first tries the next key of this layout, comparing the bytes `"name":` at
  // once (key_patterns_), before it scans a key and looks it up.
  std::vector<uint32_t> layout_;
  bool try_layout_ = false;  // the last document began like the one before it
  // Per target: `"name":`, or empty when the name has a byte JSON would escape (such a name
  // never appears as it is in a document).
  std::vector<std::string> key_patterns_;
  // Per target: the pattern padded to 16 bytes and the mask of its bytes (0: longer than 16).
  struct FastKey {
    char bytes[16];
    uint32_t mask;
    uint32_t size;
  };
  std::vector<FastKey> fast_keys_;
  uint64_t row_number_ = 0;
  std::unique_ptr<Impl> impl_;  // simdjson parser and padded buffer
};

}  // namespace exportd

#endif  // EXPORTD_STORAGE_SQLITE_DOCUMENT_FLATTENER_H_
