// The audit trail against the real binary: every creation, cancellation, deletion, download and
// denied access is an event naming who (the principal, "link" for a pre-signed link, the
// instance for the scheduler), when and from where; GET /v1/audit lets an admin filter all of
// them; no route changes or removes an event.
#include <set>
#include <sstream>

#include "tests/integration/itest_support.h"

namespace exportd::itest {
namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

class AuditTest : public ExportdTest {
 protected:
  struct Key {
    std::string id;         // as `exportd keys list` shows it
    std::string secret;     // the bearer token
    std::string principal;  // the principal the server records (the audit's actor)
  };

  // `exportd keys create --name NAME --role ROLE`, and its id from `exportd keys list`.
  Key CreateKey(const std::string& name, const std::string& role) {
    CommandResult created =
        server_->RunCli({"keys", "create", "--name", name, "--role", role, "--config",
                         server_->config_path(), "--data-dir", server_->data_dir()});
    EXPECT_EQ(created.exit_code, 0) << created.out << created.err;
    CommandResult list = server_->RunCli(
        {"keys", "list", "--config", server_->config_path(), "--data-dir", server_->data_dir()});
    EXPECT_EQ(list.exit_code, 0) << list.err;
    Key key{"", Trim(created.out)};
    std::istringstream lines(list.out);
    for (std::string line; std::getline(lines, line);) {
      std::istringstream words(line);
      std::string id, key_name;
      words >> id >> key_name;
      if (key_name == name) key.id = id;
    }
    EXPECT_FALSE(key.id.empty()) << "keys list does not show " << name << ": " << list.out;
    key.principal = "key:" + key.id;
    return key;
  }

  std::unique_ptr<HttpClient> ClientWith(const std::string& token) const {
    return std::make_unique<HttpClient>(server_->host(), server_->port(), token);
  }

