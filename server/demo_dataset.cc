#include "server/demo_dataset.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string_view>
#include <utility>

#include "core/time_format.h"
#include "storage/base/posix_error.h"
#include "storage/sqlite/sqlite_db.h"

namespace exportd {
namespace {

// splitmix64: tiny, fast, and the same sequence on every platform (unlike std distributions).
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [lo, hi]; the modulo bias is irrelevant for demo data.
  int64_t Uniform(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Next() % static_cast<uint64_t>(hi - lo + 1));
  }
  bool Percent(int p) { return Uniform(0, 99) < p; }

 private:
  uint64_t state_;
};

constexpr uint64_t kSeed = 0x5EED'DA7A'2024'0001ULL;

// One measurement: value = Uniform(lo, hi) * 10^Uniform(exp_lo, exp_hi), printed in plain
// decimal; `scientific` prints d.dde-N instead.
struct Measure {
  std::string name;
  int64_t lo = 0;
  int64_t hi = 0;
  int exp_lo = 0;
  int exp_hi = 0;
  bool scientific = false;
};

std::vector<Measure> BuildMeasures() {
  std::vector<Measure> m;
  // Major oxides, wt%: {name, min, max} in hundredths.
  const std::array<std::tuple<const char*, int64_t, int64_t>, 19> oxides = {{
      {"SiO2", 3500, 7800}, {"TiO2", 5, 350}, {"Al2O3", 1000, 2000}, {"Fe2O3", 50, 1200},
      {"FeO", 50, 1000},    {"MnO", 1, 30},   {"MgO", 10, 2500},     {"CaO", 20, 1500},
      {"Na2O", 50, 500},    {"K2O", 10, 600}, {"P2O5", 1, 100},      {"Cr2O3", 1, 50},
      {"NiO", 1, 30},       {"BaO", 1, 20},   {"SO3", 1, 100},       {"LOI", 10, 800},
      {"H2O+", 10, 400},    {"H2O-", 1, 100}, {"CO2", 1, 500},
  }};
  for (const auto& [name, lo, hi] : oxides) m.push_back({name, lo, hi, -2, -2});
  for (const auto& [name, lo, hi] : oxides)
    m.push_back({std::string(name) + "_err", 1, 50, -2, -2});
  const std::array<const char*, 50> icpms = {
      "Li", "Be", "B",  "Sc", "V",  "Cr", "Co", "Ni", "Cu", "Zn", "Ga", "Ge", "As",
      "Se", "Rb", "Sr", "Y",  "Zr", "Nb", "Mo", "Ag", "Cd", "In", "Sn", "Sb", "Te",
      "Cs", "Ba", "La", "Ce", "Pr", "Nd", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er",
      "Tm", "Yb", "Lu", "Hf", "Ta", "W",  "Tl", "Pb", "Bi", "Th", "U"};
  // ppm over six decades, three significant digits.
  for (const char* el : icpms) m.push_back({std::string(el) + "_ppm", 100, 999, -4, 1});
  for (const char* el : icpms) m.push_back({std::string(el) + "_ppm_2sd", 10, 99, -3, 0});
  for (const char* el :
       {"V", "Cr", "Ni", "Cu", "Zn", "Rb", "Sr", "Y", "Zr", "Nb", "Ba", "Pb", "Th"}) {
    m.push_back({std::string(el) + "_xrf_ppm", 10, 9999, -1, 0});
  }
  for (const char* el :
       {"La", "Ce", "Pr", "Nd", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu"}) {
    m.push_back({std::string(el) + "_N", 100, 999, -1, 1});
  }
  for (const char* el : {"Au", "Pt", "Pd", "Rh", "Ru", "Ir", "Os", "Re", "Hg"}) {
    m.push_back({std::string(el) + "_ppb", 100, 999, -3, 0});
  }
  const std::array<std::tuple<const char*, int64_t, int64_t, int>, 7> ratios = {{
      {"87Sr/86Sr", 702000, 720000, -6},
      {"143Nd/144Nd", 511800, 513200, -6},
      {"206Pb/204Pb", 17000, 21000, -3},
      {"207Pb/204Pb", 15400, 15800, -3},
      {"208Pb/204Pb", 37000, 41000, -3},
      {"176Hf/177Hf", 282000, 283400, -6},
      {"187Os/188Os", 1200, 15000, -4},
  }};
  for (const auto& [name, lo, hi, e] : ratios) m.push_back({name, lo, hi, e, e});
  for (const auto& [name, lo, hi, e] : ratios) {
    m.push_back({std::string(name) + "_2se", 1, 99, -6, -6});
  }
  m.push_back({"δ18O_permil", -100, 150, -1, -1});
  m.push_back({"δ13C_permil", -300, 50, -1, -1});
  m.push_back({"δD_permil", -1500, -200, -1, -1});
  m.push_back({"δ34S_permil", -200, 250, -1, -1});
  m.push_back({"εNd", -200, 120, -1, -1});
  m.push_back({"εHf", -200, 180, -1, -1});
  m.push_back({"density_g_cm3", 2200, 3400, -3, -3});
  m.push_back({"porosity_pct", 1, 350, -1, -1});
  m.push_back({"magnetic_susceptibility_SI", 100, 999, -5, -1, true});
  return m;
}

const std::vector<Measure>& Measures() {
  static const std::vector<Measure> measures = BuildMeasures();
  return measures;
}

// v * 10^e in plain decimal: (1234, -2) -> "12.34", (5, -3) -> "0.005", (-15, -1) -> "-1.5".
void AppendScaled(int64_t v, int e, std::string& out) {
  if (v < 0) out += '-';
  const std::string digits = std::to_string(v < 0 ? -v : v);
  if (e >= 0) {
    out += digits;
    if (v != 0) out.append(static_cast<size_t>(e), '0');
    return;
  }
  const size_t frac = static_cast<size_t>(-e);
  if (digits.size() <= frac) {
    out += "0.";
    out.append(frac - digits.size(), '0');
    out += digits;
    return;
  }
  const size_t whole = digits.size() - frac;
  out.append(digits.data(), whole);
  out += '.';
  out.append(digits.data() + whole, frac);
}

// m in [100, 999] and e: "1.23e-4" for 123, -6.
void AppendScientific(int64_t m, int e, std::string& out) {
  const std::string digits = std::to_string(m);
  out += digits[0];
  out += '.';
  out.append(digits.data() + 1, digits.size() - 1);
  out += 'e';
  out += std::to_string(e + 2);
}

void AppendJsonString(std::string_view s, std::string& out) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;  // the names hold no control characters
  }
  out += '"';
}

