// The HTTP edge against hostile clients (issue 16): one request, one response, whatever a body
// the server did not read holds (request smuggling); slow heads, and many connections from one
// address, cannot take the HTTP threads from everyone else (slowloris); text from a client cannot
// forge log entries. Raw sockets on loopback, every loop bounded by a deadline.
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/itest_support.h"
#include "tests/integration/raw_connection.h"

namespace exportd::itest {
namespace {

class HttpEdgeTest : public ExportdTest {
 protected:
  // A complete request that would create an export if it were ever parsed as one.
  std::string CreateRequest() const {
    const std::string body = R"({"dataset": "items", "tag": "smuggled"})";
    return "POST /v1/exports HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + server_->admin_key() +
           "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body;
  }

  // Sends `bytes` on a fresh keep-alive connection; returns every response that arrived before
  // the server closed it (or 10 s passed: *closed false).
  std::vector<HttpResponse> Exchange(const std::string& bytes, bool* closed, std::string* rest) {
    RawConnection conn(server_->port());
    EXPECT_TRUE(conn.connected()) << conn.error();
    conn.Send(bytes);  // the server may close before it has read everything
    return ParseResponses(conn.ReadUntilClosed(seconds(10), closed), rest);
  }

  int TaskCount() {
    HttpResponse list = api_->Get("/v1/exports?limit=200");
    EXPECT_EQ(list.status, 200) << list.Describe();
    return list.status == 200 ? static_cast<int>(list.json["items"].size()) : -1;
  }
};

// Every early answer (before the body was read) ends the connection: the bytes after it are
// never taken for further requests, so none of the hidden POSTs creates a task.
TEST_F(HttpEdgeTest, BodiesLeftUnreadAreNeverParsedAsRequests) {
  ASSERT_TRUE(StartWithItems(5, Json{{"max_body_bytes", 4096}, {"max_export_body_bytes", 4096}}));
  const std::string hidden = CreateRequest() + CreateRequest() + CreateRequest();
  const std::string auth = "Authorization: Bearer " + server_->admin_key() + "\r\n";
  auto with_body = [&](const std::string& request_line, const std::string& headers,
                       const std::string& body) {
    return request_line + "\r\nHost: x\r\n" + headers + "Content-Type: application/json\r\n" +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  };
  const std::string oversized = hidden + std::string(8192, ' ');
  struct Case {
    std::string name;
    std::string bytes;
    int status;
    bool body_unread = true;  // else the server read the body and may keep the connection
  };
  const std::vector<Case> cases = {
      {"413: body over max_body_bytes", with_body("POST /v1/exports HTTP/1.1", auth, oversized),
       413},
      // exportd reads a body before it checks credentials: read, it is no request of its own.
      {"401: no credentials", with_body("POST /v1/exports HTTP/1.1", "", hidden), 401, false},
      {"405: POST where there is none", with_body("POST /healthz HTTP/1.1", "", hidden), 405},
      {"404: no such route", with_body("POST /v1/nowhere HTTP/1.1", auth, hidden), 404},
      {"200: a GET with a body", with_body("GET /healthz HTTP/1.1", "", hidden), 200},
      {"400: a negative Content-Length",
       "POST /v1/exports HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Length: -5\r\n\r\n" + hidden,
       400},
      {"400: two Content-Lengths",
       "POST /v1/exports HTTP/1.1\r\nHost: x\r\n" + auth +
           "Content-Length: 0\r\nContent-Length: 5\r\n\r\n" + hidden,
       400},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    bool closed = false;
    std::string rest;
    std::vector<HttpResponse> responses = Exchange(c.bytes, &closed, &rest);
    ASSERT_EQ(responses.size(), 1u) << "one request, one response; then " << rest.size()
                                    << " more bytes: " << rest.substr(0, 300);
    EXPECT_EQ(responses[0].status, c.status) << responses[0].Describe();
    if (c.body_unread) {
      EXPECT_EQ(responses[0].Header("Connection"), "close") << responses[0].Describe();
      EXPECT_TRUE(closed) << "the server kept the connection open";
    }
    EXPECT_TRUE(rest.empty()) << rest.substr(0, 300);
  }
  EXPECT_EQ(TaskCount(), 0) << "a request hidden in a body was served";
}

// A connection whose requests are read to their end stays open for more, pipelined or not.
TEST_F(HttpEdgeTest, CompleteRequestsKeepTheConnection) {
  ASSERT_TRUE(StartWithItems(5));
  RawConnection conn(server_->port());
  ASSERT_TRUE(conn.connected()) << conn.error();
  const std::string get = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_TRUE(conn.Send(CreateRequest() + get));  // pipelined
  std::vector<HttpResponse> first = conn.ReadResponses(2, seconds(10));
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].status, 202) << first[0].Describe();
  EXPECT_EQ(first[1].status, 200) << first[1].Describe();
  EXPECT_NE(first[1].Header("Connection"), "close");
  ASSERT_TRUE(conn.Send(get));
  std::vector<HttpResponse> second = conn.ReadResponses(1, seconds(10));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].status, 200) << second[0].Describe();
  EXPECT_EQ(TaskCount(), 1);
}

