// Schema drift of a source after exportd started (issue 16, item 3): a column renamed in the
// source table must fail the next export permanently, naming the column, instead of exporting the
// column's name as text in every row; `exportd verify --source` says the same.
#include "tests/integration/itest_support.h"

namespace exportd::itest {
namespace {

class SchemaDriftTest : public ExportdTest {};

TEST_F(SchemaDriftTest, ARenamedColumnFailsTheNextExportNamingTheColumn) {
  ASSERT_TRUE(StartWithItems(50));
  const Json body = {{"dataset", "items"}, {"format", "ndjson"}};
  const std::string first = CreateExport(*api_, body);
  ASSERT_FALSE(first.empty());
  Json done = WaitForTerminal(*api_, first, seconds(60));
  ASSERT_EQ(done.value("status", ""), "Succeeded") << done.dump();

  ExecSql(source_path(), "ALTER TABLE items RENAME COLUMN name TO title");
  const std::string second = CreateExport(*api_, body);
  ASSERT_FALSE(second.empty());
  Json failed = WaitForTerminal(*api_, second, seconds(60));
  EXPECT_EQ(failed.value("status", ""), "Failed") << failed.dump();
  ASSERT_TRUE(failed["error"].is_object()) << failed.dump();
  EXPECT_EQ(failed["error"].value("code", ""), "failed_precondition") << failed.dump();
  EXPECT_FALSE(failed["error"].value("retryable", true)) << failed.dump();
  EXPECT_NE(failed["error"].value("message", "").find("column 'name'"), std::string::npos)
      << failed.dump();
  // Permanent: failed at the first attempt, not retried.
  EXPECT_EQ(failed.value("attempts", 0), 1) << failed.dump();
  EXPECT_TRUE(failed["files"].empty()) << failed.dump();

  // The column back under its name: exports work again without a restart.
  ExecSql(source_path(), "ALTER TABLE items RENAME COLUMN title TO name");
  const std::string third = CreateExport(*api_, body);
  ASSERT_FALSE(third.empty());
  Json again = WaitForTerminal(*api_, third, seconds(60));
  EXPECT_EQ(again.value("status", ""), "Succeeded") << again.dump();

  // verify --source names the column too (exit 1: the check could not finish).
  ExecSql(source_path(), "ALTER TABLE items RENAME COLUMN name TO title");
  ASSERT_EQ(server_->Stop(), 0);
  CommandResult verify =
      server_->RunCli({"verify", first, "--config", server_->config_path(), "--source"});
  EXPECT_EQ(verify.exit_code, 1) << verify.out << verify.err;
  EXPECT_NE(verify.err.find("'name'"), std::string::npos) << verify.err;
}

}  // namespace
}  // namespace exportd::itest
