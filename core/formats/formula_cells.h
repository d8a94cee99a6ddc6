// Spreadsheet formula injection ("CSV injection", OWASP): a text cell that a spreadsheet
// opening a CSV or TSV file would run as a formula. The CSV and TSV writers test every text
// cell with StartsLikeFormula, flag the file when one does, and (when asked) write such a cell
// with a leading single quote, which spreadsheets read as "this is text".
//
// The rule (the one Kibana and OWASP use, minus numbers):
//   - a cell is formula-like when its first byte is '=', '+', '-', '@', TAB or CR;
//   - except a cell that is entirely a decimal number with a sign ("-3.5", "+1e5", "-.5"):
//     spreadsheets read that as the number, so it is data and is never flagged or changed;
//   - only text cells are tested: number, boolean and JSON cells (and NULL) never are.
// Everything else starting with a trigger byte counts, even a lone "-" or "+".
#ifndef EXPORTD_CORE_FORMATS_FORMULA_CELLS_H_
#define EXPORTD_CORE_FORMATS_FORMULA_CELLS_H_

#include <string_view>

namespace exportd {

// The prefix written before a formula-like cell when formulas are escaped.
inline constexpr char kFormulaEscape = '\'';

// The whole test on the hot path for nearly every cell: one byte.
inline bool IsFormulaTrigger(char first) {
  switch (first) {
    case '=':
    case '+':
    case '-':
    case '@':
    case '\t':
    case '\r':
      return true;
    default:
      return false;
  }
}

// [+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?, nothing else (no spaces,
// thousands separators, hex, inf or nan).
bool IsDecimalNumber(std::string_view text);

// See the rule above.
inline bool StartsLikeFormula(std::string_view text) {
  return !text.empty() && IsFormulaTrigger(text.front()) &&
         !((text.front() == '-' || text.front() == '+') && IsDecimalNumber(text));
}

}  // namespace exportd

#endif  // EXPORTD_CORE_FORMATS_FORMULA_CELLS_H_