// A head that trickles in, a line at a time well within the read timeout, is cut off once
// header_timeout_seconds have passed since its first byte: 408, then the connection closes.
TEST_F(HttpEdgeTest, AHeadMustArriveWithinTheHeaderTimeout) {
  ASSERT_TRUE(StartWithItems(5, Json{{"header_timeout_seconds", 2}, {"read_timeout_seconds", 30}}));
  RawConnection conn(server_->port());
  ASSERT_TRUE(conn.connected()) << conn.error();
  const auto start = Clock::now();
  ASSERT_TRUE(conn.Send("GET /healthz HTTP/1.1\r\n"));
  bool closed = false;
  std::string got;
  // A header line every 300 ms for up to 12 s, unless the server gives up first.
  while (!closed && Clock::now() - start < seconds(12)) {
    got += conn.ReadUntilClosed(milliseconds(300), &closed);
    if (!closed && !conn.Send("X-Slow: 1\r\n")) break;
  }
  if (!closed) got += conn.ReadUntilClosed(seconds(2), &closed);
  EXPECT_TRUE(closed) << "a trickling head held its connection for 12 s";
  EXPECT_LT(Clock::now() - start, seconds(8));
  std::string rest;
  std::vector<HttpResponse> responses = ParseResponses(got, &rest);
  ASSERT_EQ(responses.size(), 1u) << got;
  EXPECT_EQ(responses[0].status, 408) << responses[0].Describe();
  EXPECT_TRUE(IsProblem(responses[0]));
  EXPECT_EQ(api_->Get("/healthz").status, 200);
}

// 200 slow sockets from one address: the ones over max_connections_per_client are refused at
// once, the others are cut off at the header timeout, and /healthz and /readyz keep answering
// other addresses within a second all along.
TEST_F(HttpEdgeTest, SlowClientsCannotStarveHealthChecks) {
  // The shipped http_threads (64) and max_connections_per_client (16); a shorter header timeout
  // keeps the test short.
  ASSERT_TRUE(StartWithItems(5, Json{{"header_timeout_seconds", 4}}));
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 200; ++i) {
    auto conn = std::make_unique<RawConnection>(server_->port(), "127.0.0.1");
    ASSERT_TRUE(conn->connected()) << i << ": " << conn->error();
    conn->Send("GET /healthz HTTP/1.1\r\n");
    slow.push_back(std::move(conn));
  }
  const auto start = Clock::now();
  int probes = 0;
  while (Clock::now() - start < seconds(6)) {
    for (const char* path : {"/healthz", "/readyz"}) {
      const auto t0 = Clock::now();
      RawConnection probe(server_->port(), "127.0.0.2");
      ASSERT_TRUE(probe.connected()) << probe.error();
      probe.Send(std::string("GET ") + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
      std::vector<HttpResponse> res = probe.ReadResponses(1, seconds(3));
      const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - t0);
      ASSERT_EQ(res.size(), 1u) << path << " did not answer within 3 s";
      EXPECT_EQ(res[0].status, 200) << res[0].Describe();
      EXPECT_LT(took, seconds(1)) << path << " took " << took.count() << " ms";
      ++probes;
    }
    // Keep the slow heads alive: one more header line each.
    for (auto& conn : slow) conn->Send("X-Slow: 1\r\n");
    bool ignored = false;
    slow.front()->ReadUntilClosed(milliseconds(250), &ignored);
  }
  EXPECT_GE(probes, 4);
  // By now every slow socket has been closed: refused (503) or cut off (408).
  int refused = 0;
  int timed_out = 0;
  for (auto& conn : slow) {
    bool closed = false;
    const std::string got = conn->ReadUntilClosed(seconds(5), &closed);
    EXPECT_TRUE(closed) << "a slow socket is still open";
    if (got.find(" 503 ") != std::string::npos) ++refused;
    if (got.find(" 408 ") != std::string::npos) ++timed_out;
  }
  EXPECT_GT(refused, 0);
  EXPECT_GT(timed_out, 0);
  EXPECT_LE(timed_out, 16) << "more connections were served than max_connections_per_client";
}