  // GET /v1/audit?QUERY as the admin: the items, with a gtest failure unless 200.
  Json Audit(const std::string& query) {
    HttpResponse res = api_->Get("/v1/audit?" + query);
    EXPECT_EQ(res.status, 200) << res.Describe();
    if (res.status != 200 || !res.json.contains("items")) return Json::array();
    return res.json["items"];
  }
};

// Every field of an audit event is present, with the right JSON type (null when it does not
// apply).
void ExpectEventShape(const Json& e) {
  for (const char* key : {"seq", "task_id", "at", "type", "from", "to", "actor", "remote", "file",
                          "bytes", "outcome", "detail"}) {
    EXPECT_TRUE(e.contains(key)) << key << " missing in " << e.dump();
  }
  EXPECT_TRUE(e["seq"].is_number_integer()) << e.dump();
  EXPECT_TRUE(ParseRfc3339Millis(e.value("at", "")).has_value()) << e.dump();
}

TEST_F(AuditTest, WhoWhenFromWhereWhichFileBytesAndOutcome) {
  ASSERT_TRUE(StartWithItems(2000, {{"workers", 1}, {"max_rows_per_second", 200}}));
  const Key alice = CreateKey("alice", "exporter");
  const Key bob = CreateKey("bob", "exporter");
  auto as_alice = ClientWith(alice.secret);
  auto as_bob = ClientWith(bob.secret);

  // A small export that finishes, downloaded through its link, then deleted.
  const std::string small =
      CreateExport(*as_alice, {{"dataset", "items"}, {"filter", {{"id", {{"lte", 20}}}}}});
  ASSERT_FALSE(small.empty());
  Json done = WaitForTerminal(*as_alice, small, seconds(30));
  ASSERT_EQ(done.value("status", ""), "Succeeded") << done.dump();
  ASSERT_FALSE(done["files"].empty()) << done.dump();
  const std::string file = done["files"][0].value("name", "");
  const int64_t file_bytes = done["files"][0].value("bytes", int64_t{-1});
  const std::string url = done["files"][0].value("url", "");
  HttpResponse got = as_alice->GetUrl(url);
  ASSERT_EQ(got.status, 200) << got.Describe();
  // The same link with a forged signature: refused, and recorded as a denied access.
  const std::string forged = url.substr(0, url.rfind('=') + 1) + std::string(64, '0');
  EXPECT_EQ(as_alice->GetUrl(forged).status, 403);

  // A large export, cancelled by alice while it waits or runs.
  const std::string large = CreateExport(*as_alice, {{"dataset", "items"}});
  ASSERT_FALSE(large.empty());
  HttpResponse cancel = as_alice->Send("POST", "/v1/exports/" + large + "/cancel", "", "");
  ASSERT_EQ(cancel.status, 202) << cancel.Describe();
  EXPECT_EQ(WaitForTerminal(*as_alice, large, seconds(30)).value("status", ""), "Cancelled");

  // OWASP API1 (BOLA): bob probes alice's task; 404 for him, a trail for the auditor.
  EXPECT_EQ(as_bob->Get("/v1/exports/" + small).status, 404);

  HttpResponse deleted = as_alice->Delete("/v1/exports/" + small);
  ASSERT_EQ(deleted.status, 204) << deleted.Describe();

  // Who: everything alice did, newest first, from where (the test talks over loopback).
  Json by_alice = Audit("actor=" + alice.principal);
  std::multiset<std::string> types;
  for (const Json& e : by_alice) {
    ExpectEventShape(e);
    types.insert(e.value("type", ""));
    EXPECT_EQ(e.value("actor", ""), alice.principal) << e.dump();
    EXPECT_EQ(e.value("remote", ""), "127.0.0.1") << e.dump();
  }
  EXPECT_EQ(types.count("created"), 2u) << by_alice.dump();
  EXPECT_EQ(types.count("files_deleted"), 1u) << by_alice.dump();
  EXPECT_EQ(types.count("cancel") + types.count("cancel_requested"), 1u) << by_alice.dump();
  ASSERT_FALSE(by_alice.empty());
  EXPECT_EQ(by_alice[0].value("type", ""), "files_deleted");  // the newest
  EXPECT_EQ(by_alice[0].value("task_id", ""), small);

  // Which file, how many bytes, how it ended: the downloads of the small task.
  Json downloads = Audit("type=download&task=" + small);
  ASSERT_EQ(downloads.size(), 2u) << downloads.dump();
  // By outcome, not position: a download is recorded once its last byte is sent, which may be
  // after the client has already sent the next request.
  const bool completed_first = downloads[0].value("outcome", "") == "completed";
  const Json& completed = downloads[completed_first ? 0 : 1];
  const Json& denied = downloads[completed_first ? 1 : 0];
  EXPECT_EQ(completed.value("file", ""), file);
  EXPECT_EQ(completed.value("bytes", int64_t{-1}), file_bytes);
  EXPECT_EQ(completed.value("outcome", ""), "completed");
  EXPECT_EQ(completed.value("actor", ""), "link");
  EXPECT_EQ(completed.value("remote", ""), "127.0.0.1");
  EXPECT_TRUE(ParseRfc3339Millis(completed.value("at", "")).has_value());
  EXPECT_EQ(denied.value("file", ""), file);
  EXPECT_EQ(denied.value("outcome", ""), "denied");
  EXPECT_TRUE(denied["bytes"].is_null()) << denied.dump();

  // The BOLA probe, by actor and type.
  Json probes = Audit("type=access_denied&actor=" + bob.principal);
  ASSERT_EQ(probes.size(), 1u) << probes.dump();
  EXPECT_EQ(probes[0].value("task_id", ""), small);
  EXPECT_EQ(probes[0].value("detail", ""), "read");

  // The scheduler's own transitions name the instance, not a principal.
  for (const Json& e : Audit("type=start,succeed&task=" + small)) {
    EXPECT_FALSE(e.value("actor", "").empty()) << e.dump();
    EXPECT_NE(e.value("actor", ""), alice.principal) << e.dump();
  }

  // Deleting the files kept the task's trail, and the task's own events show the same fields.
  HttpResponse events = as_alice->Get("/v1/exports/" + small + "/events");
  ASSERT_EQ(events.status, 200) << events.Describe();
  std::vector<std::string> own_types;
  for (const Json& e : events.json["items"]) {
    ExpectEventShape(e);
    own_types.push_back(e.value("type", ""));
  }
  ASSERT_GE(own_types.size(), 6u) << events.Describe();
  EXPECT_EQ(own_types.front(), "created");
  EXPECT_EQ(own_types.back(), "files_deleted");
}

// OWASP API5 (broken function level authorization): the audit trail is for admins only.
TEST_F(AuditTest, OnlyAdminsReadTheAuditTrail) {
  ASSERT_TRUE(StartWithItems(10));
  const Key reader = CreateKey("reader", "reader");
  const Key exporter = CreateKey("exporter", "exporter");
  for (const Key& key : {reader, exporter}) {
    HttpResponse res = ClientWith(key.secret)->Get("/v1/audit");
    EXPECT_EQ(res.status, 403) << res.Describe();
    EXPECT_TRUE(IsProblem(res));
    // A filter on oneself does not open it either.
    EXPECT_EQ(ClientWith(key.secret)->Get("/v1/audit?actor=" + key.principal).status, 403);
  }
  HttpResponse anonymous = api_->Send("GET", "/v1/audit", "", "", {}, /*with_auth=*/false);
  EXPECT_EQ(anonymous.status, 401) << anonymous.Describe();
  EXPECT_EQ(api_->Get("/v1/audit").status, 200);
}

// A HEAD through a download link sends no byte of the file: it is not a download and is not
// recorded as one (it used to be recorded as an "interrupted" download). A Range that cannot be
// satisfied (416) is a refused access and is recorded.
TEST_F(AuditTest, HeadIsNoDownloadAndUnsatisfiableRangeIsRecorded) {
  ASSERT_TRUE(StartWithItems(20));
  const std::string id = CreateExport(*api_, {{"dataset", "items"}});
  ASSERT_FALSE(id.empty());
  Json done = WaitForTerminal(*api_, id, seconds(30));
  ASSERT_EQ(done.value("status", ""), "Succeeded") << done.dump();
  const std::string url = done["files"][0].value("url", "");
  const std::string file = done["files"][0].value("name", "");
  const int64_t bytes = done["files"][0].value("bytes", int64_t{0});

  HttpResponse head = api_->Send("HEAD", HttpClient::PathOf(url), "", "", {}, /*with_auth=*/false);
  EXPECT_EQ(head.status, 200) << head.Describe();
  HttpResponse range = api_->GetUrl(url, {{"Range", "bytes=" + std::to_string(bytes + 10) + "-"}});
  EXPECT_EQ(range.status, 416) << range.Describe();
  // A completed download after both: once it is in the trail, so is everything before it.
  EXPECT_EQ(api_->GetUrl(url).status, 200);
  Json downloads;
  ASSERT_TRUE(WaitFor(
      [&] {
        downloads = Audit("type=download&task=" + id);
        for (const Json& e : downloads) {
          if (e.value("outcome", "") == "completed") return true;
        }
        return false;
      },
      seconds(10), milliseconds(20)));
  std::multiset<std::string> outcomes;
  for (const Json& e : downloads) outcomes.insert(e.value("outcome", ""));
  EXPECT_EQ(outcomes.count("interrupted"), 0u) << downloads.dump();
  EXPECT_EQ(outcomes.count("completed"), 1u) << downloads.dump();
  ASSERT_EQ(outcomes.count("range_not_satisfiable"), 1u) << downloads.dump();
  EXPECT_EQ(downloads.size(), 2u) << downloads.dump();
  for (const Json& e : downloads) {
    if (e.value("outcome", "") != "range_not_satisfiable") continue;
    EXPECT_EQ(e.value("file", ""), file);
    EXPECT_EQ(e.value("actor", ""), "link");
    EXPECT_TRUE(e["bytes"].is_null()) << e.dump();
  }
}

// A call beyond the caller's role on an export (a reader's cancel or delete, 403) leaves an
// access_denied row naming the caller, like a request for another principal's task.
TEST_F(AuditTest, RefusedCancelAndDeleteOfAReaderAreRecorded) {
  ASSERT_TRUE(StartWithItems(10));
  const Key reader = CreateKey("reader", "reader");
  const std::string id = CreateExport(*api_, {{"dataset", "items"}});
  ASSERT_FALSE(id.empty());
  auto as_reader = ClientWith(reader.secret);
  EXPECT_EQ(as_reader->Send("POST", "/v1/exports/" + id + "/cancel", "", "").status, 403);
  EXPECT_EQ(as_reader->Delete("/v1/exports/" + id).status, 403);
  Json denied = Audit("type=access_denied&task=" + id);
  ASSERT_EQ(denied.size(), 2u) << denied.dump();
  std::set<std::string> actions;
  for (const Json& e : denied) {
    ExpectEventShape(e);
    EXPECT_EQ(e.value("actor", ""), reader.principal) << e.dump();
    EXPECT_EQ(e.value("remote", ""), "127.0.0.1") << e.dump();
    EXPECT_EQ(e.value("outcome", ""), "denied") << e.dump();
    const std::string detail = e.value("detail", "");
    actions.insert(detail.substr(0, detail.find(':')));
  }
  EXPECT_EQ(actions, (std::set<std::string>{"cancel", "delete"}));
  // The refusal changed nothing: the task is not cancelled by it.
  EXPECT_TRUE(EventsOfType(GetEvents(*api_, id), "cancel_requested").empty());
}

TEST_F(AuditTest, BadParametersAreProblems) {
  ASSERT_TRUE(StartWithItems(10));
  const std::vector<std::pair<std::string, int>> cases = {
      {"since=yesterday", 400}, {"until=2025-02-30T00:00:00Z", 400},
      {"limit=many", 400},      {"cursor=abc", 400},
      {"actor=a&actor=b", 400}, {"limit=0", 422},
      {"limit=1001", 422},      {"task=not-an-id", 422},
      {"colour=red", 422},      {"since=2025-03-02T00:00:00Z&until=2025-03-01T00:00:00Z", 422},
  };
  for (const auto& [query, status] : cases) {
    HttpResponse res = api_->Get("/v1/audit?" + query);
    EXPECT_EQ(res.status, status) << query << ": " << res.Describe();
    EXPECT_TRUE(IsProblem(res)) << query;
  }
  HttpResponse since = api_->Get("/v1/audit?since=yesterday");
  ASSERT_TRUE(since.json.contains("errors")) << since.Describe();
  EXPECT_EQ(since.json["errors"][0].value("pointer", ""), "/since") << since.Describe();
}

TEST_F(AuditTest, PaginationWalksEveryRowExactlyOnce) {
  ASSERT_TRUE(StartWithItems(10));
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(CreateExport(*api_, {{"dataset", "items"}}));
  for (const std::string& id : ids) WaitForTerminal(*api_, id, seconds(30));

  Json all = Audit("limit=1000");
  ASSERT_GE(all.size(), 12u) << all.dump();  // created, start, checkpoint..., succeed per task
  std::vector<int64_t> expected;
  for (const Json& e : all) expected.push_back(e.value("seq", int64_t{0}));
  EXPECT_TRUE(std::is_sorted(expected.rbegin(), expected.rend())) << "not newest first";

  std::vector<int64_t> walked;
  std::string query = "limit=5";
  for (int pages = 0; pages < 100; ++pages) {
    HttpResponse res = api_->Get("/v1/audit?" + query);
    ASSERT_EQ(res.status, 200) << res.Describe();
    for (const Json& e : res.json["items"]) walked.push_back(e.value("seq", int64_t{0}));
    if (res.json["next_cursor"].is_null()) break;
    EXPECT_EQ(res.json["items"].size(), 5u);
    query = "limit=5&cursor=" + res.json["next_cursor"].get<std::string>();
  }
  EXPECT_EQ(walked, expected);
}

// Append-only through the API: no method may change or remove audit rows.
TEST_F(AuditTest, AuditRowsCannotBeChangedThroughTheApi) {
  ASSERT_TRUE(StartWithItems(10));
  const std::string id = CreateExport(*api_, {{"dataset", "items"}});
  WaitForTerminal(*api_, id, seconds(30));
  const size_t before = Audit("limit=1000").size();
  for (const char* method : {"DELETE", "PUT", "PATCH", "POST"}) {
    HttpResponse res = api_->Send(method, "/v1/audit", "{}", "application/json");
    EXPECT_EQ(res.status, 405) << method << ": " << res.Describe();
    EXPECT_EQ(res.Header("Allow"), "GET, HEAD") << method;
    EXPECT_TRUE(IsProblem(res)) << method;
  }
  // Nor does deleting a task's files remove its events (it adds one).
  ASSERT_EQ(api_->Delete("/v1/exports/" + id).status, 204);
  EXPECT_EQ(Audit("limit=1000").size(), before + 1);
}

// Client addresses: the peer address by default, whatever X-Forwarded-For claims; the header's
// last entry (the trusted proxy's) only when trust_forwarded_for is configured.
TEST_F(AuditTest, ForwardedForIsIgnoredUnlessTrusted) {
  ASSERT_TRUE(StartWithItems(10));
  const HeaderList spoof = {{"X-Forwarded-For", "203.0.113.66"}};
  HttpResponse created = api_->PostJson("/v1/exports", {{"dataset", "items"}}, spoof);
  ASSERT_EQ(created.status, 202) << created.Describe();
  Json events = Audit("type=created&task=" + created.json.value("id", ""));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].value("remote", ""), "127.0.0.1");
}

TEST_F(AuditTest, TrustedProxyAddressIsTheLastForwardedForEntry) {
  ASSERT_TRUE(StartWithItems(10, {{"trust_forwarded_for", true}}));
  const HeaderList forwarded = {{"X-Forwarded-For", "198.51.100.1, 203.0.113.7"}};
  HttpResponse created = api_->PostJson("/v1/exports", {{"dataset", "items"}}, forwarded);
  ASSERT_EQ(created.status, 202) << created.Describe();
  Json events = Audit("remote=203.0.113.7");
  ASSERT_EQ(events.size(), 1u) << events.dump();
  EXPECT_EQ(events[0].value("type", ""), "created");
  EXPECT_EQ(events[0].value("task_id", ""), created.json.value("id", ""));
}

}  // namespace
}  // namespace exportd::itest
