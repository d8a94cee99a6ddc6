#include "storage/sqlite/document_flattener.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace exportd {
namespace {

struct Got {
  CellKind kind;
  std::string text;
  friend bool operator==(const Got&, const Got&) = default;
};

std::ostream& operator<<(std::ostream& os, const Got& g) {
  return os << static_cast<int>(g.kind) << ":" << g.text;
}

Got N(std::string t) { return {CellKind::kNumber, std::move(t)}; }
Got T(std::string t) { return {CellKind::kText, std::move(t)}; }
Got B(std::string t) { return {CellKind::kBool, std::move(t)}; }
Got J(std::string t) { return {CellKind::kJson, std::move(t)}; }
Got Null() { return {CellKind::kNull, ""}; }

// Targets occupy slots 1..n of a row with one unrelated slot 0 before them.
class Harness {
 public:
  explicit Harness(const std::vector<std::string>& names,
                   DocumentFlattener::Path path = DocumentFlattener::Path::kAuto)
      : flattener_(Targets(names), path), row_(names.size() + 1) {
    row_[0] = {CellKind::kText, "column"};
  }

  Status Flatten(std::string_view json) { return flattener_.Flatten(json, row_); }

  std::vector<Got> Cells() const {
    std::vector<Got> out;
    for (size_t i = 1; i < row_.size(); ++i) {
      out.push_back({row_[i].kind, std::string(row_[i].text)});
    }
    return out;
  }
  const Cell& untouched() const { return row_[0]; }
  const Cell& cell(size_t target) const { return row_[target + 1]; }
  // DocumentFlattener::AppendSetSlots, ascending.
  std::vector<uint32_t> SetSlots() const {
    std::vector<uint32_t> slots;
    flattener_.AppendSetSlots(slots);
    std::sort(slots.begin(), slots.end());
    EXPECT_EQ(slots.size(), flattener_.cells_set());
    return slots;
  }

 private:
  static std::vector<DocumentFlattener::Target> Targets(const std::vector<std::string>& names) {
    std::vector<DocumentFlattener::Target> t;
    for (size_t i = 0; i < names.size(); ++i) t.push_back({names[i], i + 1});
    return t;
  }
  DocumentFlattener flattener_;
  std::vector<Cell> row_;
};

TEST(DocumentFlattenerTest, NumbersKeepTheirRawToken) {
  Harness h({"a", "b", "c", "d", "e", "f"});
  ASSERT_TRUE(h.Flatten(R"({"a": 1e-05, "b": -0, "c": 12345678901234567890,)"
                        R"( "d": 0.10, "e" :  -1.5E+300 , "f":7})")
                  .ok());
  EXPECT_EQ(h.Cells(), (std::vector<Got>{N("1e-05"), N("-0"), N("12345678901234567890"), N("0.10"),
                                         N("-1.5E+300"), N("7")}));
  EXPECT_EQ(h.untouched().text, "column");
}

TEST(DocumentFlattenerTest, StringsAreUnescaped) {
  Harness h({"nl", "quote", "e", "emoji", "slash", "plain"});
  ASSERT_TRUE(h.Flatten(R"({"nl": "a\nb", "quote": "say \"hi\"", "e": "caf\u00e9",)"
                        R"( "emoji": "\ud83d\ude00", "slash": "a\\b\/c", "plain": "é 東"})")
                  .ok());
  EXPECT_EQ(h.Cells(), (std::vector<Got>{T("a\nb"), T("say \"hi\""), T("caf\xC3\xA9"),
                                         T("\xF0\x9F\x98\x80"), T("a\\b/c"), T("é 東")}));
}

TEST(DocumentFlattenerTest, LiteralsNestedValuesAndMissingKeys) {
  Harness h({"t", "f", "n", "obj", "arr", "missing"});
  ASSERT_TRUE(h.Flatten(R"({"t": true, "f": false, "n": null,)"
                        R"( "obj": {"x": [1, {"y": "}"}]}, "arr": [ 1, 2 ], "ignored": {"t": 5}})")
                  .ok());
  EXPECT_EQ(h.Cells(), (std::vector<Got>{B("true"), B("false"), Null(),
                                         J(R"({"x": [1, {"y": "}"}]})"), J("[ 1, 2 ]"), Null()}));
}

