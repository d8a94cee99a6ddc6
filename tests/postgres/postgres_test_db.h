// The PostgreSQL server of the tests: the throwaway cluster that ctest starts as the fixture
// "postgres" (tests/postgres/cluster.sh), named by EXPORTD_TEST_POSTGRES_URL. Each test works in
// a schema of its own, so tests run in parallel on one server without seeing each other.
#ifndef EXPORTD_TESTS_POSTGRES_POSTGRES_TEST_DB_H_
#define EXPORTD_TESTS_POSTGRES_POSTGRES_TEST_DB_H_

#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>

#include "core/ulid.h"
#include "storage/postgres/pg_connection.h"
#include "storage/postgres/pg_pool.h"
#include "storage/postgres/pg_task_store.h"

namespace exportd {

// The server's URL; fails the test (never skips it) when the variable is unset.
inline std::string TestPostgresUrl() {
  const char* url = std::getenv("EXPORTD_TEST_POSTGRES_URL");
  if (url == nullptr || *url == '\0') {
    ADD_FAILURE() << "EXPORTD_TEST_POSTGRES_URL is not set: run this test through ctest, which "
                     "starts the cluster (tests/postgres/cluster.sh)";
    return "";
  }
  return url;
}

// A new empty schema; the URL of a connection whose search_path is it (and whose
// application_name is the schema's name, to find its backends in pg_stat_activity).
// "" (after failing the test) if the schema cannot be made.
inline std::string FreshSchemaUrl(std::string* schema_out = nullptr) {
  const std::string base = TestPostgresUrl();
  if (base.empty()) return "";
  std::string schema = "t_" + NewUlid(std::chrono::system_clock::now());
  for (char& ch : schema) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  Result<std::unique_ptr<PgConnection>> admin = PgConnection::Open(base);
  EXPECT_TRUE(admin.ok()) << admin.status().ToString();
  if (!admin.ok()) return "";
  Status made = (*admin)->ExecScript("CREATE SCHEMA " + schema);
  EXPECT_TRUE(made.ok()) << made.ToString();
  if (!made.ok()) return "";
  if (schema_out) *schema_out = schema;
  return base + (base.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
         schema + "&application_name=" + schema;
}

inline std::shared_ptr<PgPool> OpenTestPool(const std::string& url, int size = 4) {
  Result<std::unique_ptr<PgPool>> pool = PgPool::Open(url, size);
  EXPECT_TRUE(pool.ok()) << pool.status().ToString();
  return pool.ok() ? std::shared_ptr<PgPool>(std::move(pool).value()) : nullptr;
}

inline std::unique_ptr<PgTaskStore> OpenPgTaskStore(std::shared_ptr<PgPool> pool,
                                                    PgTaskStoreOptions options = {}) {
  if (!pool) return nullptr;
  Result<std::unique_ptr<PgTaskStore>> store = PgTaskStore::Open(std::move(pool), options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

}  // namespace exportd

#endif  // EXPORTD_TESTS_POSTGRES_POSTGRES_TEST_DB_H_
