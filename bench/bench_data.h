// Deterministic building blocks shared by the data generator and the micro-benchmarks.
#ifndef EXPORTD_BENCH_BENCH_DATA_H_
#define EXPORTD_BENCH_BENCH_DATA_H_

#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace exportd_bench {

inline constexpr int kWideFields = 2897;

// splitmix64: small, fast, and the same everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [lo, hi].
  int64_t Uniform(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Next() % static_cast<uint64_t>(hi - lo + 1));
  }
  bool Percent(int p) { return Uniform(0, 99) < p; }

 private:
  uint64_t state_;
};

inline std::string FieldName(int i) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "f%04d", i);
  return buf;
}

// A decimal as a lab would report it: 1-5 significant digits, magnitude 1e-4 .. 1e4.
inline void AppendDecimal(Rng& rng, std::string& out) {
  const int digits = static_cast<int>(rng.Uniform(1, 5));
  int64_t mantissa = rng.Uniform(1, 9);
  for (int d = 1; d < digits; ++d) mantissa = mantissa * 10 + rng.Uniform(0, 9);
  // decimals after the point: 0..4 (so values range over 1e-4 .. 99999)
  const int scale = static_cast<int>(rng.Uniform(0, 4));
  int64_t pow10 = 1;
  for (int d = 0; d < scale; ++d) pow10 *= 10;
  char buf[48];
  int n = scale == 0 ? std::snprintf(buf, sizeof buf, "%" PRId64, mantissa)
                     : std::snprintf(buf, sizeof buf, "%" PRId64 ".%0*" PRId64, mantissa / pow10,
                                     scale, mantissa % pow10);
  if (rng.Percent(3)) out.push_back('-');
  out.append(buf, static_cast<size_t>(n));
}

// ~1% of the dense values: strings a CSV writer must quote (comma, or quote) - JSON-escaped here.
inline const char* const kStringValues[] = {
    "<0.05, n.d.", "below detection, see note",  "12.1 \\\"est\\\"", "n.a.",
    ">10000",      "trace, \\\"qualitative\\\"",
};

inline void AppendDenseDocument(Rng& rng, const std::vector<std::string>& names, std::string& doc) {
  doc.clear();
  doc.push_back('{');
  for (size_t f = 0; f < names.size(); ++f) {
    if (f != 0) doc.push_back(',');
    doc.push_back('"');
    doc.append(names[f]);
    doc.append("\":");
    if (rng.Uniform(0, 999) < 10) {
      doc.push_back('"');
      doc.append(kStringValues[rng.Uniform(0, 5)]);
      doc.push_back('"');
    } else {
      AppendDecimal(rng, doc);
    }
  }
  doc.push_back('}');
}

inline void AppendSparseDocument(Rng& rng, const std::vector<std::string>& names, std::string& doc,
                                 std::vector<int>& picked) {
  const int count = static_cast<int>(rng.Uniform(4, 12));
  picked.clear();
  while (static_cast<int>(picked.size()) < count) {
    const int f = static_cast<int>(rng.Uniform(0, kWideFields - 1));
    if (std::find(picked.begin(), picked.end(), f) == picked.end()) picked.push_back(f);
  }
  doc.clear();
  doc.push_back('{');
  for (size_t i = 0; i < picked.size(); ++i) {
    if (i != 0) doc.push_back(',');
    doc.push_back('"');
    doc.append(names[static_cast<size_t>(picked[i])]);
    doc.append("\":");
    AppendDecimal(rng, doc);
  }
  doc.push_back('}');
}

inline std::vector<std::string> WideFieldNames() {
  std::vector<std::string> names;
  for (int i = 0; i < kWideFields; ++i) names.push_back(FieldName(i));
  return names;
}

}  // namespace exportd_bench

#endif  // EXPORTD_BENCH_BENCH_DATA_H_
