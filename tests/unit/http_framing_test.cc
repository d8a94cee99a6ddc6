// Request framing as the connection layer reads it (issue 16 item 1): where a head ends and
// how long the body is must match cpp-httplib's reading exactly, and anything ambiguous is
// invalid (refused, connection closed).
#include "api/http_framing.h"

#include <gtest/gtest.h>

namespace exportd::api {
namespace {

using Kind = BodyFraming::Kind;

TEST(HttpFramingTest, HeadEndsAtTheFirstEmptyCrlfLine) {
  const std::string head = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  EXPECT_EQ(FindHeadEnd(head), head.size());
  EXPECT_EQ(FindHeadEnd(head + "GET /next HTTP/1.1\r\n"), head.size());
  EXPECT_EQ(FindHeadEnd("GET / HTTP/1.1\r\nHost: x\r\n"), std::string_view::npos);
  // cpp-httplib skips bare-LF lines rather than ending on them; an empty CRLF line after a bare
  // LF does end the head.
  EXPECT_EQ(FindHeadEnd("GET / HTTP/1.1\nHost: x\n\n"), std::string_view::npos);
  EXPECT_EQ(FindHeadEnd("GET / HTTP/1.1\r\nX: a\n\r\nrest"), 23u);
  // Resuming a search over grown data finds a terminator that straddles the old end.
  const std::string grown = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  EXPECT_EQ(FindHeadEnd(grown, grown.size() - 1), grown.size());
  EXPECT_EQ(FindHeadEnd(grown, grown.size() - 2), grown.size());
}

TEST(HttpFramingTest, BodyLengthFromContentLength) {
  BodyFraming f = FrameHead("POST / HTTP/1.1\r\ncontent-length:  42 \r\n\r\n");
  EXPECT_EQ(f.kind, Kind::kLength);
  EXPECT_EQ(f.length, 42u);
  EXPECT_EQ(FrameHead("GET / HTTP/1.1\r\nHost: x\r\n\r\n").kind, Kind::kNone);
  // Identical repeats are one length.
  f = FrameHead("POST / HTTP/1.1\r\nContent-Length: 7\r\nContent-Length: 7\r\n\r\n");
  EXPECT_EQ(f.kind, Kind::kLength);
  EXPECT_EQ(f.length, 7u);
  EXPECT_EQ(FrameHead("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n").kind,
            Kind::kChunked);
}

TEST(HttpFramingTest, AmbiguousFramingIsInvalid) {
  for (const char* head : {
           "POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
           "POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n",
           "POST / HTTP/1.1\r\nContent-Length: 5 5\r\n\r\n",
           "POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n",
           "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n",
           "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
           "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
           "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
           "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
           "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
       }) {
    BodyFraming f = FrameHead(head);
    EXPECT_EQ(f.kind, Kind::kInvalid) << head;
    EXPECT_FALSE(f.problem.empty()) << head;
  }
}

TEST(HttpFramingTest, FieldsAreParsedAsCppHttplibParsesThem) {
  // A bare-LF line is skipped (so is its Content-Length), a line without ':' too; names keep
  // their case; values lose surrounding blanks; empty values are kept.
  auto fields = HeadFields(
      "POST / HTTP/1.1\r\nContent-Length: 5\nno colon\r\nIdempotency-Key:\r\nX-A:\t b \t\r\n\r\n");
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields[0].first, "Idempotency-Key");
  EXPECT_EQ(fields[0].second, "");
  EXPECT_EQ(fields[1].first, "X-A");
  EXPECT_EQ(fields[1].second, "b");
  EXPECT_EQ(FrameHead("POST / HTTP/1.1\r\nContent-Length: 5\n\r\n").kind, Kind::kNone);
  // "Content-Length :" is another name (cpp-httplib does not trim names).
  EXPECT_EQ(FrameHead("POST / HTTP/1.1\r\nContent-Length : 5\r\n\r\n").kind, Kind::kNone);
}

}  // namespace
}  // namespace exportd::api
