// An ObjectStore wrapper whose removals fail on purpose: after `passes` more DeleteAll calls have
// gone through, DeleteAll answers kUnavailable (nothing deleted) while `failures` is positive,
// each failure using one up. Everything else (DeleteExcept included) passes through.
// Thread-safe as the store it wraps.
#ifndef EXPORTD_TESTS_FAKES_FLAKY_DELETE_STORE_H_
#define EXPORTD_TESTS_FAKES_FLAKY_DELETE_STORE_H_

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/object_store.h"

namespace exportd::fakes {

class FlakyDeleteStore final : public ObjectStore {
 public:
  explicit FlakyDeleteStore(ObjectStore& inner) : inner_(inner) {}

  std::atomic<int> passes{0};        // DeleteAll calls that go through before the failures
  std::atomic<int> failures{0};      // DeleteAll calls still to fail
  std::atomic<int> delete_calls{0};  // DeleteAll calls, failed ones included

  Result<std::unique_ptr<ObjectWriter>> Create(std::string_view task_id, std::string_view name,
                                               const ObjectOptions& options) override {
    return inner_.Create(task_id, name, options);
  }
  Result<std::unique_ptr<ObjectReader>> Open(std::string_view task_id,
                                             std::string_view name) override {
    return inner_.Open(task_id, name);
  }
  Status DeleteAll(std::string_view task_id) override {
    ++delete_calls;
    if (TakeFailure()) return Unavailable("injected: storage is down");
    return inner_.DeleteAll(task_id);
  }
  Status DeleteExcept(std::string_view task_id, const std::vector<std::string>& keep) override {
    return inner_.DeleteExcept(task_id, keep);
  }
  Result<ObjectPage> List(std::string_view prefix, std::string_view page_token,
                          size_t max_objects) override {
    return inner_.List(prefix, page_token, max_objects);
  }
  Result<std::string> DownloadUrl(std::string_view task_id, std::string_view name,
                                  TimePoint expires_at) override {
    return inner_.DownloadUrl(task_id, name, expires_at);
  }

 private:
  bool TakeFailure() {
    int pass = passes.load();
    while (pass > 0 && !passes.compare_exchange_weak(pass, pass - 1)) {
    }
    if (pass > 0) return false;
    int left = failures.load();
    while (left > 0 && !failures.compare_exchange_weak(left, left - 1)) {
    }
    return left > 0;
  }

  ObjectStore& inner_;
};

}  // namespace exportd::fakes

#endif  // EXPORTD_TESTS_FAKES_FLAKY_DELETE_STORE_H_
