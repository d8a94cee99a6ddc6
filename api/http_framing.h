// Where an HTTP/1.1 request's head ends and how long its body is, read exactly the way
// cpp-httplib 0.11 reads them. The connection layer (api/edge_server.h) uses this to hand the
// library one request at a time and to see whether a request was read to its very end: a
// connection is reused only then, so bytes left unread can never be taken for a next request
// (request smuggling). Std-only, so that it can be tested without a socket.
#ifndef EXPORTD_API_HTTP_FRAMING_H_
#define EXPORTD_API_HTTP_FRAMING_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace exportd::api {

// The offset just past the empty line that ends the head of a request starting at data[0], or
// std::string_view::npos while it has not arrived. cpp-httplib ends the head at the first line
// that is exactly CRLF (lines ending in a bare LF are skipped, not ended on), i.e. at the first
// "\n\r\n". `from` lets a caller resume a search over data that only grew (pass the previous
// size).
size_t FindHeadEnd(std::string_view data, size_t from = 0);

struct BodyFraming {
  enum class Kind {
    kNone,     // neither Content-Length nor Transfer-Encoding: no body
    kLength,   // Content-Length: `length` bytes
    kChunked,  // Transfer-Encoding: chunked (length unknown until read)
    kInvalid,  // anything else: a Content-Length that is not a plain decimal, two that differ,
               // both headers, another transfer coding. The request must be refused (400) and
               // the connection closed: where its body ends cannot be known.
  };
  Kind kind = Kind::kNone;
  uint64_t length = 0;  // kLength only
  std::string problem;  // kInvalid: why, for the client
};

// From the values of every Content-Length and Transfer-Encoding header (in any order).
BodyFraming FrameBody(const std::vector<std::string_view>& content_lengths,
                      const std::vector<std::string_view>& transfer_encodings);

// The header fields of a head (up to FindHeadEnd), as cpp-httplib parses them: the request line
// is skipped, and so are lines that do not end in CRLF or have no ':'; the name is everything
// before the first ':', the value has leading and trailing spaces and tabs removed. Unlike
// cpp-httplib, fields with an empty value are kept (it drops them).
std::vector<std::pair<std::string_view, std::string_view>> HeadFields(std::string_view head);

// FrameBody over the Content-Length and Transfer-Encoding fields of a head.
BodyFraming FrameHead(std::string_view head);

}  // namespace exportd::api

#endif  // EXPORTD_API_HTTP_FRAMING_H_
