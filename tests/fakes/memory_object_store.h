// An ObjectStore in memory, for tests of what reads and writes export files without a disk:
// committed objects in a map, each with the digest `digest` gives of its bytes. Objects are
// stored as written: ObjectOptions::gzip is not honoured (use requests without compression).
// Tests may read, replace and remove objects directly. Thread-safe.
#ifndef EXPORTD_TESTS_FAKES_MEMORY_OBJECT_STORE_H_
#define EXPORTD_TESTS_FAKES_MEMORY_OBJECT_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/object_store.h"
#include "core/status.h"
#include "tests/fakes/memory_object.h"

namespace exportd::fakes {

class MemoryObjectStore final : public ObjectStore {
 public:
  using DigestFn = std::function<std::string(std::string_view)>;

  // `digest` gives ObjectInfo::sha256 of each committed object.
  explicit MemoryObjectStore(DigestFn digest) : digest_(std::move(digest)) {}

  Result<std::unique_ptr<ObjectWriter>> Create(std::string_view task_id, std::string_view name,
                                               const ObjectOptions& options) override {
    RETURN_IF_ERROR(ValidateTaskId(task_id));
    RETURN_IF_ERROR(ValidateObjectName(name));
    return std::unique_ptr<ObjectWriter>(
        std::make_unique<Writer>(*this, Key(task_id, name), options.digest));
  }

  Result<std::unique_ptr<ObjectReader>> Open(std::string_view task_id,
                                             std::string_view name) override {
    std::optional<std::string> data = Get(task_id, name);
    if (!data) return NotFound("no object " + Key(task_id, name));
    return std::unique_ptr<ObjectReader>(std::make_unique<StringReader>(std::move(*data)));
  }

  Status DeleteAll(std::string_view task_id) override {
    std::lock_guard lock(mu_);
    const std::string prefix = std::string(task_id) + "/";
    for (auto it = objects_.lower_bound(prefix);
         it != objects_.end() && it->first.compare(0, prefix.size(), prefix) == 0;) {
      it = objects_.erase(it);
    }
    return Status::Ok();
  }

  // The page token is the last path of the page.
  Result<ObjectPage> List(std::string_view prefix, std::string_view page_token,
                          size_t max_objects) override {
    RETURN_IF_ERROR(ValidateListPrefix(prefix));
    std::lock_guard lock(mu_);
    ObjectPage page;
    auto it = page_token.empty() ? objects_.lower_bound(std::string(prefix))
                                 : objects_.upper_bound(std::string(page_token));
    for (; it != objects_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
      if (page.objects.size() == max_objects) {
        page.next_page_token = page.objects.back().task_id + "/" + page.objects.back().name;
        break;
      }
      const size_t slash = it->first.find('/');
      page.objects.push_back({it->first.substr(0, slash), it->first.substr(slash + 1),
                              static_cast<int64_t>(it->second.size())});
    }
    return page;
  }

  Result<std::string> DownloadUrl(std::string_view task_id, std::string_view name,
                                  TimePoint expires_at) override {
    (void)expires_at;
    return "memory://" + Key(task_id, name);
  }

  // The committed bytes of an object, or nullopt.
  std::optional<std::string> Get(std::string_view task_id, std::string_view name) const {
    std::lock_guard lock(mu_);
    const auto it = objects_.find(Key(task_id, name));
    if (it == objects_.end()) return std::nullopt;
    return it->second;
  }
  // Replaces (or adds) an object's bytes, as a damaged or edited file would.
  void Put(std::string_view task_id, std::string_view name, std::string data) {
    std::lock_guard lock(mu_);
    objects_[Key(task_id, name)] = std::move(data);
  }
  void Remove(std::string_view task_id, std::string_view name) {
    std::lock_guard lock(mu_);
    objects_.erase(Key(task_id, name));
  }

 private:
  class Writer final : public ObjectWriter {
   public:
    Writer(MemoryObjectStore& store, std::string key, bool digest)
        : store_(store), key_(std::move(key)), digest_(digest) {}
    Status Write(std::string_view data) override {
      data_.append(data);
      return Status::Ok();
    }
    Result<ObjectInfo> Commit() override {
      ObjectInfo info{.bytes = static_cast<int64_t>(data_.size()),
                      .sha256 = digest_ ? store_.digest_(data_) : std::string()};
      std::lock_guard lock(store_.mu_);
      store_.objects_[key_] = std::move(data_);
      return info;
    }

   private:
    MemoryObjectStore& store_;
    const std::string key_;
    const bool digest_;
    std::string data_;
  };

  static std::string Key(std::string_view task_id, std::string_view name) {
    return std::string(task_id) + "/" + std::string(name);
  }

  const DigestFn digest_;
  mutable std::mutex mu_;
  std::map<std::string, std::string> objects_;  // "task_id/name" -> bytes; guarded by mu_
};

}  // namespace exportd::fakes

#endif  // EXPORTD_TESTS_FAKES_MEMORY_OBJECT_STORE_H_
