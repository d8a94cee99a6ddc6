// The document flattener's two parsers (storage/sqlite/document_flattener.h): the one-pass path,
// which also guesses each document's key layout from the document before, and simdjson. The
// input is a sequence of documents, one per line (JSON Lines; a document keeps its other
// whitespace). Each document goes to three flatteners over the same targets:
//   seasoned   one flattener and one row for the whole sequence, as a source reading a table:
//              the one-pass path with the layout guesses of the documents before;
//   fresh      a new flattener and row for each document: no guess (the unit tests'
//              ExpectSameAsFresh compares these two);
//   reference  one flattener and row for the sequence with Path::kSimdjsonOnly.
// All three must give the same verdict (OK, or kDataLoss and nothing else) and, when OK, the
// same cells and the same set slots; cells_set() counts those slots, every other target cell is
// NULL, and the row's slot outside the targets is never written.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/source.h"
#include "core/status.h"
#include "storage/sqlite/document_flattener.h"
#include "tests/fuzz/fuzz_fail.h"

namespace {

using exportd::Cell;
using exportd::CellKind;
using exportd::DocumentFlattener;
using exportd::Status;

using exportd::fuzz::Fail;

// Names that reach every way a key is matched: plain patterns `"name":` of up to 16 bytes
// (FastKeyAt; "thirteen_char" is exactly 16), of 8 to 16 bytes (KeyAt's two 8-byte compares;
// "column_1" and "column_2" share their first 8), longer ones (memcmp), names JSON must escape
// (no pattern: a quote, a backslash, a control character), the empty name, non-ASCII, and the
// measurement names of the demo dataset that the seed corpus uses.
const std::vector<std::string>& Names() {
  static const auto* names = new std::vector<std::string>{"a",
                                                          "b2",
                                                          "col_3",
                                                          "d\"q",
                                                          "",
                                                          "column_1",
                                                          "column_2",
                                                          "thirteen_char",
                                                          "a_rather_long_column_name",
                                                          "back\\slash",
                                                          "tab\there",
                                                          "caf\xC3\xA9",
                                                          "SiO2",
                                                          "Al2O3",
                                                          "87Sr/86Sr",
                                                          "H2O+",
                                                          "Au",
                                                          "id",
                                                          "tags",
                                                          "geo"};
  return *names;
}

// Slot 0 is a column that is not a document field; the targets fill the others in reverse, so
// that a target's slot is not its index.
constexpr size_t kUntouchedSlot = 0;
constexpr std::string_view kUntouchedText = "column";

std::vector<DocumentFlattener::Target> Targets() {
  std::vector<DocumentFlattener::Target> targets;
  const size_t n = Names().size();
  for (size_t i = 0; i < n; ++i) targets.push_back({Names()[i], n - i});
  return targets;
}

// A flattener with the row it writes into, and what it answered for the last document.
class Flattening {
 public:
  explicit Flattening(DocumentFlattener::Path path)
      : flattener_(Targets(), path), row_(Names().size() + 1) {
    row_[kUntouchedSlot] = {CellKind::kText, kUntouchedText};
  }

  // Flattens `doc`; when that succeeds, checks what the contract says of the set slots and keeps
  // them, ascending, for set_slots().
  const Status& Flatten(std::string_view doc) {
    status_ = flattener_.Flatten(doc, row_);
    if (!status_.ok()) {
      if (status_.code() != exportd::StatusCode::kDataLoss) {
        Fail("a document is refused with kDataLoss", std::string(doc) + "\n" + status_.ToString());
      }
      return status_;
    }
    slots_.clear();
    flattener_.AppendSetSlots(slots_);
    std::sort(slots_.begin(), slots_.end());
    if (slots_.size() != flattener_.cells_set()) {
      Fail("cells_set() counts the set slots", std::string(doc));
    }
    if (std::adjacent_find(slots_.begin(), slots_.end()) != slots_.end()) {
      Fail("each set slot is listed once", std::string(doc));
    }
    for (size_t slot = 1; slot < row_.size(); ++slot) {
      if (row_[slot].kind != CellKind::kNull &&
          !std::binary_search(slots_.begin(), slots_.end(), slot)) {
        Fail("a target cell the document did not set is NULL",
             std::string(doc) + "\nslot " + std::to_string(slot));
      }
    }
    if (row_[kUntouchedSlot].kind != CellKind::kText ||
        row_[kUntouchedSlot].text != kUntouchedText) {
      Fail("the slot outside the targets is never written", std::string(doc));
    }
    return status_;
  }

  const Status& status() const { return status_; }
  const std::vector<Cell>& row() const { return row_; }
  const std::vector<uint32_t>& set_slots() const { return slots_; }

  // The target cells, one a line ("slot kind:text"), for a failure message.
  std::string Describe() const {
    std::string out;
    for (size_t slot = 1; slot < row_.size(); ++slot) {
      out += "  " + std::to_string(slot) + " " + std::to_string(static_cast<int>(row_[slot].kind)) +
             ":" + std::string(row_[slot].text) + "\n";
    }
    return out;
  }

 private:
  DocumentFlattener flattener_;
  std::vector<Cell> row_;
  Status status_;
  std::vector<uint32_t> slots_;
};

bool SameCells(const std::vector<Cell>& a, const std::vector<Cell>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const Cell& x, const Cell& y) {
    return x.kind == y.kind && x.text == y.text;
  });
}

// `got`'s answer for `doc` against the fresh flattener's.
void ExpectSame(const char* what, const Flattening& got, const Flattening& fresh,
                std::string_view doc) {
  const auto context = [&] {
    return std::string(what) + " vs fresh, document: " + std::string(doc) + "\n";
  };
  if (got.status().ok() != fresh.status().ok()) {
    Fail("the same verdict", context() + what + ": " + got.status().ToString() +
                                 "\nfresh: " + fresh.status().ToString());
  }
  if (!got.status().ok()) return;
  if (!SameCells(got.row(), fresh.row())) {
    Fail("the same cells",
         context() + what + ":\n" + got.Describe() + "fresh:\n" + fresh.Describe());
  }
  if (got.set_slots() != fresh.set_slots()) Fail("the same set slots", context());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  Flattening seasoned(DocumentFlattener::Path::kAuto);
  Flattening reference(DocumentFlattener::Path::kSimdjsonOnly);
  size_t start = 0;
  while (start <= input.size()) {
    size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    // Its own buffer, so that ASan sees a read past the document's end.
    const std::string doc(input.substr(start, end - start));
    start = end + 1;

    Flattening fresh(DocumentFlattener::Path::kAuto);
    fresh.Flatten(doc);
    seasoned.Flatten(doc);
    reference.Flatten(doc);
    ExpectSame("seasoned", seasoned, fresh, doc);
    ExpectSame("simdjson", reference, fresh, doc);
  }
  return 0;
}
