// Objects in memory for the tests of object writers and readers: a writer that records what
// reaches it (and fails when told to), and a reader over a string.
#ifndef EXPORTD_TESTS_FAKES_MEMORY_OBJECT_H_
#define EXPORTD_TESTS_FAKES_MEMORY_OBJECT_H_

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/object_store.h"
#include "core/status.h"

namespace exportd::fakes {

// What reached a RecordingWriter, and the faults it injects. Shared with the test, so that it
// can be read after the writer was moved into a decorator and destroyed.
struct RecordedObject {
  std::string data;                     // every byte written, in order
  std::vector<const char*> write_ptrs;  // the data pointer of each Write()
  int writes = 0;                       // Write() calls, failed ones included
  int commits = 0;                      // Commit() calls, failed ones included
  bool published = false;               // a Commit() succeeded
  bool destroyed = false;
  int fail_write = 0;        // the Nth Write() (1-based) fails with kUnavailable; 0 = none
  bool fail_commit = false;  // Commit() fails with kUnavailable
  std::string sha256;        // what a successful Commit() reports
};

// The bottom of a writer pipeline in tests: records, publishes on Commit() (sets `published`),
// reports {bytes written, RecordedObject::sha256}.
class RecordingWriter final : public ObjectWriter {
 public:
  explicit RecordingWriter(std::shared_ptr<RecordedObject> object) : object_(std::move(object)) {}
  ~RecordingWriter() override { object_->destroyed = true; }

  Status Write(std::string_view data) override {
    RecordedObject& o = *object_;
    if (++o.writes == o.fail_write) return Unavailable("injected write failure");
    o.data.append(data);
    o.write_ptrs.push_back(data.data());
    return Status::Ok();
  }

  Result<ObjectInfo> Commit() override {
    RecordedObject& o = *object_;
    ++o.commits;
    if (o.fail_commit) return Unavailable("injected commit failure");
    o.published = true;
    return ObjectInfo{.bytes = static_cast<int64_t>(o.data.size()), .sha256 = o.sha256};
  }

 private:
  const std::shared_ptr<RecordedObject> object_;
};

// A RecordingWriter over a fresh RecordedObject, returned with it.
inline std::pair<std::unique_ptr<ObjectWriter>, std::shared_ptr<RecordedObject>> NewRecording() {
  auto object = std::make_shared<RecordedObject>();
  return {std::make_unique<RecordingWriter>(object), object};
}

// Stored bytes as an ObjectReader.
class StringReader final : public ObjectReader {
 public:
  explicit StringReader(std::string data) : data_(std::move(data)) {}
  int64_t size() const override { return static_cast<int64_t>(data_.size()); }
  Result<size_t> ReadAt(int64_t offset, char* buf, size_t len) override {
    if (offset < 0) return InvalidArgument("negative offset");
    if (static_cast<size_t>(offset) >= data_.size()) return size_t{0};
    const size_t n = std::min(len, data_.size() - static_cast<size_t>(offset));
    std::memcpy(buf, data_.data() + offset, n);
    return n;
  }

 private:
  std::string data_;
};

}  // namespace exportd::fakes

#endif  // EXPORTD_TESTS_FAKES_MEMORY_OBJECT_H_
