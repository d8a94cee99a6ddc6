// The fault-injection wrappers: which calls fail, with which codes, that nothing half-written
// becomes visible, that a seed reproduces a run, and that the configuration section parses.
#include "storage/faults/fault_injection.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "server/config.h"
#include "storage/base/posix_error.h"
#include "storage/fs/local_object_store.h"
#include "storage/fs/url_signer.h"

namespace exportd {
namespace {

namespace fs = std::filesystem;

// Rows 1..n with one number cell (the key).
class CountingSource final : public Source {
 public:
  explicit CountingSource(int64_t rows) : rows_(rows) {}

  Result<int64_t> Count(const SourceQuery&) override { return rows_; }
  Result<std::unique_ptr<RecordReader>> Read(const SourceQuery&) override {
    return std::unique_ptr<RecordReader>(std::make_unique<Reader>(rows_));
  }

 private:
  class Reader final : public RecordReader {
   public:
    explicit Reader(int64_t rows) : rows_(rows) {}
    bool Next() override {
      if (current_ >= rows_) return false;
      text_ = std::to_string(++current_);
      cell_ = Cell{CellKind::kNumber, text_};
      return true;
    }
    std::span<const Cell> row() const override { return {&cell_, 1}; }
    FilterValue key() const override { return current_; }
    Status status() const override { return Status::Ok(); }

   private:
    const int64_t rows_;
    int64_t current_ = 0;
    std::string text_;
    Cell cell_;
  };

