#include "storage/notify/email_message.h"

#include <gtest/gtest.h>

#include <map>

namespace exportd {
namespace {

using std::chrono::seconds;

// 2026-11-22T00:46:06Z, a Sunday.
const TimePoint kWhen = TimePoint{} + seconds(1795308366);

std::string DecodeQuotedPrintable(const std::string& in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '=' && i + 2 < in.size() && in[i + 1] == '\r' && in[i + 2] == '\n') {
      i += 2;  // soft line break
    } else if (in[i] == '=' && i + 2 < in.size()) {
      out += static_cast<char>(std::stoi(in.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

struct Parsed {
  std::map<std::string, std::string> headers;
  std::string raw_body;
};

Parsed Split(const std::string& message) {
  Parsed p;
  size_t end = message.find("\r\n\r\n");
  EXPECT_NE(end, std::string::npos);
  size_t pos = 0;
  while (pos < end) {
    size_t eol = message.find("\r\n", pos);
    std::string line = message.substr(pos, eol - pos);
    size_t colon = line.find(':');
    p.headers[line.substr(0, colon)] = line.substr(colon + 2);
    pos = eol + 2;
  }
  p.raw_body = message.substr(end + 4);
  return p;
}

Task SucceededTask() {
  Task t;
  t.id = "01JD0000000000000000000000";
  t.state = TaskState::kSucceeded;
  t.request.dataset = "samples";
  t.request.fields = {"id", "rock_type"};
  t.request.filter = {Condition{"rock_type", FilterOp::kEq, {std::string("basalt")}}};
  t.query_hash = "abc123";
  t.progress.rows = 1234;
  t.finished_at = kWhen;
  t.tag = "Grüße";
  return t;
}

const char* kTaskJson = R"({
  "request": {"filter": [{"field": "rock_type", "op": "eq", "value": "basalt"}]},
  "files": [{"name": "part-00001.csv", "rows": 1234, "bytes": 5678,
             "url": "http://127.0.0.1:8080/v1/exports/01JD0000000000000000000000/files/part-00001.csv?expires=1795394766&signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
             "expires_at": "2026-11-23T00:46:06.000Z"}],
  "links": {"manifest": "http://127.0.0.1:8080/m?sig=1"}})";

EmailEnvelope Envelope() {
  return EmailEnvelope{"exportd@example.org",
                       {"alice@example.org"},
                       "<01JD0000000000000000000000-2@example.org>",
                       kWhen};
}

TEST(EmailMessageTest, HeadersAreComplete) {
  Result<std::string> m = BuildTaskEmail(SucceededTask(), kTaskJson, Envelope());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  Parsed p = Split(*m);
  EXPECT_EQ(p.headers["Date"], "Sun, 22 Nov 2026 00:46:06 +0000");
  EXPECT_EQ(p.headers["From"], "exportd@example.org");
  EXPECT_EQ(p.headers["To"], "alice@example.org");
  EXPECT_EQ(p.headers["Subject"],
            "exportd: export 01JD0000000000000000000000 of samples succeeded");
  EXPECT_EQ(p.headers["Message-ID"], "<01JD0000000000000000000000-2@example.org>");
  EXPECT_EQ(p.headers["MIME-Version"], "1.0");
  EXPECT_EQ(p.headers["Content-Type"], "text/plain; charset=utf-8");
  EXPECT_EQ(p.headers["Content-Transfer-Encoding"], "quoted-printable");
  // Every line ends with CRLF and none is longer than 78 characters + CRLF.
  size_t pos = 0;
  while (pos < m->size()) {
    size_t eol = m->find("\r\n", pos);
    ASSERT_NE(eol, std::string::npos);
    EXPECT_LE(eol - pos, 78u) << m->substr(pos, eol - pos);
    EXPECT_EQ(m->substr(pos, eol - pos).find('\n'), std::string::npos);
    pos = eol + 2;
  }
}

TEST(EmailMessageTest, BodyHasLinksExpiryQueryAndTimestamp) {
  Result<std::string> m = BuildTaskEmail(SucceededTask(), kTaskJson, Envelope());
  ASSERT_TRUE(m.ok());
  const std::string body = DecodeQuotedPrintable(Split(*m).raw_body);
  for (const char* expected :
       {"Export 01JD0000000000000000000000 of dataset samples succeeded.",
        "Completed at: 2026-11-22T00:46:06.000Z", "part-00001.csv  (1234 rows, 5678 bytes)",
        "signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "link expires at 2026-11-23T00:46:06.000Z", "Manifest: http://127.0.0.1:8080/m?sig=1",
        "Dataset:    samples", "Fields:     id, rock_type",
        R"(Filter:     [{"field":"rock_type","op":"eq","value":"basalt"}])", "Rows:       1234",
        "Tag:        Grüße"}) {
    EXPECT_NE(body.find(expected), std::string::npos) << expected << "\n---\n" << body;
  }
}

TEST(EmailMessageTest, FailedTaskShowsItsError) {
  Task t = SucceededTask();
  t.state = TaskState::kFailed;
  t.error = TaskError{"invalid_argument", "no such column", false};
  Result<std::string> m = BuildTaskEmail(t, R"({"files": []})", Envelope());
  ASSERT_TRUE(m.ok());
  Parsed p = Split(*m);
  EXPECT_EQ(p.headers["Subject"], "exportd: export 01JD0000000000000000000000 of samples failed");
  EXPECT_EQ(p.headers["X-Exportd-Event"], "export.failed");
  EXPECT_NE(DecodeQuotedPrintable(p.raw_body).find("Error: invalid_argument: no such column"),
            std::string::npos);
}

TEST(EmailMessageTest, HeaderInjectionIsRefused) {
  EmailEnvelope e = Envelope();
  e.to = {"alice@example.org\r\nBcc: evil@example.org"};
  EXPECT_EQ(BuildTaskEmail(SucceededTask(), kTaskJson, e).status().code(),
            StatusCode::kInvalidArgument);
  e = Envelope();
  e.from = "a@b\nX: y";
  EXPECT_FALSE(BuildTaskEmail(SucceededTask(), kTaskJson, e).ok());
  EXPECT_FALSE(CheckHeaderValue("Subject", "a\rb").ok());
  EXPECT_TRUE(CheckHeaderValue("Subject", "plain text").ok());
}

TEST(EmailMessageTest, NonAsciiHeaderTextIsEncodedWords) {
  EXPECT_EQ(EncodeHeaderText("plain"), "plain");
  EXPECT_EQ(EncodeHeaderText("Grüße"), "=?UTF-8?B?R3LDvMOfZQ==?=");
  // Long text becomes several words, each at most 75 characters, split between characters.
  std::string long_text;
  for (int i = 0; i < 40; ++i) long_text += "ü";
  std::string encoded = EncodeHeaderText(long_text);
  size_t start = 0;
  int words = 0;
  while (start < encoded.size()) {
    size_t end = encoded.find("\r\n ", start);
    std::string word = encoded.substr(start, end == std::string::npos ? end : end - start);
    EXPECT_LE(word.size(), 75u);
    EXPECT_EQ(word.rfind("=?UTF-8?B?", 0), 0u);
    ++words;
    if (end == std::string::npos) break;
    start = end + 3;
  }
  EXPECT_EQ(words, 2);
}

TEST(EmailMessageTest, QuotedPrintableRoundTrips) {
  const std::string text = "a=b ü\ntrailing space \n" + std::string(200, 'x') + "\n";
  const std::string qp = QuotedPrintable(text);
  EXPECT_NE(qp.find("a=3Db =C3=BC\r\n"), std::string::npos) << qp;
  EXPECT_NE(qp.find("space=20\r\n"), std::string::npos);
  std::string decoded = DecodeQuotedPrintable(qp);
  std::string expected = text;
  size_t pos = 0;
  while ((pos = expected.find('\n', pos)) != std::string::npos) {
    expected.replace(pos, 1, "\r\n");
    pos += 2;
  }
  EXPECT_EQ(decoded, expected);
}

}  // namespace
}  // namespace exportd
