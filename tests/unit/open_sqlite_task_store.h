// Opens the SqliteTaskStore of a test, failing the test (and returning nullptr) if it cannot.
#ifndef EXPORTD_TESTS_UNIT_OPEN_SQLITE_TASK_STORE_H_
#define EXPORTD_TESTS_UNIT_OPEN_SQLITE_TASK_STORE_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "storage/sqlite/sqlite_task_store.h"

namespace exportd {

inline std::unique_ptr<SqliteTaskStore> OpenSqliteTaskStore(const std::string& path) {
  Result<std::unique_ptr<SqliteTaskStore>> store = SqliteTaskStore::Open(path);
  EXPECT_TRUE(store.ok()) << path << ": " << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

}  // namespace exportd

#endif  // EXPORTD_TESTS_UNIT_OPEN_SQLITE_TASK_STORE_H_