TEST(DocumentFlattenerTest, KeysAreMatchedUnescapedAndFirstDuplicateWins) {
  Harness h({"café", "a\"b", "x"});
  ASSERT_TRUE(h.Flatten(R"({"caf\u00e9": 1, "a\"b": 2, "x": 3, "x": 4})").ok());
  EXPECT_EQ(h.Cells(), (std::vector<Got>{N("1"), N("2"), N("3")}));
}

TEST(DocumentFlattenerTest, EachRowResetsWhatThePreviousRowSet) {
  Harness h({"a", "b"});
  ASSERT_TRUE(h.Flatten(R"({"a": 1, "b": "x"})").ok());
  ASSERT_TRUE(h.Flatten(R"({"b": "y"})").ok());
  EXPECT_EQ(h.Cells(), (std::vector<Got>{Null(), T("y")}));
  ASSERT_TRUE(h.Flatten("").ok());
  EXPECT_EQ(h.Cells(), (std::vector<Got>{Null(), Null()}));
  ASSERT_TRUE(h.Flatten("{}").ok());
  EXPECT_EQ(h.Cells(), (std::vector<Got>{Null(), Null()}));
}

TEST(DocumentFlattenerTest, CellsStayValidAcrossALongerDocument) {
  Harness h({"s"});
  ASSERT_TRUE(h.Flatten(R"({"s": "short"})").ok());
  std::string big = R"({"pad": ")" + std::string(100000, 'x') + R"(", "s": "lo\tng"})";
  ASSERT_TRUE(h.Flatten(big).ok());
  EXPECT_EQ(h.Cells(), (std::vector<Got>{T("lo\tng")}));
}

TEST(DocumentFlattenerTest, MalformedDocumentsAreDataLoss) {
  for (const char* bad :
       {R"({"a": 1,)", R"({"a" 1})", "not json", "[1, 2]", R"("text")", R"({"a": 01})",
        R"({"a": tru})", R"({"a": 1} x)", R"({"a": 1}{"b": 2})", R"({"a": "unterminated})",
        "{\"a\": \"\xC3\"}", R"({"a": [1, 2})", "   "}) {
    Harness h({"a", "b"});
    Status s = h.Flatten(bad);
    EXPECT_EQ(s.code(), StatusCode::kDataLoss) << bad << " -> " << s.ToString();
  }
}

// Flat documents without escapes take a one-pass path; anything else falls back to simdjson,
// possibly after some keys were matched: the cells must be the same either way.
TEST(DocumentFlattenerTest, SimpleAndFallbackDocumentsGiveTheSameCells) {
  Harness h({"a", "b", "c", "d"});
  ASSERT_TRUE(h.Flatten(R"({"a": 1.5, "b": "x", "c": true, "d": null})").ok());
  EXPECT_EQ(h.Cells(), (std::vector<Got>{N("1.5"), T("x"), B("true"), Null()}));
  // An escape in the last value, a nested value, a control character, a duplicate key.
  ASSERT_TRUE(h.Flatten(R"({"a": -2, "b": "y", "d": "q\"z"})").ok());
  EXPECT_EQ(h.Cells(), (std::vector<Got>{N("-2"), T("y"), Null(), T("q\"z")}));
  ASSERT_TRUE(h.Flatten(R"({"c": false, "a": 0, "skip": {"b": 1}, "b": "w"})").ok());
  EXPECT_EQ(h.Cells(), (std::vector<Got>{N("0"), T("w"), B("false"), Null()}));
  ASSERT_TRUE(h.Flatten(R"({"a": 9, "b": "1\"2\\3\/4\n5\t", "c": "\r\"", "d": "\bx\f"})").ok());
  EXPECT_EQ(h.Cells(), (std::vector<Got>{N("9"), T("1\"2\\3/4\n5\t"), T("\r\""), T("\bx\f")}));
  ASSERT_TRUE(h.Flatten(R"({"a": 3, "a": 4, "b": "z"})").ok());
  EXPECT_EQ(h.Cells(), (std::vector<Got>{N("3"), T("z"), Null(), Null()}));
  ASSERT_TRUE(h.Flatten(R"({ "unknown" : 01 , "d" : 7e3 })").ok());  // unwanted: not validated
  EXPECT_EQ(h.Cells(), (std::vector<Got>{Null(), Null(), Null(), N("7e3")}));
}

