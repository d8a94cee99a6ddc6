// GET /v1/audit's query string: filters, pagination and the 400/422 split of GET /v1/exports.
#include "api/audit_query.h"

#include <gtest/gtest.h>

#include "core/time_format.h"

namespace exportd::api {
namespace {

using Params = std::multimap<std::string, std::string>;

constexpr const char* kTaskId = "01JNB6S3ZQ7F8E3M5V9X2K4D1A";

TEST(AuditQueryTest, NoParametersMeansEverythingNewestFirstInPagesOf100) {
  Result<EventQuery> q = ParseAuditQuery({});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->limit, 100);
  EXPECT_FALSE(q->actor || q->task_id || q->since || q->until || q->remote || q->before_seq);
  EXPECT_TRUE(q->types.empty());
}

TEST(AuditQueryTest, EveryFilter) {
  Result<EventQuery> q = ParseAuditQuery(Params{{"actor", "alice"},
                                                {"task", kTaskId},
                                                {"type", "download,access_denied"},
                                                {"type", "cancel"},
                                                {"since", "2025-03-01T10:00:00Z"},
                                                {"until", "2025-03-02T00:00:00.500Z"},
                                                {"remote", "192.0.2.7"},
                                                {"file", "part-00001.csv"},
                                                {"outcome", "completed"},
                                                {"limit", "1000"},
                                                {"cursor", "42"}});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->actor, std::optional<std::string>("alice"));
  EXPECT_EQ(q->task_id, std::optional<std::string>(kTaskId));
  EXPECT_EQ(q->types, (std::vector<std::string>{"download", "access_denied", "cancel"}));
  EXPECT_EQ(q->since, ParseRfc3339("2025-03-01T10:00:00Z"));
  EXPECT_EQ(q->until, ParseRfc3339("2025-03-02T00:00:00.500Z"));
  EXPECT_EQ(q->remote, std::optional<std::string>("192.0.2.7"));
  EXPECT_EQ(q->file, std::optional<std::string>("part-00001.csv"));
  EXPECT_EQ(q->outcome, std::optional<std::string>("completed"));
  EXPECT_EQ(q->limit, 1000);
  EXPECT_EQ(q->before_seq, std::optional<int64_t>(42));
}

// Every outcome openapi.yaml's AccessOutcome lists is a filter the API accepts.
TEST(AuditQueryTest, EveryDocumentedOutcomeIsAccepted) {
  for (const char* outcome : {"completed", "interrupted", "not_modified", "denied", "gone",
                              "not_found", "range_not_satisfiable", "failed"}) {
    EXPECT_TRUE(ParseAuditQuery(Params{{"outcome", outcome}}).ok()) << outcome;
  }
}

TEST(AuditQueryTest, CursorRoundTrips) {
  Result<EventQuery> q = ParseAuditQuery(Params{{"cursor", AuditCursor(123456789012)}});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->before_seq, std::optional<int64_t>(123456789012));
}

// Syntax and types: 400, like a non-integer limit or a foreign cursor on GET /v1/exports.
TEST(AuditQueryTest, MalformedIs400) {
  const std::vector<Params> cases = {
      {{"since", "yesterday"}}, {{"until", "2025-13-01T00:00:00Z"}},
      {{"limit", "ten"}},       {{"limit", "10x"}},
      {{"cursor", "abc"}},      {{"cursor", "0"}},
      {{"cursor", "-5"}},       {{"actor", "a"}, {"actor", "b"}},
  };
  for (const Params& params : cases) {
    Result<EventQuery> q = ParseAuditQuery(params);
    EXPECT_EQ(q.status().code(), StatusCode::kMalformed)
        << params.begin()->first << "=" << params.begin()->second;
  }
  EXPECT_EQ(ParseAuditQuery(Params{{"since", "nope"}}).status().pointer(), "/since");
}

// Well-formed but meaningless: 422 with a pointer where there is one.
TEST(AuditQueryTest, MeaninglessIs422) {
  const std::vector<std::pair<Params, std::string>> cases = {
      {{{"limit", "0"}}, "/limit"},
      {{{"limit", "1001"}}, "/limit"},
      {{{"task", "../etc"}}, "/task"},
      {{{"type", "Download"}}, "/type"},
      {{{"type", "download,"}}, "/type"},
      {{{"outcome", "bogus"}}, "/outcome"},
      {{{"outcome", "Completed"}}, "/outcome"},
      {{{"actor", ""}}, "/actor"},
      {{{"since", "2025-03-02T00:00:00Z"}, {"until", "2025-03-01T00:00:00Z"}}, "/since"},
      {{{"status", "Failed"}}, ""},
  };
  for (const auto& [params, pointer] : cases) {
    Result<EventQuery> q = ParseAuditQuery(params);
    EXPECT_EQ(q.status().code(), StatusCode::kInvalidArgument) << params.begin()->first;
    EXPECT_EQ(q.status().pointer(), pointer) << params.begin()->first;
  }
}

}  // namespace
}  // namespace exportd::api
