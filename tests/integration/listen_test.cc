// The listening socket: a port another server holds is an error at start-up, not a silent
// second listener (cpp-httplib's default SO_REUSEPORT would allow that).
#include "tests/integration/itest_support.h"

namespace exportd::itest {
namespace {

class ListenTest : public ExportdTest {};

TEST_F(ListenTest, APortInUseFailsTheStartUpWithAClearError) {
  ASSERT_TRUE(StartWithItems(10));
  ExportdProcess::Options options;
  options.env["EXPORTD_LISTEN"] = "127.0.0.1:" + std::to_string(server_->port());
  // The demo dataset is made before the bind: a small one, or an ASan build spends the
  // start-up timeout making 100,000 rows.
  options.env["EXPORTD_DEMO_ROWS"] = "10";
  ExportdProcess second(options);
  std::string error;
  EXPECT_FALSE(second.Start(&error)) << "a second exportd served on a port in use";
  EXPECT_NE(second.stderr_log().find("address in use or not available"), std::string::npos)
      << second.LogTail();
  // The first one still answers.
  EXPECT_EQ(api_->Get("/v1/exports").status, 200);
}

}  // namespace
}  // namespace exportd::itest