TEST(DocumentFlattenerTest, KeysInAnOrderThatChangesFromRowToRow) {
  Harness h({"k1", "k2", "k3"});
  ASSERT_TRUE(h.Flatten(R"({"k1": 1, "k2": 2, "k3": 3})").ok());
  ASSERT_TRUE(h.Flatten(R"({"k3": 30, "k1": 10, "k2": 20})").ok());
  EXPECT_EQ(h.Cells(), (std::vector<Got>{N("10"), N("20"), N("30")}));
  ASSERT_TRUE(h.Flatten(R"({"k2": 200, "other": 0, "k1": 100})").ok());
  EXPECT_EQ(h.Cells(), (std::vector<Got>{N("100"), N("200"), Null()}));
  ASSERT_TRUE(h.Flatten(R"({"k1": 1, "k2": 2, "k3": 3})").ok());
  EXPECT_EQ(h.Cells(), (std::vector<Got>{N("1"), N("2"), N("3")}));
}

TEST(DocumentFlattenerTest, MalformedSimpleLookingDocumentsAreDataLoss) {
  for (const char* bad :
       {R"({"a": truex})", R"({"a": 1 2})", R"({"a": 1.})", R"({"a": -})", "{\"a\": \"x\xFFy\"}",
        "{\"a\": \"tab\there\"}", R"({"a": 1,})", R"({"a": nul})", R"({"a": 1} ,)"}) {
    Harness h({"a"});
    Status s = h.Flatten(bad);
    EXPECT_EQ(s.code(), StatusCode::kDataLoss) << bad << " -> " << s.ToString();
  }
}

// Flattens `docs` in order with one flattener, which learns each document's layout, and each
// with a fresh one, which cannot: both must agree on every verdict and every cell. So must a
// flattener that reads every document with simdjson (Path::kSimdjsonOnly), the reference of the
// one-pass path. tests/fuzz/flattener_paths_fuzz.cc makes the same comparisons.
void ExpectSameAsFresh(const std::vector<std::string>& names,
                       const std::vector<std::string>& docs) {
  Harness seasoned(names);
  Harness reference(names, DocumentFlattener::Path::kSimdjsonOnly);
  for (size_t i = 0; i < docs.size(); ++i) {
    Harness fresh(names);
    const Status expected = fresh.Flatten(docs[i]);
    for (Harness* h : {&seasoned, &reference}) {
      const char* which = h == &seasoned ? "seasoned" : "simdjson only";
      const Status got = h->Flatten(docs[i]);
      ASSERT_EQ(got.ok(), expected.ok()) << which << ", document " << i << ": " << docs[i];
      if (got.ok()) {
        ASSERT_EQ(h->Cells(), fresh.Cells()) << which << ", document " << i << ": " << docs[i];
        ASSERT_EQ(h->SetSlots(), fresh.SetSlots())
            << which << ", document " << i << ": " << docs[i];
      }
    }
  }
}

// The documents of the one-pass path (flat, no \u escapes, valid UTF-8) give simdjson's cells.
TEST(DocumentFlattenerTest, TheOnePassPathGivesSimdjsonsCells) {
  ExpectSameAsFresh(
      {"a", "b", "c", "d", "e", "f"},
      {R"({"a": 1e-05, "b": -0, "c": 12345678901234567890, "d": 0.10, "e" :  -1.5E+300 , "f":7})",
       R"({"a": "a\nb", "b": "say \"hi\"", "c": "a\\b\/c", "d": "é 東", "e": "\b\f\r\t"})",
       R"({"a": true, "b": false, "c": null, "x": 1, "a": 2})", R"(  { "f" : "" }  )", "{}", "",
       R"({"a": 1,})", R"({"a": tru})", R"({"a": 1} x)"});
}

