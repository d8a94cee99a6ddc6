// A plain TCP connection to exportd for what an ordinary HTTP client cannot send: bodies that
// hide further requests, heads that trickle in, many connections from one address. Any
// 127.0.0.0/8 address works as the source, so a test can attack from one address and probe from
// another.
#ifndef EXPORTD_TESTS_INTEGRATION_RAW_CONNECTION_H_
#define EXPORTD_TESTS_INTEGRATION_RAW_CONNECTION_H_

#include <string>
#include <vector>

#include "tests/integration/exportd_process.h"
#include "tests/integration/http_client.h"

namespace exportd::itest {

class RawConnection {
 public:
  // Connects to 127.0.0.1:port from `source` (blocking; check connected()).
  explicit RawConnection(int port, const std::string& source = "127.0.0.1");
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  const std::string& error() const { return error_; }
  // Sends all of `bytes`; false when the server closed or reset the connection.
  bool Send(const std::string& bytes);
  // Reads until the server closes the connection (EOF or reset: *closed = true) or `timeout`
  // passes (*closed = false). Returns everything read.
  std::string ReadUntilClosed(Clock::duration timeout, bool* closed);
  // Reads until `count` complete responses have arrived, the connection closes, or `timeout`
  // passes; returns the complete ones.
  std::vector<HttpResponse> ReadResponses(size_t count, Clock::duration timeout);

 private:
  int fd_ = -1;
  std::string error_;
  std::string pending_;  // read but not yet returned as a complete response
};

// The complete responses at the start of `bytes` (Content-Length framed, as exportd answers);
// what follows the last complete one goes to *rest.
std::vector<HttpResponse> ParseResponses(const std::string& bytes, std::string* rest);

}  // namespace exportd::itest

#endif  // EXPORTD_TESTS_INTEGRATION_RAW_CONNECTION_H_