  const int64_t rows_;
};

SourceQuery AnyQuery() {
  SourceQuery q;
  q.fields = {"id"};
  return q;
}

// Reads everything; returns the keys seen and the final status.
std::pair<std::vector<int64_t>, Status> Drain(Source& source) {
  std::vector<int64_t> keys;
  auto reader = source.Read(AnyQuery());
  if (!reader.ok()) return {keys, reader.status()};
  while ((*reader)->Next()) keys.push_back(std::get<int64_t>((*reader)->key()));
  return {keys, (*reader)->status()};
}

std::vector<int64_t> Range(int64_t from, int64_t to) {
  std::vector<int64_t> v;
  for (int64_t i = from; i <= to; ++i) v.push_back(i);
  return v;
}

FaultInjectingSource MakeSource(SourceFaultOptions options, int64_t rows = 20, uint64_t seed = 7) {
  return FaultInjectingSource(std::make_shared<CountingSource>(rows), options, seed, "items");
}

TEST(FaultInjectingSourceTest, OffPassesEverythingThrough) {
  auto source = MakeSource({});
  for (int i = 0; i < 50; ++i) {
    auto count = source.Count(AnyQuery());
    ASSERT_TRUE(count.ok());
    EXPECT_EQ(*count, 20);
    auto [keys, status] = Drain(source);
    EXPECT_TRUE(status.ok());
    EXPECT_EQ(keys, Range(1, 20));
  }
  EXPECT_EQ(source.faults_injected(), 0);
}

TEST(FaultInjectingSourceTest, FailsTheNthReadWithATransientBusyError) {
  auto source = MakeSource({.fail_nth_read = 2});
  EXPECT_TRUE(Drain(source).second.ok());
  auto failed = source.Read(AnyQuery());
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(IsTransient(failed.status().code()));
  EXPECT_NE(failed.status().message().find("busy"), std::string::npos)
      << failed.status().ToString();
  EXPECT_NE(failed.status().message().find("Read #2"), std::string::npos);
  EXPECT_NE(failed.status().message().find("items"), std::string::npos);
  auto [keys, status] = Drain(source);
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(keys, Range(1, 20));
  EXPECT_EQ(source.faults_injected(), 1);
}

TEST(FaultInjectingSourceTest, FailsTheNthCountPermanently) {
  auto source = MakeSource({.mode = FaultMode::kPermanent, .fail_nth_count = 1});
  auto count = source.Count(AnyQuery());
  ASSERT_FALSE(count.ok());
  EXPECT_EQ(count.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(IsTransient(count.status().code()));
  EXPECT_NE(count.status().message().find("permanently"), std::string::npos);
  EXPECT_TRUE(source.Count(AnyQuery()).ok());
  EXPECT_TRUE(Drain(source).second.ok()) << "Count and Read are counted separately";
}

TEST(FaultInjectingSourceTest, ReaderFailsMidStreamAfterKRows) {
  auto source = MakeSource({.fail_after_rows = 7});
  for (int round = 0; round < 3; ++round) {
    auto [keys, status] = Drain(source);
    EXPECT_EQ(keys, Range(1, 7)) << "the rows before the fault are delivered intact";
    EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
    EXPECT_NE(status.message().find("row 8"), std::string::npos) << status.ToString();
  }
  EXPECT_EQ(source.faults_injected(), 3);
}

TEST(FaultInjectingSourceTest, ReaderStaysFailedAfterTheFault) {
  auto source = MakeSource({.mode = FaultMode::kPermanent, .fail_after_rows = 2});
  auto reader = source.Read(AnyQuery());
  ASSERT_TRUE(reader.ok());
  EXPECT_TRUE((*reader)->Next());
  EXPECT_TRUE((*reader)->Next());
  EXPECT_FALSE((*reader)->Next());
  EXPECT_FALSE((*reader)->Next());
  EXPECT_EQ((*reader)->status().code(), StatusCode::kFailedPrecondition);
}

TEST(FaultInjectingSourceTest, MaxFaultsStopsInjecting) {
  auto source = MakeSource({.fail_after_rows = 5, .max_faults = 1});
  EXPECT_EQ(Drain(source).first, Range(1, 5));
  auto [keys, status] = Drain(source);
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(keys, Range(1, 20));
  EXPECT_EQ(source.faults_injected(), 1);
}

TEST(FaultInjectingSourceTest, FailRateIsAFractionOfCallsAndReadersFailMidStream) {
  auto source = MakeSource({.fail_rate = 0.2, .fail_window_rows = 10}, /*rows=*/20);
  int count_failures = 0, read_failures = 0, mid_stream = 0, complete = 0;
  constexpr int kCalls = 2000;
  for (int i = 0; i < kCalls; ++i) {
    if (!source.Count(AnyQuery()).ok()) ++count_failures;
    auto reader = source.Read(AnyQuery());
    if (!reader.ok()) {
      ASSERT_EQ(reader.status().code(), StatusCode::kUnavailable);
      ++read_failures;
      continue;
    }
    int64_t expect = 0;
    while ((*reader)->Next()) ASSERT_EQ(std::get<int64_t>((*reader)->key()), ++expect);
    if ((*reader)->status().ok()) {
      ASSERT_EQ(expect, 20);
      ++complete;
    } else {
      ASSERT_LT(expect, 10) << "fails within fail_window_rows";
      ++mid_stream;
    }
  }
  // 20% +- a generous margin (the binomial's sd is ~18 for 2000 calls).
  EXPECT_GT(count_failures, 300);
  EXPECT_LT(count_failures, 500);
  EXPECT_GT(read_failures, 300);
  EXPECT_LT(read_failures, 500);
  EXPECT_GT(mid_stream, 200);
  EXPECT_LT(mid_stream, 450);
  EXPECT_EQ(source.faults_injected(), count_failures + read_failures + mid_stream);
  EXPECT_GT(complete, 0);
}

// Which of `n` Count() calls fail, as a bit string.
std::string FailurePattern(FaultInjectingSource& source, int n) {
  std::string pattern;
  for (int i = 0; i < n; ++i) pattern += source.Count(AnyQuery()).ok() ? '.' : 'X';
  return pattern;
}

TEST(FaultInjectingSourceTest, TheSeedReproducesTheFaults) {
  auto a = MakeSource({.fail_rate = 0.3}, 20, /*seed=*/42);
  auto b = MakeSource({.fail_rate = 0.3}, 20, /*seed=*/42);
  auto c = MakeSource({.fail_rate = 0.3}, 20, /*seed=*/43);
  const std::string pa = FailurePattern(a, 200);
  EXPECT_EQ(pa, FailurePattern(b, 200));
  EXPECT_NE(pa, FailurePattern(c, 200));
}

TEST(FaultInjectingSourceTest, ThreadSafeUnderConcurrentCalls) {
  auto source = MakeSource({.fail_rate = 0.25, .fail_window_rows = 30}, /*rows=*/50);
  std::atomic<int64_t> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 300; ++i) {
        if (!source.Count(AnyQuery()).ok()) ++failures;
        if (!Drain(source).second.ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(source.faults_injected(), failures.load());
  EXPECT_GT(failures.load(), 0);
}

// ---- FaultInjectingObjectStore ----------------------------------------------------------------

std::vector<std::string> Entries(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

class FaultInjectingObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "fault_store_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    base_ = tmpl;
    local_ = std::make_unique<LocalObjectStore>(
        (base_ / "exports").string(), std::make_shared<UrlSigner>("secret"), "http://127.0.0.1:1");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(base_, ec);
  }

  FaultInjectingObjectStore Wrap(ObjectStoreFaultOptions options, uint64_t seed = 3) {
    return FaultInjectingObjectStore(*local_, options, seed);
  }

  static std::unique_ptr<ObjectWriter> MustCreate(ObjectStore& store, std::string_view name) {
    auto writer = store.Create("task1", name, ObjectOptions{.content_type = "text/csv"});
    EXPECT_TRUE(writer.ok()) << writer.status().ToString();
    return writer.ok() ? std::move(writer).value() : nullptr;
  }

  std::vector<std::string> Files() const { return Entries(base_ / "exports" / "task1"); }

  fs::path base_;
  std::unique_ptr<LocalObjectStore> local_;
};

TEST_F(FaultInjectingObjectStoreTest, OffPassesThrough) {
  auto store = Wrap({});
  auto writer = MustCreate(store, "a.csv");
  ASSERT_TRUE(writer->Write("x,y\r\n").ok());
  auto info = writer->Commit();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->bytes, 5);
  EXPECT_EQ(Files(), std::vector<std::string>{"a.csv"});
  auto reader = store.Open("task1", "a.csv");
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->size(), 5);
  EXPECT_TRUE(store.DownloadUrl("task1", "a.csv", TimePoint{}).ok());
  EXPECT_TRUE(store.DeleteAll("task1").ok());
  EXPECT_TRUE(Files().empty());
}

TEST_F(FaultInjectingObjectStoreTest, TheNthWriteFailsAndTheErrorSticks) {
  auto store = Wrap({.fail_nth_write = 2});
  {
    auto writer = MustCreate(store, "a.csv");
    EXPECT_TRUE(writer->Write("one\n").ok());
    Status failed = writer->Write("two\n");
    EXPECT_EQ(failed.code(), StatusCode::kUnavailable) << failed.ToString();
    EXPECT_NE(failed.message().find("Write #2"), std::string::npos) << failed.ToString();
    EXPECT_FALSE(writer->Write("three\n").ok());
    EXPECT_FALSE(writer->Commit().ok()) << "a failed writer never publishes";
    EXPECT_EQ(store.Open("task1", "a.csv").status().code(), StatusCode::kNotFound);
  }
  EXPECT_TRUE(Files().empty()) << "the abandoned temporary file is removed";
  auto writer = MustCreate(store, "a.csv");
  EXPECT_TRUE(writer->Write("again\n").ok());
  EXPECT_TRUE(writer->Commit().ok());
  EXPECT_EQ(Files(), std::vector<std::string>{"a.csv"});
  EXPECT_EQ(store.faults_injected(), 1);
}

TEST_F(FaultInjectingObjectStoreTest, TheNthCommitFailsLikeAnFsyncAndPublishesNothing) {
  auto store = Wrap({.fail_nth_commit = 1});
  {
    auto writer = MustCreate(store, "a.csv");
    ASSERT_TRUE(writer->Write("data\n").ok());
    auto info = writer->Commit();
    ASSERT_FALSE(info.ok());
    EXPECT_EQ(info.status().code(), StatusCode::kUnavailable);
    EXPECT_NE(info.status().message().find("fsync"), std::string::npos) << info.status().ToString();
    EXPECT_EQ(info.status().message(),
              PosixError("fsync task1/a.csv (injected fault at Commit #1)", EIO).message());
  }
  EXPECT_TRUE(Files().empty());
  auto writer = MustCreate(store, "a.csv");
  ASSERT_TRUE(writer->Write("data\n").ok());
  EXPECT_TRUE(writer->Commit().ok());
}

TEST_F(FaultInjectingObjectStoreTest, EnospcIsMappedAsTheLocalStoreMapsIt) {
  auto store = Wrap({.enospc = true, .enospc_after_bytes = 10});
  {
    auto first = MustCreate(store, "a.csv");
    ASSERT_TRUE(first->Write("12345678").ok());
    ASSERT_TRUE(first->Commit().ok()) << "8 bytes fit";
    auto second = MustCreate(store, "b.csv");
    Status full = second->Write("abc");
    EXPECT_EQ(full.code(), StatusCode::kUnavailable);
    EXPECT_NE(full.message().find("No space left on device"), std::string::npos) << full.ToString();
    EXPECT_EQ(full.code(), PosixError("write", ENOSPC).code());
    EXPECT_FALSE(second->Commit().ok());
  }
  EXPECT_EQ(Files(), std::vector<std::string>{"a.csv"}) << "nothing partial is visible";
  // The disk stays full: even an empty object cannot be committed.
  auto third = MustCreate(store, "c.csv");
  EXPECT_TRUE(third->Write("12").ok()) << "10 bytes in all still fit";
  auto info = third->Commit();
  ASSERT_FALSE(info.ok());
  EXPECT_NE(info.status().message().find("No space left on device"), std::string::npos);
}

// Accepts every object and keeps nothing: for counting without a disk's fsyncs.
class NullStore final : public ObjectStore {
 public:
  Result<std::unique_ptr<ObjectWriter>> Create(std::string_view, std::string_view,
                                               const ObjectOptions&) override {
    return std::unique_ptr<ObjectWriter>(std::make_unique<Writer>());
  }
  Result<std::unique_ptr<ObjectReader>> Open(std::string_view, std::string_view) override {
    return NotFound("null store");
  }
  Status DeleteAll(std::string_view) override { return Status::Ok(); }
  Result<std::string> DownloadUrl(std::string_view, std::string_view, TimePoint) override {
    return std::string("null:");
  }

