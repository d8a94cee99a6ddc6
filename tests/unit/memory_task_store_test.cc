// The in-memory fake keeps the TaskStore contract, like every real store.
#include "tests/fakes/memory_task_store.h"

#include <gtest/gtest.h>

#include "tests/unit/task_store_contract.h"

namespace exportd {

EXPORTD_INSTANTIATE_TASK_STORE_CONTRACT(Memory,
                                        (TaskStoreFactory{
                                            "Memory", [](const std::filesystem::path&) {
                                              return std::unique_ptr<TaskStore>(
                                                  std::make_unique<fakes::MemoryTaskStore>());
                                            }}));

namespace {

TEST(MemoryTaskStoreTest, CheckWritableReportsWhatTheTestSet) {
  fakes::MemoryTaskStore store;
  EXPECT_TRUE(store.CheckWritable().ok());
  store.SetWritable(Unavailable("disk full"));
  EXPECT_EQ(store.CheckWritable().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace exportd