constexpr std::array<const char*, 8> kStudies = {
    "alpine-transect", "basalt-provinces-2019", "cratons-deep",    "fjord-sediments",
    "island-arcs",     "karst-survey",          "mid-ocean-ridge", "tundra-permafrost"};

constexpr std::array<const char*, 24> kSites = {
    "Kangerlussuaq, Greenland",
    "O'Brien's Quarry",
    "Mount \"Big\" Ridge",
    "Čertovo jezero",
    "São Tomé",
    "Þingvellir",
    "Łódź Basin; core 7",
    "東京湾",
    "Ørsta fjord",
    "Reykjanes",
    "Hawaiʻi — Kīlauea",
    "Site A,B,C",
    "Tab\tSeparated Hill",
    "Two-line\nsite",
    "Back\\slash Flats",
    "Vesuvius",
    "Atacama",
    "Skaergaard",
    "Bushveld",
    "Troodos",
    "Oman Ophiolite",
    "Deccan Traps",
    "Siberian Traps",
    "Mid-Atlantic Ridge 23°N",
};

constexpr std::array<const char*, 12> kRockTypes = {
    "basalt",     "andesite",  "dacite",    "rhyolite", "granite", "gabbro",
    "peridotite", "limestone", "sandstone", "shale",    "gneiss",  "schist"};

constexpr int64_t kFirstSecond = 1546300800;  // 2019-01-01T00:00:00Z
constexpr int64_t kLastSecond = 1735689599;   // 2024-12-31T23:59:59Z

void BuildDocument(Rng& rng, std::string& doc, std::vector<size_t>& picked) {
  const std::vector<Measure>& measures = Measures();
  const auto count = static_cast<size_t>(rng.Uniform(5, 15));
  picked.clear();
  while (picked.size() < count) {
    const auto i = static_cast<size_t>(rng.Uniform(0, static_cast<int64_t>(measures.size()) - 1));
    if (std::find(picked.begin(), picked.end(), i) == picked.end()) picked.push_back(i);
  }
  std::sort(picked.begin(), picked.end());
  doc.clear();
  doc += '{';
  for (size_t n = 0; n < picked.size(); ++n) {
    const Measure& m = measures[picked[n]];
    if (n > 0) doc += ", ";
    AppendJsonString(m.name, doc);
    doc += ": ";
    const int64_t v = rng.Uniform(m.lo, m.hi);
    const int e = static_cast<int>(rng.Uniform(m.exp_lo, m.exp_hi));
    if (m.scientific) {
      AppendScientific(v, e, doc);
    } else {
      AppendScaled(v, e, doc);
    }
  }
  doc += "}";
}

