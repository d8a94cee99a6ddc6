// PgCopyStream against the fixture's PostgreSQL server: every row of a COPY in order, whatever
// its size; the COPY's own error as the status; letting go of a COPY still being sent.
#include "storage/postgres_source/pg_copy_stream.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "storage/postgres/pg_connection.h"
#include "tests/postgres/postgres_test_db.h"

namespace exportd {
namespace {

Status Translate(PGconn* conn, const PGresult* result) { return PgError("", conn, result); }

class PgCopyStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string url = FreshSchemaUrl();
    ASSERT_FALSE(url.empty());
    auto conn = PgConnection::Open(url);
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(conn).value();
  }

  // Starts `copy` (a COPY ... TO STDOUT); false if the server did not enter COPY OUT.
  bool StartCopy(const std::string& copy) {
    PGresult* started = PQexec(conn_->get(), copy.c_str());
    const bool copying = started != nullptr && PQresultStatus(started) == PGRES_COPY_OUT;
    PQclear(started);
    return copying;
  }

  std::unique_ptr<PgConnection> conn_;
};

TEST_F(PgCopyStreamTest, DeliversEveryRowInOrderWhateverItsSize) {
  // Every 1,000th row is larger than a chunk (PgCopyStream::kChunkBytes).
  static_assert(PgCopyStream::kChunkBytes < 300000);
  ASSERT_TRUE(
      StartCopy("COPY (SELECT g, repeat('x', CASE WHEN g % 1000 = 0 THEN 300000 ELSE 10 END) FROM "
                "generate_series(1, 5000) AS g ORDER BY g) TO STDOUT"));
  int rows = 0;
  {
    PgCopyStream stream(conn_->get(), &Translate);
    while (std::optional<std::string_view> row = stream.Next()) {
      ++rows;
      const std::string prefix = std::to_string(rows) + "\t";
      ASSERT_TRUE(row->starts_with(prefix)) << "row " << rows;
      const size_t width = rows % 1000 == 0 ? 300000 : 10;
      ASSERT_EQ(row->size(), prefix.size() + width + 1) << "row " << rows;  // and the newline
      ASSERT_EQ(row->back(), '\n');
    }
    ASSERT_TRUE(stream.status().ok()) << stream.status().ToString();
    EXPECT_FALSE(stream.Next().has_value());  // the end stays the end
  }
  EXPECT_EQ(rows, 5000);
  // The COPY is over: the connection takes the next statement.
  EXPECT_TRUE(conn_->ExecScript("SELECT 1").ok());
}

TEST_F(PgCopyStreamTest, AnErrorOfTheServerMidCopyIsTheStatus) {
  ASSERT_TRUE(StartCopy(
      "COPY (SELECT 1 / (g - 3000) FROM generate_series(1, 5000) AS g ORDER BY g) TO STDOUT"));
  PgCopyStream stream(conn_->get(), &Translate);
  int rows = 0;
  while (stream.Next()) ++rows;
  EXPECT_LT(rows, 3000);
  EXPECT_FALSE(stream.status().ok());
  EXPECT_NE(stream.status().message().find("division by zero"), std::string::npos)
      << stream.status().ToString();
}

TEST_F(PgCopyStreamTest, DroppedMidCopyItLetsGoAtOnce) {
  // About 200 MB: far more than the stream takes ahead, so the server is still sending.
  ASSERT_TRUE(StartCopy(
      "COPY (SELECT g, repeat('x', 2000) FROM generate_series(1, 100000) AS g) TO STDOUT"));
  {
    PgCopyStream stream(conn_->get(), &Translate);
    ASSERT_TRUE(stream.Next().has_value());
  }  // the destructor stops the draining thread; the test's time limit catches a hang
  // As the header says, the connection is unusable after that: it was shut down under the COPY.
  EXPECT_FALSE(conn_->ExecScript("SELECT 1").ok());
}

}  // namespace
}  // namespace exportd
