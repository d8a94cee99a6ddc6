// Resource limits per principal (issue 6; OWASP API4:2023 unrestricted resource consumption):
// a token bucket on every authenticated route answers 429 + Retry-After beyond its burst, per
// principal, and never limits admins.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sstream>

#include "tests/integration/itest_support.h"

namespace exportd::itest {
namespace {

class LimitsTest : public ExportdTest {
 protected:
  std::string CreateKey(const std::string& name) {
    CommandResult r = server_->RunCli({"keys", "create", "--name", name, "--config",
                                       server_->config_path(), "--data-dir", server_->data_dir()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string key = r.out;
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
    return key;
  }
};

TEST_F(LimitsTest, RateLimitIsPerPrincipalWithRetryAfterAndSparesAdmins) {
  ASSERT_TRUE(StartWithItems(5, Json{{"rate_limit_per_second", 0.5}, {"rate_limit_burst", 3}}));
  HttpClient alice(server_->host(), server_->port(), CreateKey("alice"));
  HttpClient bob(server_->host(), server_->port(), CreateKey("bob"));

  for (int i = 0; i < 3; ++i) EXPECT_EQ(alice.Get("/v1/exports").status, 200) << i;
  HttpResponse limited = alice.Get("/v1/exports");
  ASSERT_EQ(limited.status, 429) << limited.Describe();
  EXPECT_TRUE(IsProblem(limited));
  int retry_after = 0;
  std::istringstream(limited.Header("Retry-After")) >> retry_after;
  EXPECT_GE(retry_after, 1) << "Retry-After: " << limited.Header("Retry-After");
  EXPECT_LE(retry_after, 2) << "one token every 2 s";
  // A POST is refused the same way, and creates nothing.
  EXPECT_EQ(alice.PostJson("/v1/exports", Json{{"dataset", "items"}}).status, 429);

  EXPECT_EQ(bob.Get("/v1/exports").status, 200) << "alice's requests used up bob's bucket";
  for (int i = 0; i < 20; ++i) ASSERT_EQ(api_->Get("/v1/exports").status, 200) << "admin " << i;

  // After Retry-After, alice may go on; and she made no export while limited.
  ASSERT_TRUE(WaitFor([&] { return alice.Get("/v1/exports").status == 200; }, seconds(5)));
  EXPECT_TRUE(api_->Get("/v1/exports").json["items"].empty());
}

// A slow client (slowloris) loses its connection after read_timeout_seconds instead of holding
// an HTTP thread; oversized bodies and header lines are refused.
TEST_F(LimitsTest, SlowClientsAreCutOffAndOversizedRequestsRefused) {
  ASSERT_TRUE(StartWithItems(5, Json{{"read_timeout_seconds", 2},
                                     {"http_threads", 2},
                                     {"max_body_bytes", 4096},
                                     {"max_export_body_bytes", 4096}}));
  // Two connections that never finish their request line would hold both threads forever.
  auto open_partial = [&] {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(server_->port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    const char partial[] = "GET /v1/exp";
    EXPECT_EQ(::send(fd, partial, sizeof partial - 1, 0), static_cast<ssize_t>(sizeof partial - 1));
    return fd;
  };
  int a = open_partial();
  int b = open_partial();
  const auto start = Clock::now();
  // The server answers 408 and closes them within about the read timeout: recv sees EOF.
  for (int fd : {a, b}) {
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string got;
    char buf[256];
    ssize_t n = 0;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0 && got.size() < 4096) got.append(buf, n);
    EXPECT_EQ(n, 0) << "expected the server to close the connection (EOF); errno " << errno;
    EXPECT_TRUE(got.empty() || got.rfind("HTTP/1.1 408 ", 0) == 0) << got;
    ::close(fd);
  }
  EXPECT_LT(Clock::now() - start, seconds(8)) << "slow connections were not cut off";
  EXPECT_EQ(api_->Get("/v1/exports").status, 200) << "the HTTP threads are free again";

  HttpResponse big =
      api_->Send("POST", "/v1/exports", std::string(8192, ' ') + "{}", "application/json");
  EXPECT_EQ(big.status, 413) << big.Describe();
  HttpResponse long_header = api_->Get("/v1/exports", {{"X-Padding", std::string(16 * 1024, 'a')}});
  EXPECT_TRUE(long_header.status == 400 || long_header.status == 431 || long_header.status == 0)
      << long_header.Describe();
  EXPECT_EQ(api_->Get("/v1/exports").status, 200);
}

TEST_F(LimitsTest, ActiveTaskQuotaPerPrincipal) {
  // Slow exports keep tasks Processing/Pending while the quota is probed.
  ASSERT_TRUE(StartWithItems(
      200, Json{{"max_active_tasks", 2}, {"max_rows_per_second", 20}, {"workers", 1}}));
  HttpClient alice(server_->host(), server_->port(), CreateKey("alice"));
  HttpClient bob(server_->host(), server_->port(), CreateKey("bob"));
  const std::string first = CreateExport(alice, {{"dataset", "items"}});
  const std::string second = CreateExport(alice, {{"dataset", "items"}, {"format", "json"}});
  ASSERT_FALSE(first.empty() || second.empty());

  HttpResponse third = alice.PostJson("/v1/exports", Json{{"dataset", "items"}, {"format", "tsv"}});
  ASSERT_EQ(third.status, 429) << third.Describe();
  EXPECT_TRUE(IsProblem(third));
  EXPECT_FALSE(third.Header("Retry-After").empty());
  EXPECT_NE(third.json.value("detail", "").find("at most 2"), std::string::npos)
      << third.Describe();
  // Others, and admins, have their own room.
  EXPECT_EQ(bob.PostJson("/v1/exports", Json{{"dataset", "items"}}).status, 202);
  EXPECT_EQ(api_->PostJson("/v1/exports", Json{{"dataset", "items"}}).status, 202);
  // Cancelling one frees a place at once.
  ASSERT_EQ(alice.Send("POST", "/v1/exports/" + second + "/cancel", "", "").status, 202);
  WaitForTerminal(alice, second, seconds(30));
  HttpResponse again = alice.PostJson("/v1/exports", Json{{"dataset", "items"}, {"format", "tsv"}});
  EXPECT_EQ(again.status, 202) << again.Describe();
  // Alice holds 2 tasks now (first, and the new one): none was lost or doubled.
  HttpResponse list = alice.Get("/v1/exports");
  EXPECT_EQ(list.json["items"].size(), 3u) << list.Describe();
}

}  // namespace
}  // namespace exportd::itest