// max_connections_per_client counts per address, and a closed connection frees its place.
TEST_F(HttpEdgeTest, ConnectionsAreCappedPerClientAddress) {
  ASSERT_TRUE(StartWithItems(5, Json{{"max_connections_per_client", 3}}));
  const std::string get = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 3; ++i) {  // answered, so admitted; then idle in keep-alive
    held.push_back(std::make_unique<RawConnection>(server_->port(), "127.0.0.3"));
    ASSERT_TRUE(held.back()->Send(get));
    ASSERT_EQ(held.back()->ReadResponses(1, seconds(10)).size(), 1u);
  }
  {
    RawConnection fourth(server_->port(), "127.0.0.3");
    fourth.Send(get);
    bool closed = false;
    std::string rest;
    std::vector<HttpResponse> res =
        ParseResponses(fourth.ReadUntilClosed(seconds(10), &closed), &rest);
    EXPECT_TRUE(closed);
    for (const HttpResponse& r : res) EXPECT_EQ(r.status, 503) << r.Describe();
  }
  RawConnection other(server_->port(), "127.0.0.4");
  other.Send(get);
  std::vector<HttpResponse> res = other.ReadResponses(1, seconds(10));
  ASSERT_EQ(res.size(), 1u);
  EXPECT_EQ(res[0].status, 200);

  held.clear();  // closing them frees the address's places
  EXPECT_TRUE(WaitFor(
      [&] {
        RawConnection again(server_->port(), "127.0.0.3");
        again.Send(get);
        std::vector<HttpResponse> r = again.ReadResponses(1, seconds(5));
        return r.size() == 1 && r[0].status == 200;
      },
      seconds(10), milliseconds(100)));
}

// Text from a client is logged with its control characters written out: a path with %0d%0a
// cannot start a line of its own in the log.
TEST_F(HttpEdgeTest, ClientTextCannotForgeLogLines) {
  ASSERT_TRUE(StartWithItems(5));
  const std::string forged = "2026-01-01T00:00:00.000Z info GET /forged 200";
  HttpResponse res =
      api_->Get("/v1/nothing%0d%0a2026-01-01T00:00:00.000Z%20info%20GET%20/forged%20200");
  EXPECT_EQ(res.status, 404) << res.Describe();
  HttpResponse res2 = api_->Get("/healthz%0a2026-01-01T00:00:00.000Z%20info%20GET%20/forged%20200");
  EXPECT_EQ(res2.status, 404) << res2.Describe();
  // The access log line is written after the answer: wait for both.
  ASSERT_TRUE(WaitFor(
      [&] {
        const std::string log = server_->stderr_log() + server_->stdout_log();
        size_t count = 0;
        for (size_t pos = log.find("/forged 200"); pos != std::string::npos;
             pos = log.find("/forged 200", pos + 1)) {
          ++count;
        }
        return count >= 2;
      },
      seconds(10)))
      << server_->LogTail();
  const std::string log = server_->stderr_log() + server_->stdout_log();
  size_t line_start = 0;
  while (line_start < log.size()) {
    size_t eol = log.find('\n', line_start);
    if (eol == std::string::npos) eol = log.size();
    const std::string line = log.substr(line_start, eol - line_start);
    EXPECT_NE(line.rfind(forged, 0), 0u) << "forged log line: " << line;
    EXPECT_EQ(line.find('\r'), std::string::npos) << "CR in a log line: " << line;
    line_start = eol + 1;
  }
  EXPECT_NE(log.find("/v1/nothing\\r\\n2026-01-01T00:00:00.000Z info GET /forged 200"),
            std::string::npos)
      << server_->LogTail();
}

}  // namespace
}  // namespace exportd::itest