Status WriteDemo(const std::string& path, int64_t rows) {
  ASSIGN_OR_RETURN(Database db, Database::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  // The file is private until renamed: no journal, no syncs (the file is synced once below).
  RETURN_IF_ERROR(db.Exec("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"));
  RETURN_IF_ERROR(
      db.Exec("CREATE TABLE samples ("
              " id INTEGER PRIMARY KEY,"
              " study TEXT NOT NULL,"
              " collected_at TEXT NOT NULL,"
              " site TEXT,"
              " rock_type TEXT,"
              " depth_m REAL,"
              " sample_mass_g INTEGER,"
              " analytes TEXT)"));
  RETURN_IF_ERROR(db.Exec("BEGIN"));
  {
    ASSIGN_OR_RETURN(Statement insert,
                     db.Prepare("INSERT INTO samples VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
    Rng rng(kSeed);
    std::string doc;
    std::vector<size_t> picked;
    for (int64_t id = 1; id <= rows; ++id) {
      insert.Bind(1, id);
      insert.Bind(2, kStudies[static_cast<size_t>(rng.Uniform(0, kStudies.size() - 1))]);
      const int64_t second = rng.Uniform(kFirstSecond, kLastSecond);
      const std::string collected_at =
          FormatRfc3339Seconds(TimePoint(std::chrono::seconds(second)));
      insert.Bind(3, std::string_view(collected_at));
      insert.Bind(4, kSites[static_cast<size_t>(rng.Uniform(0, kSites.size() - 1))]);
      insert.Bind(5, kRockTypes[static_cast<size_t>(rng.Uniform(0, kRockTypes.size() - 1))]);
      insert.Bind(6, static_cast<double>(rng.Uniform(0, 250000)) / 100.0);
      if (rng.Percent(5)) {
        insert.BindNull(7);
      } else {
        insert.Bind(7, rng.Uniform(5, 5000));
      }
      const int64_t doc_kind = rng.Uniform(0, 999);
      if (doc_kind < 5) {
        insert.BindNull(8);
      } else if (doc_kind < 15) {
        insert.Bind(8, "{}");
      } else {
        BuildDocument(rng, doc, picked);
        insert.Bind(8, std::string_view(doc));
      }
      RETURN_IF_ERROR(insert.Run());
    }
  }
  RETURN_IF_ERROR(
      db.Exec("CREATE INDEX samples_collected_at ON samples (collected_at);"
              "CREATE INDEX samples_study ON samples (study);"
              "COMMIT"));
  return Status::Ok();
}

Status SyncFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return PosixError("open " + path, errno);
  if (::fsync(fd.get()) != 0) return PosixError("fsync " + path, errno);
  return fd.Close("close " + path);
}

}  // namespace

const std::vector<std::string>& DemoMeasurementNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const Measure& m : Measures()) out.push_back(m.name);
    return out;
  }();
  return names;
}

Status CreateDemoDataset(const std::string& path, int64_t rows) {
  if (rows < 0) return InvalidArgument("demo dataset rows must be >= 0");
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  std::error_code ignored;
  std::filesystem::remove(tmp, ignored);
  Status s = WriteDemo(tmp, rows);
  if (s.ok()) s = SyncFile(tmp);
  if (s.ok() && std::rename(tmp.c_str(), path.c_str()) != 0) {
    s = PosixError("rename " + tmp + " to " + path, errno);
  }
  if (!s.ok()) {
    std::filesystem::remove(tmp, ignored);
    return s.WithContext("create demo dataset " + path);
  }
  const std::string dir = std::filesystem::path(path).parent_path().string();
  return SyncDirectory(dir.empty() ? "." : dir);
}

DatasetSpec DemoDatasetSpec(const std::string& path) {
  DatasetSpec spec;
  spec.name = "samples";
  spec.description =
      "Demo geochemistry samples: one row per sample, with its measurements (analytes) "
      "flattened into fields of their own.";
  spec.source.type = "sqlite";
  spec.source.path = path;
  spec.source.table = "samples";
  spec.key = "id";
  spec.time_field = "collected_at";
  spec.partition_field = "study";
  spec.document = DocumentSpec{"analytes", DemoMeasurementNames()};
  return spec;
}

}  // namespace exportd