 private:
  class Writer final : public ObjectWriter {
   public:
    Status Write(std::string_view data) override {
      bytes_ += static_cast<int64_t>(data.size());
      return Status::Ok();
    }
    Result<ObjectInfo> Commit() override { return ObjectInfo{.bytes = bytes_, .sha256 = ""}; }

   private:
    int64_t bytes_ = 0;
  };
};

TEST(FaultInjectingObjectStoreRateTest, RatesFailAFractionAndTheSeedReproducesThem) {
  NullStore null;
  auto run = [&](uint64_t seed) {
    FaultInjectingObjectStore store(null, {.write_fail_rate = 0.2, .commit_fail_rate = 0.2}, seed);
    std::string pattern;
    for (int i = 0; i < 400; ++i) {
      auto writer = store.Create("task1", "f.csv", {});
      EXPECT_TRUE(writer.ok());
      if (!(*writer)->Write("x").ok()) {
        pattern += 'W';
        continue;
      }
      pattern += (*writer)->Commit().ok() ? '.' : 'C';
    }
    return pattern;
  };
  const std::string a = run(11);
  EXPECT_EQ(a, run(11));
  EXPECT_NE(a, run(12));
  const auto w = std::count(a.begin(), a.end(), 'W');
  const auto c = std::count(a.begin(), a.end(), 'C');
  EXPECT_GT(w, 45);  // 80 expected
  EXPECT_LT(w, 120);
  EXPECT_GT(c, 35);  // 64 expected
  EXPECT_LT(c, 100);
}

TEST_F(FaultInjectingObjectStoreTest, MaxFaultsStopsInjecting) {
  auto store = Wrap({.enospc = true, .max_faults = 2});
  for (int i = 0; i < 2; ++i) {
    auto writer = MustCreate(store, "a.csv");
    EXPECT_FALSE(writer->Write("x").ok());
  }
  auto writer = MustCreate(store, "a.csv");
  EXPECT_TRUE(writer->Write("x").ok());
  EXPECT_TRUE(writer->Commit().ok());
  EXPECT_EQ(store.faults_injected(), 2);
}

// ---- Options and configuration ----------------------------------------------------------------

TEST(FaultInjectionOptionsTest, ValidateNamesTheBadKey) {
  FaultInjectionOptions options;
  EXPECT_TRUE(options.Validate().ok());
  options.source.fail_rate = 1.5;
  Status s = options.Validate();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("fault_injection.source.fail_rate"), std::string::npos);
  options.source.fail_rate = 0;
  options.object_store.fail_nth_write = -1;
  EXPECT_NE(options.Validate().message().find("object_store.fail_nth_write"), std::string::npos);
}