// kSimdjsonOnly really bypasses the one-pass path, which serves a plain string from the padded
// copy of the document, beside the number before it; simdjson copies strings into a buffer of
// its own.
TEST(DocumentFlattenerTest, SimdjsonOnlyNeverTakesTheOnePassPath) {
  const std::string doc = R"({"n":1,"s":"x"})";  // the token 1 at offset 5, x at offset 12
  Harness one_pass({"n", "s"});
  ASSERT_TRUE(one_pass.Flatten(doc).ok());
  EXPECT_EQ(one_pass.cell(1).text.data() - one_pass.cell(0).text.data(), 7);
  Harness simdjson({"n", "s"}, DocumentFlattener::Path::kSimdjsonOnly);
  ASSERT_TRUE(simdjson.Flatten(doc).ok());
  EXPECT_EQ(simdjson.Cells(), one_pass.Cells());
  EXPECT_NE(simdjson.cell(1).text.data() - simdjson.cell(0).text.data(), 7);
}

// A flattener expects the key layout of the document before (dense rows repeat it): each
// document of a sequence that keeps, breaks, extends and shortens that layout must give what a
// flattener seeing it first gives, errors included.
TEST(DocumentFlattenerTest, TheLayoutOfTheDocumentBeforeIsOnlyAGuess) {
  const std::vector<std::string> names = {"alpha", "b",        "key_of_seventeen_", "d\"q",    "",
                                          "e",     "column_1", "column_2",          "column_3"};
  const std::vector<std::string> docs = {
      R"({"alpha":1,"b":"x","key_of_seventeen_":true,"e":null})",
      R"({"alpha":2,"b":"y","key_of_seventeen_":false,"e":3})",   // the same layout
      R"({"alpha":3,"b":"z","key_of_seventeen_":1,"e":4,"":5})",  // one key more
      R"({"alpha":4,"b":"w"})",                                   // fewer keys
      R"({"alpha":5,"b" :"v","key_of_seventeen_":2})",            // a space before a colon
      R"({"alpha":6,"unknown":0,"b":"u","e":7})",                 // a key not wanted
      R"({"alpha":7,"unknown":0,"b":"t","e":8})",
      R"({"alpha":8,"alpha":9,"b":"s"})",   // a duplicate: the first counts
      R"({"alph\u0061":10,"b":"r"})",       // an escaped key
      R"({"alpha":11,"b":"q","d\"q":12})",  // a name with a quote
      R"({"alpha":12,"b":"p","d\"q":13})",
      R"({"alpha":13,"b":})",  // malformed after the layout
      R"({"alpha":14,"b":"o","key_of_seventeen_":3,"e":9})",
      R"({"alpha":15,"b":"n","key_of_seventeen_":4,"e":10} x)",  // content after the object
      R"({"alpha":16,"b":"m","key_of_seventeen_":5,"e":11})",
      R"({"alpha" :17})",
      R"({"b":"l","alpha":18})",  // another order
      R"({"b":"k","alpha":19})",
      R"({"alpha":20,"b":"j","key_of_seventeen_":6,"e":12})",
      R"({"column_1":1,"column_2":2})",  // names alike in their first 8 bytes
      R"({"column_1":3,"column_2":4})",
      R"({"column_1":5,"column_3":6})",
      R"({"column_2":7,"column_1":8})",
  };
  ExpectSameAsFresh(names, docs);
}

