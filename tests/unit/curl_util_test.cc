#include "storage/base/curl_util.h"

#include <gtest/gtest.h>

namespace exportd {
namespace {

TEST(CurlStatusTest, TransportFailuresAreTransient) {
  EXPECT_EQ(CurlStatus(CURLE_COULDNT_CONNECT, "PUT x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(CurlStatus(CURLE_COULDNT_RESOLVE_HOST, "PUT x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(CurlStatus(CURLE_RECV_ERROR, "PUT x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(CurlStatus(CURLE_OPERATION_TIMEDOUT, "PUT x").code(), StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(IsTransient(CurlStatus(CURLE_GOT_NOTHING, "x").code()));
}

TEST(CurlStatusTest, PermanentFailuresAreNot) {
  EXPECT_EQ(CurlStatus(CURLE_LOGIN_DENIED, "x").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(CurlStatus(CURLE_URL_MALFORMAT, "x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CurlStatus(CURLE_ABORTED_BY_CALLBACK, "x").code(), StatusCode::kCancelled);
  EXPECT_FALSE(IsTransient(CurlStatus(CURLE_UNSUPPORTED_PROTOCOL, "x").code()));
}

TEST(CurlStatusTest, MessageCarriesContextAndCurlText) {
  Status s = CurlStatus(CURLE_COULDNT_CONNECT, "POST http://127.0.0.1:1/");
  EXPECT_NE(s.message().find("POST http://127.0.0.1:1/: "), std::string::npos);
  EXPECT_NE(s.message().find(curl_easy_strerror(CURLE_COULDNT_CONNECT)), std::string::npos);
  EXPECT_TRUE(CurlStatus(CURLE_OK, "x").ok());
}

TEST(RemoteHttpStatusTest, MapsByWhatTheCallerShouldDo) {
  EXPECT_TRUE(RemoteHttpStatus(200, "x").ok());
  EXPECT_TRUE(RemoteHttpStatus(204, "x").ok());
  EXPECT_EQ(RemoteHttpStatus(500, "x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(RemoteHttpStatus(503, "x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(RemoteHttpStatus(429, "x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(RemoteHttpStatus(408, "x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(RemoteHttpStatus(403, "x").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(RemoteHttpStatus(401, "x").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(RemoteHttpStatus(404, "x").code(), StatusCode::kNotFound);
  EXPECT_EQ(RemoteHttpStatus(412, "x").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(RemoteHttpStatus(400, "x").code(), StatusCode::kInvalidArgument);
  Status s = RemoteHttpStatus(403, "PUT b/k", "SignatureDoesNotMatch");
  EXPECT_EQ(s.message(), "PUT b/k: HTTP 403: SignatureDoesNotMatch");
}

TEST(PerformHttpTest, UnreachableServerIsTransient) {
  HttpRequest request;
  request.method = "POST";
  request.url = "http://127.0.0.1:1/";  // port 1: nothing listens there
  request.body = "{}";
  Result<HttpResponse> response = PerformHttp(request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
}

TEST(CurlSlistTest, AppendsInOrder) {
  CurlSlist list;
  ASSERT_TRUE(list.Append("A: 1").ok());
  ASSERT_TRUE(list.Append("B: 2").ok());
  ASSERT_NE(list.get(), nullptr);
  EXPECT_STREQ(list.get()->data, "A: 1");
  EXPECT_STREQ(list.get()->next->data, "B: 2");
  CurlSlist moved = std::move(list);
  EXPECT_EQ(list.get(), nullptr);  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_NE(moved.get(), nullptr);
}

}  // namespace
}  // namespace exportd