TEST(FaultInjectionConfigTest, AbsentIsOff) {
  auto config = ParseConfig("{}", "/tmp");
  ASSERT_TRUE(config.ok());
  EXPECT_FALSE(config->fault_injection.has_value());
}

TEST(FaultInjectionConfigTest, ParsesEveryKey) {
  auto config = ParseConfig(R"({"fault_injection": {"seed": 99,
      "source": {"fail_rate": 0.2, "mode": "permanent", "fail_nth_read": 3, "fail_nth_count": 4,
                 "fail_after_rows": 5, "fail_window_rows": 6, "max_faults": 7},
      "object_store": {"write_fail_rate": 0.1, "commit_fail_rate": 0.3, "fail_nth_write": 8,
                       "fail_nth_commit": 9, "enospc": true, "enospc_after_bytes": 10,
                       "max_faults": 11}}})",
                            "/tmp");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_TRUE(config->ignored_keys.empty());
  ASSERT_TRUE(config->fault_injection.has_value());
  const FaultInjectionOptions& f = *config->fault_injection;
  EXPECT_EQ(f.seed, 99u);
  EXPECT_EQ(f.source.fail_rate, 0.2);
  EXPECT_EQ(f.source.mode, FaultMode::kPermanent);
  EXPECT_EQ(f.source.fail_nth_read, 3);
  EXPECT_EQ(f.source.fail_nth_count, 4);
  EXPECT_EQ(f.source.fail_after_rows, 5);
  EXPECT_EQ(f.source.fail_window_rows, 6);
  EXPECT_EQ(f.source.max_faults, 7);
  EXPECT_EQ(f.object_store.write_fail_rate, 0.1);
  EXPECT_EQ(f.object_store.commit_fail_rate, 0.3);
  EXPECT_EQ(f.object_store.fail_nth_write, 8);
  EXPECT_EQ(f.object_store.fail_nth_commit, 9);
  EXPECT_TRUE(f.object_store.enospc);
  EXPECT_EQ(f.object_store.enospc_after_bytes, 10);
  EXPECT_EQ(f.object_store.max_faults, 11);
  EXPECT_NE(f.Describe().find("seed=99"), std::string::npos);
}

TEST(FaultInjectionConfigTest, RejectsBadValues) {
  for (const char* text :
       {R"({"fault_injection": 3})", R"({"fault_injection": {"source": {"mode": "sometimes"}}})",
        R"({"fault_injection": {"source": {"fail_rate": -0.1}}})",
        R"({"fault_injection": {"object_store": {"commit_fail_rate": 2}}})",
        R"({"fault_injection": {"object_store": {"enospc": "yes"}}})"}) {
    auto config = ParseConfig(text, "/tmp");
    ASSERT_FALSE(config.ok()) << text;
    EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_NE(config.status().message().find("fault_injection"), std::string::npos)
        << config.status().ToString();
  }
}

}  // namespace
}  // namespace exportd