// Numbers right after a key of the layout and before a comma take a one-step path of their
// own: each token below, valid or not, must get the verdict and the cell of the general one.
TEST(DocumentFlattenerTest, NumbersInTheLayoutGetTheGeneralVerdict) {
  const std::vector<std::string> tokens = {
      "1",
      "-1",
      "0",
      "-0",
      "0.5",
      "-0.25",
      "10.125",
      "01",
      "-01",
      "00",
      "1.",
      ".5",
      "-.5",
      "-",
      "1.2.3",
      "1..2",
      "1e5",
      "1E-5",
      "1.5e+3",
      "--1",
      "+1",
      "1-2",
      "0x1",
      "NaN",
      "1 ",
      " 1",
      "\"1\"",
      "true",
      "null",
      "[1]",
      "{}",
      "1.0.",
      "0.0.0",
      "-0.0",
      "9.",
      "-9",
      "12345678901234",
      "123456789012345",
      "1234567890123456",
      "12345678901234567890.5",
      "0.000000000000001",
      "-.",
  };
  const std::vector<std::string> names = {"a", "bee", "a_rather_long_column_name", "d"};
  std::vector<std::string> docs;
  // The layout is tried only after two documents that begin alike, and the cells of a third are
  // reset only where it leaves the layout: hence the runs of three.
  const std::string full = R"({"a":1,"bee":2,"a_rather_long_column_name":3,"d":4})";
  for (const std::string& t : tokens) {
    docs.insert(docs.end(), {full, full, full});
    docs.push_back("{\"a\":" + t + ",\"bee\":" + t + ",\"a_rather_long_column_name\":" + t +
                   ",\"d\":" + t + "}");
    docs.insert(docs.end(), {full, full, full});
    docs.push_back("{\"a\":5,\"bee\":" + t + ",\"d\":6}");  // fewer keys, then the token
    docs.push_back(R"({"d":7})");  // nothing left of a document that failed half way
    docs.insert(docs.end(), {full, full, full});
    // Broken in the layout's last value, where simdjson's first stage stops at once.
    docs.push_back(R"({"a":5,"bee":6,"a_rather_long_column_name":7,"d":"unclosed)");
    docs.push_back(R"({"d":7})");
    docs.insert(docs.end(),
                {full, full, full, "{}", full, full, full, R"({"a":8,"bee":9})"});  // shorter
  }
  ExpectSameAsFresh(names, docs);
}

// Random documents over a few layouts, with keys dropped, added, repeated and moved, values of
// every kind, stray spaces and broken endings: the layout paths must never change an answer.
TEST(DocumentFlattenerTest, RandomDocumentsGetTheAnswersOfAFreshFlattener) {
  const std::vector<std::string> names = {"a",  "b2", "col_3", "d\"q", "a_rather_long_column_name",
                                          "f6", "g7", "h8"};
  const std::vector<std::string> keys = {
      "a",  "b2", "col_3", R"(d\"q)", "a_rather_long_column_name",
      "f6", "g7", "h8",    "unknown", R"(\u0061)"};
  const std::vector<std::string> values = {
      "1",    "-2.5", "0",           "01",    "1e3",     "12345678901234567", "\"text\"",
      "\"\"", "true", "false",       "null",  "[1,2]",   R"({"x":1})",        R"("a\"b")",
      "1.",   "-",    "\"\\u00e9\"", "0.125", "-0.0001", "123456789012345"};
  std::mt19937 rng(20261122);
  const auto pick = [&rng](size_t n) { return static_cast<size_t>(rng() % n); };
  std::vector<size_t> layout = {0, 1, 2, 3, 4, 5, 6, 7};
  std::vector<std::string> docs;
  for (int d = 0; d < 4000; ++d) {
    if (pick(50) == 0) std::shuffle(layout.begin(), layout.end(), rng);  // a new layout
    // Runs of documents repeat the layout, as real ones do; each change is rarer.
    std::vector<size_t> order = layout;
    if (pick(12) == 0) order.erase(order.begin() + static_cast<std::ptrdiff_t>(pick(order.size())));
    if (pick(16) == 0) {
      order.insert(order.begin() + static_cast<std::ptrdiff_t>(pick(order.size())),
                   pick(keys.size()));
    }
    if (pick(20) == 0) std::swap(order[pick(order.size())], order[pick(order.size())]);
    if (pick(12) == 0) order.resize(pick(order.size() + 1));
    std::string doc = "{";
    for (size_t i = 0; i < order.size(); ++i) {
      if (i != 0) doc += pick(30) == 0 ? " ," : ",";
      doc += "\"" + keys[order[i]] + "\"" + (pick(40) == 0 ? " : " : ":");
      doc += pick(8) == 0 ? values[pick(values.size())]
                          : std::to_string(pick(100000)) + "." + std::to_string(pick(1000));
    }
    doc += "}";
    if (pick(40) == 0) doc.resize(pick(doc.size()));  // broken
    docs.push_back(doc);
  }
  ExpectSameAsFresh(names, docs);
}

TEST(DocumentFlattenerTest, NoTargetsParsesNothing) {
  Harness h({});
  EXPECT_TRUE(h.Flatten("{ not even json").ok());
}

}  // namespace
}  // namespace exportd
