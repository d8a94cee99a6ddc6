// Proofs against the OWASP API Security Top 10 (2023), on the real binary over HTTP. What other
// suites already prove is not repeated here (see the inventory in each test's comment):
//   auth_test       API2 missing/malformed credentials, revocation on GET /v1/exports; API1
//                   another principal's task is 404; API5 roles on a few routes
//   oauth_test      API2 JWTs (expired, forged, alg none)      limits_test  API4
//   download_test   tampered signature/expiry, another file's or task's link, expiry
//   notification_test / outbound_policy_test  API7 SSRF        tls_test     API8 TLS
//   sql_query_test  hostile identifiers and values in the compiled SQL (unit level)
// This suite adds: every documented route (read from the served openapi.yaml, so a new route
// is covered the day it is documented) against no, revoked, query-string, wrong-role and
// another principal's credentials; undocumented routes and methods; server-owned properties;
// download links genuinely signed (with the data dir's own secret) for hostile file names; and
// SQL metacharacters in every position of a request, end to end, with the exported rows
// compared with rows computed here and the source checked intact afterwards.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "tests/integration/itest_support.h"

namespace exportd::itest {
namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// Every byte but the unreserved ones as %XX.
std::string PercentEncode(const std::string& s) {
  static const char* const kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string HmacHex(const std::string& key, const std::string& message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len);
  static const char* const kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 15];
  }
  return out;
}

// One operation of openapi.yaml.
struct SpecOperation {
  std::string method;         // upper case
  std::string path;           // template: /v1/exports/{id}
  bool is_public = false;     // "security: []"
  bool role_limited = false;  // documents 403 RoleForbidden: a reader key may not call it
};

// The operations under `paths:` of the served document. A line-based reader of the layout
// openapi.yaml keeps (two-space indentation: paths at 2, methods at 4, their keys at 6+).
std::vector<SpecOperation> ParseSpecOperations(const std::string& yaml) {
  static const std::set<std::string> kMethods = {"get",    "post", "put",    "patch",
                                                 "delete", "head", "options"};
  std::vector<SpecOperation> ops;
  std::istringstream in(yaml);
  bool in_paths = false;
  std::string path;
  SpecOperation* op = nullptr;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.find_first_not_of(' ') == std::string::npos) continue;
    const size_t indent = line.find_first_not_of(' ');
    if (indent == 0) {
      in_paths = line == "paths:";
      op = nullptr;
      continue;
    }
    if (!in_paths) continue;
    const std::string text = line.substr(indent);
    if (indent == 2 && text.rfind("/", 0) == 0 && text.back() == ':') {
      path = text.substr(0, text.size() - 1);
      op = nullptr;
    } else if (indent == 4) {
      op = nullptr;
      const std::string key = text.substr(0, text.find(':'));
      if (kMethods.count(key) && !path.empty()) {
        std::string upper = key;
        for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        ops.push_back({upper, path});
        op = &ops.back();
      }
    } else if (op != nullptr && indent > 4) {
      if (indent == 6 && text == "security: []") op->is_public = true;
      if (text.find("#/components/responses/RoleForbidden") != std::string::npos) {
        op->role_limited = true;
      }
    }
  }
  return ops;
}

// A documented path with its variables filled: {id} with the task or, on schedule routes, the
// schedule; {name} with the dataset on dataset routes, else a file name; {partition} likewise.
std::string Fill(const std::string& tmpl, const std::string& task_id,
                 const std::string& schedule_id, const std::string& import_id = "") {
  const bool schedule = tmpl.rfind("/v1/schedules", 0) == 0;
  const bool import = tmpl.rfind("/v1/imports", 0) == 0;
  const bool dataset = tmpl.rfind("/v1/datasets", 0) == 0;
  std::string out = tmpl;
  for (const auto& [var, value] :
       {std::pair<std::string, std::string>{"{id}", schedule                       ? schedule_id
                                                    : import && !import_id.empty() ? import_id
                                                                                   : task_id},
        {"{name}", dataset ? "items" : "part-00001.csv"},
        {"{partition}", "north"},
        {"{file}", "app.js"}}) {
    for (size_t pos; (pos = out.find(var)) != std::string::npos;)
      out.replace(pos, var.size(), value);
  }
  return out;
}

// A body that the operation accepts from a caller allowed to make it, so that a refusal is
// about the caller; empty for operations without a body.
// `own_export`: a Succeeded export of the caller's, for an import from it.
std::string BodyFor(const std::string& method, const std::string& tmpl,
                    const std::string& own_export = "") {
  if (method == "POST" && tmpl == "/v1/exports") return Json{{"dataset", "items"}}.dump();
  if (method == "POST" && tmpl == "/v1/imports") {
    return Json{{"dataset", "items"}, {"from_export", own_export}, {"on_conflict", "skip"}}.dump();
  }
  if (method == "POST" && tmpl == "/v1/schedules") {
    return Json{{"name", "probe"}, {"cron", "0 3 * * *"}, {"request", {{"dataset", "items"}}}}
        .dump();
  }
  if (method == "POST" && tmpl == "/v1/schedules/preview") {
    return Json{{"cron", "0 * * * *"}, {"from", "2026-01-01T00:00:00Z"}, {"count", 2}}.dump();
  }
  if (method == "PATCH") return Json{{"enabled", false}}.dump();
  if (method == "PUT") return Json{{"watermark", "2026-01-01T00:00:00Z"}}.dump();
  return "";
}

class OwaspTest : public ExportdTest {
 protected:
  std::string CreateKey(const std::string& name, const std::string& role) {
    CommandResult r = server_->RunCli({"keys", "create", "--name", name, "--role", role, "--config",
                                       server_->config_path(), "--data-dir", server_->data_dir()});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return Trim(r.out);
  }
  void RevokeKey(const std::string& name) {
    CommandResult list = server_->RunCli(
        {"keys", "list", "--config", server_->config_path(), "--data-dir", server_->data_dir()});
    std::string id;
    std::istringstream lines(list.out);
    for (std::string line; std::getline(lines, line);) {
      std::vector<std::string> cols;
      std::istringstream fields(line);
      for (std::string c; std::getline(fields, c, '\t');) cols.push_back(c);
      if (cols.size() > 1 && cols[1] == name) id = cols[0];
    }
    ASSERT_FALSE(id.empty()) << "no key named " << name << " in: " << list.out;
    CommandResult revoked =
        server_->RunCli({"keys", "revoke", id, "--config", server_->config_path(), "--data-dir",
                         server_->data_dir()});
    ASSERT_EQ(revoked.exit_code, 0) << revoked.out << revoked.err;
  }
  HttpClient ClientWith(const std::string& key) const {
    return HttpClient(server_->host(), server_->port(), key);
  }
  HttpResponse Anonymous(const std::string& method, const std::string& path,
                         const HeaderList& headers = {}) const {
    return api_->Send(method, path, "", "", headers, /*with_auth=*/false);
  }
};

// ---- API1, API2, API5, API9: every documented route -----------------------------------------

// API2:2023 broken authentication, API5:2023 broken function level authorization, API1:2023
// broken object level authorization, API9:2023 improper inventory management. The routes come
// from the served openapi.yaml: a route documented tomorrow is probed tomorrow, and a route
// documented as public (security: []) must be one of the exempt ones of the contract.
TEST_F(OwaspTest, API1_API2_API5_EveryDocumentedRouteRefusesTheWrongCaller) {
  // items importable, so that the import routes are probed with real imports.
  Json items = ItemsDatasetConfig("items", source_path());
  items["importable"] = true;
  ASSERT_TRUE(StartWithItems(20, Json{{"datasets", Json::array({items})}}));
  const std::string alice_key = CreateKey("alice", "exporter");
  const std::string bob_key = CreateKey("bob", "exporter");
  const std::string reader_key = CreateKey("reader", "reader");
  const std::string revoked_key = CreateKey("revoked", "exporter");
  ASSERT_FALSE(alice_key.empty() || bob_key.empty() || reader_key.empty() || revoked_key.empty());
  HttpClient alice = ClientWith(alice_key);
  HttpClient bob = ClientWith(bob_key);
  HttpClient reader = ClientWith(reader_key);
  HttpClient revoked = ClientWith(revoked_key);
  ASSERT_EQ(revoked.Get("/v1/exports").status, 200) << "the key works before it is revoked";
  RevokeKey("revoked");

  const std::string secret_tag = "alice-private-tag-4b1d";
  // A request nobody else makes, so that its query_hash is Alice's alone.
  const std::string a =
      CreateExport(alice, {{"dataset", "items"}, {"tag", secret_tag}, {"max_rows_per_file", 777}});
  ASSERT_FALSE(a.empty());
  const Json a_done = WaitForTerminal(alice, a, seconds(30));
  const HttpResponse a_schedule = alice.PostJson(
      "/v1/schedules", Json{{"name", "alice-nightly"},
                            {"cron", "0 3 * * *"},
                            {"request", {{"dataset", "items"}, {"tag", secret_tag}}}});
  ASSERT_EQ(a_schedule.status, 201) << a_schedule.Describe();
  const std::string s = a_schedule.json.value("id", "");
  ASSERT_EQ(a_done.value("status", ""), "Succeeded") << a_done.dump();
  // Alice imports her export back (every row is there already: all skipped); Bob has an export
  // of his own to import from.
  const HttpResponse a_import = alice.PostJson(
      "/v1/imports", Json{{"dataset", "items"}, {"from_export", a}, {"on_conflict", "skip"}});
  ASSERT_EQ(a_import.status, 202) << a_import.Describe();
  const std::string imp = a_import.json.value("id", "");
  const std::string b = CreateExport(bob, {{"dataset", "items"}});
  ASSERT_FALSE(b.empty());
  ASSERT_EQ(WaitForTerminal(bob, b, seconds(30)).value("status", ""), "Succeeded");
  const std::string a_hash = a_done.value("query_hash", "");
  const std::string a_sha = a_done["files"][0].value("sha256", "");
  ASSERT_FALSE(a_hash.empty() || a_sha.empty());
  size_t a_changes = 0;
  for (const Json& e : GetEvents(alice, a)) a_changes += e.contains("to") && !e["to"].is_null();
  // Nothing of Alice's may show in an answer to anyone else (the id itself may: it is in the
  // problem's "instance", the path the caller sent).
  auto expect_no_leak = [&](const HttpResponse& res, const std::string& who) {
    for (const std::string& secret : {secret_tag, a_hash, alice_key}) {
      EXPECT_EQ(res.body.find(secret), std::string::npos)
          << who << " saw Alice's data (" << secret << "): " << res.Describe();
    }
  };

  const HttpResponse spec = Anonymous("GET", "/openapi.yaml");
  ASSERT_EQ(spec.status, 200) << spec.Describe();
  const std::vector<SpecOperation> ops = ParseSpecOperations(spec.body);
  std::set<std::string> seen;
  for (const auto& op : ops) seen.insert(op.method + " " + op.path);
  for (const char* must :
       {"POST /v1/exports", "GET /v1/exports", "GET /v1/exports/{id}", "DELETE /v1/exports/{id}",
        "POST /v1/exports/{id}/cancel", "GET /v1/exports/{id}/events",
        "GET /v1/exports/{id}/files/{name}", "GET /v1/datasets", "GET /healthz", "GET /readyz"}) {
    ASSERT_TRUE(seen.count(must)) << "the spec reader missed " << must
                                  << "; read: " << ::testing::PrintToString(seen);
  }
  // The contract's exempt routes (API.md "Authentication"); any other public one is a finding.
  const std::set<std::string> exempt = {"/healthz",
                                        "/readyz",
                                        "/metrics",
                                        "/openapi.yaml",
                                        "/",
                                        "/ui/{file}",
                                        "/v1/exports/{id}/files/{name}"};

  for (const SpecOperation& op : ops) {
    const std::string path = Fill(op.path, a, s, imp);
    const bool has_id = op.path.find("{id}") != std::string::npos;
    SCOPED_TRACE(op.method + " " + op.path + " -> " + path);
    const std::string body = BodyFor(op.method, op.path, b);
    const std::string type = body.empty() ? "" : "application/json";
    auto as = [&](const HttpClient& who, const HeaderList& headers = {}, bool auth = true,
                  const std::string& p = "") {
      return who.Send(op.method, p.empty() ? path : p, body, type, headers, auth);
    };

    if (op.is_public) {
      EXPECT_TRUE(exempt.count(op.path)) << "documented as needing no credentials";
      if (op.path.find("/files/") != std::string::npos) {
        // The signature is the credential; a bearer key does not replace it.
        for (const HttpResponse& res : {as(alice, {}, false), as(alice), as(bob)}) {
          EXPECT_EQ(res.status, 403) << res.Describe();
          EXPECT_TRUE(IsProblem(res));
          EXPECT_NE(Sha256Hex(res.body), a_sha);
        }
      } else if (op.method == "GET") {
        const HttpResponse res = as(alice, {}, false);
        EXPECT_EQ(res.status, 200) << res.Describe();
        expect_no_leak(res, "an anonymous caller");
        EXPECT_EQ(res.body.find(a), std::string::npos) << "a task id on a public route";
      }
      continue;
    }

    // API2: no credentials, a revoked key, a key in the query string instead of the header.
    const std::string sep = path.find('?') == std::string::npos ? "?" : "&";
    const std::vector<std::pair<std::string, HttpResponse>> unauthenticated = {
        {"no credentials", as(alice, {}, false)},
        {"revoked key", as(revoked)},
        {"key as ?api_key=", as(alice, {}, false, path + sep + "api_key=" + alice_key)},
        {"key as ?access_token=", as(alice, {}, false, path + sep + "access_token=" + alice_key)},
        {"key in a cookie", as(alice, {{"Cookie", "token=" + alice_key}}, false)},
        {"key with %00 and more appended",
         as(alice, {{"Authorization", "Bearer " + alice_key + "%00more"}}, false)},
    };
    for (const auto& [what, res] : unauthenticated) {
      EXPECT_EQ(res.status, 401) << what << ": " << res.Describe();
      EXPECT_EQ(res.Header("WWW-Authenticate").rfind("Bearer", 0), 0u) << what;
      EXPECT_TRUE(IsProblem(res)) << what;
      expect_no_leak(res, what);
    }

    // API5: a reader key on an operation documented as beyond its role.
    const HttpResponse by_reader = as(reader);
    if (op.role_limited) {
      EXPECT_EQ(by_reader.status, 403) << by_reader.Describe();
      EXPECT_TRUE(IsProblem(by_reader));
    } else {
      EXPECT_NE(by_reader.status, 403) << "documented as open to readers: " << by_reader.Describe();
      EXPECT_NE(by_reader.status, 401) << by_reader.Describe();
      if (has_id) {
        EXPECT_EQ(by_reader.status, 404) << "another principal's task";
      }
    }
    expect_no_leak(by_reader, "a reader");

    // API1: another principal with the same role. An operation documented as role-limited may
    // be for admins only (the spec does not name the role in a machine-readable way): an
    // exporter then gets the RoleForbidden problem naming 'admin'.
    const HttpResponse by_bob = as(bob);
    const bool admin_only = op.role_limited && by_bob.status == 403;
    if (admin_only) {
      EXPECT_NE(by_bob.json.value("detail", "").find("'admin'"), std::string::npos)
          << by_bob.Describe();
    } else if (has_id) {
      EXPECT_EQ(by_bob.status, 404) << by_bob.Describe();
      EXPECT_TRUE(IsProblem(by_bob));
    } else {
      EXPECT_LT(by_bob.status, 300) << by_bob.Describe();
      EXPECT_EQ(by_bob.body.find(a), std::string::npos) << "Alice's task id: " << by_bob.Describe();
    }
    expect_no_leak(by_bob, "Bob");

    // The owner (or, for an admin-only route, an admin) can read: so the refusals above are
    // about the caller, not a broken route.
    if (op.method == "GET") {
      const HttpResponse by_owner = admin_only ? as(*api_) : as(alice);
      EXPECT_EQ(by_owner.status, 200) << by_owner.Describe();
    }
  }

  // Nothing happened to Alice's task: not cancelled, files kept, no transition or deletion
  // (refused attempts may be recorded as audit events: those are allowed).
  auto changes = [&] {
    size_t n = 0;
    for (const Json& e : GetEvents(alice, a)) {
      const std::string type = e.value("type", "");
      n += (e.contains("to") && !e["to"].is_null()) || type == "files_deleted" ||
           type.find("cancel") != std::string::npos;
    }
    return n;
  };
  const Json after = GetTask(alice, a);
  EXPECT_EQ(after.value("status", ""), "Succeeded");
  EXPECT_FALSE(after.value("cancel_requested", true));
  EXPECT_EQ(after["files"].size(), a_done["files"].size()) << after.dump();
  EXPECT_EQ(after.value("tag", ""), secret_tag);
  EXPECT_EQ(changes(), a_changes) << GetEvents(alice, a).dump();
}

// API9:2023 improper inventory management, API8:2023 security misconfiguration: routes that
// are not documented do not exist (no debug, admin or older-version routes), and methods a path
// does not document are 405 with Allow, whoever asks (the admin too).
TEST_F(OwaspTest, API8_API9_UndocumentedRoutesAndMethodsDoNotExist) {
  ASSERT_TRUE(StartWithItems(5));
  const std::string id = CreateExport(*api_, {{"dataset", "items"}});
  ASSERT_FALSE(id.empty());
  WaitForTerminal(*api_, id, seconds(30));
  const HttpResponse schedule = api_->PostJson(
      "/v1/schedules",
      Json{{"name", "n"}, {"cron", "0 3 * * *"}, {"request", {{"dataset", "items"}}}});
  ASSERT_EQ(schedule.status, 201) << schedule.Describe();
  for (const std::string& path :
       {std::string("/v1/keys"), std::string("/v1/admin"), std::string("/admin"),
        std::string("/debug"), std::string("/debug/pprof"), std::string("/v0/exports"),
        std::string("/v2/exports"), std::string("/v1/exports/") + id + "/files",
        std::string("/v1/exports/") + id + "/manifest", std::string("/v1/tasks"),
        std::string("/.env"), std::string("/exportd.db"), std::string("/url_secret"),
        std::string("/data/exportd.db"),
        std::string("/v1/exports/") + id + "/files/..%2furl_secret"}) {
    for (bool auth : {false, true}) {
      const HttpResponse res = api_->Send("GET", path, "", "", {}, auth);
      EXPECT_EQ(res.status, 404) << (auth ? "admin: " : "anonymous: ") << res.Describe();
      EXPECT_TRUE(IsProblem(res)) << path;
    }
  }
  const std::vector<SpecOperation> ops =
      ParseSpecOperations(Anonymous("GET", "/openapi.yaml").body);
  ASSERT_FALSE(ops.empty());
  std::map<std::string, std::set<std::string>> methods;
  for (const auto& op : ops) methods[op.path].insert(op.method);
  for (const auto& [tmpl, documented] : methods) {
    const std::string path = Fill(tmpl, id, schedule.json.value("id", ""));
    for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
      if (documented.count(method)) continue;
      for (bool auth : {false, true}) {
        const HttpResponse res = api_->Send(method, path, "{}", "application/json", {}, auth);
        EXPECT_EQ(res.status, 405) << method << " " << path << ": " << res.Describe();
        EXPECT_FALSE(res.Header("Allow").empty()) << method << " " << path;
      }
    }
  }
  // TRACE would echo the Authorization header back (cross-site tracing).
  const HttpResponse trace = api_->Send("TRACE", "/v1/exports", "", "");
  EXPECT_GE(trace.status, 400) << trace.Describe();
  EXPECT_EQ(trace.body.find(server_->admin_key()), std::string::npos) << trace.Describe();
  // No CORS grant to an arbitrary origin.
  const HttpResponse cors = api_->Get("/v1/exports", {{"Origin", "https://evil.example"}});
  EXPECT_EQ(cors.status, 200);
  EXPECT_EQ(cors.Header("Access-Control-Allow-Origin"), "") << "CORS granted to any origin";
  EXPECT_EQ(cors.Header("Access-Control-Allow-Credentials"), "");
}

// API8:2023 security misconfiguration: answers carry per-principal data (tasks, signed links,
// problems), so no shared cache may store them and no browser may sniff them into HTML; a
// download keeps exactly its own private caching rule.
TEST_F(OwaspTest, API8_AnswersAreNotCachedOrSniffed) {
  ASSERT_TRUE(StartWithItems(5));
  const std::string id = CreateExport(*api_, {{"dataset", "items"}});
  ASSERT_FALSE(id.empty());
  const Json task = WaitForTerminal(*api_, id, seconds(30));
  for (const HttpResponse& res :
       {api_->Get("/v1/exports/" + id), api_->Get("/v1/exports"),
        api_->Get("/v1/exports/no-such-task"), Anonymous("GET", "/v1/exports")}) {
    EXPECT_EQ(res.headers.count("Cache-Control"), 1u) << res.Describe();
    EXPECT_EQ(res.Header("Cache-Control"), "no-store") << res.Describe();
    EXPECT_EQ(res.Header("X-Content-Type-Options"), "nosniff") << res.Describe();
  }
  ASSERT_FALSE(task["files"].empty()) << task.dump();
  const HttpResponse file = api_->GetUrl(task["files"][0].value("url", ""));
  ASSERT_EQ(file.status, 200) << file.Describe();
  EXPECT_EQ(file.headers.count("Cache-Control"), 1u) << file.Describe();
  EXPECT_EQ(file.Header("Cache-Control"), "private, max-age=0");
  EXPECT_EQ(file.Header("X-Content-Type-Options"), "nosniff");
}

// ---- API1: object level authorization beyond plain lookups ---------------------------------

// API1:2023 broken object level authorization: a principal's filters, cursors and idempotency
// keys never reach another principal's tasks, and a 404 for another's task is the same answer
// as for a task that does not exist (no existence oracle).
TEST_F(OwaspTest, API1_FiltersCursorsAndIdempotencyKeysStayWithinThePrincipal) {
  ASSERT_TRUE(StartWithItems(10));
  HttpClient alice = ClientWith(CreateKey("alice", "exporter"));
  HttpClient bob = ClientWith(CreateKey("bob", "exporter"));
  const HeaderList idem = {{"Idempotency-Key", "shared-key-1"}};
  const Json body = {{"dataset", "items"}, {"tag", "same"}};
  const HttpResponse a_created = alice.PostJson("/v1/exports", body, idem);
  ASSERT_EQ(a_created.status, 202) << a_created.Describe();
  const std::string a = a_created.json.value("id", "");
  std::vector<std::string> alice_ids = {a};
  for (int i = 0; i < 3; ++i) alice_ids.push_back(CreateExport(alice, {{"dataset", "items"}}));
  for (const auto& id : alice_ids) WaitForTerminal(alice, id, seconds(30));

  // The same Idempotency-Key and body from Bob is Bob's own new task, not a replay of Alice's.
  const HttpResponse b_created = bob.PostJson("/v1/exports", body, idem);
  EXPECT_EQ(b_created.status, 202)
      << "Alice's idempotent replay answered Bob: " << b_created.Describe();
  const std::string b = b_created.json.value("id", "");
  EXPECT_NE(b, a);
  EXPECT_EQ(alice.PostJson("/v1/exports", body, idem).json.value("id", ""), a)
      << "Alice still gets her replay";

  // Bob's list, with every filter, shows Bob's task only, whatever he filters by.
  const std::string a_hash = GetTask(alice, a).value("query_hash", "");
  for (const std::string& query : std::vector<std::string>{
           "", "?status=Succeeded", "?dataset=items", "?query_hash=" + a_hash, "?limit=200",
           "?dataset=" + PercentEncode("items' OR '1'='1"),
           "?query_hash=" + PercentEncode("' OR 1=1 --"),
           "?dataset=" + PercentEncode("\" OR 1=1 --"), "?dataset=%25", "?dataset=_____"}) {
    const HttpResponse res = bob.Get("/v1/exports" + query);
    ASSERT_TRUE(res.status == 200 || res.status == 400 || res.status == 422) << res.Describe();
    for (const auto& id : alice_ids) {
      EXPECT_EQ(res.body.find(id), std::string::npos) << query << ": " << res.Describe();
    }
  }
  // Alice's cursor in Bob's hands pages through Bob's tasks, not hers.
  const HttpResponse page = alice.Get("/v1/exports?limit=1");
  ASSERT_TRUE(page.json["next_cursor"].is_string()) << page.Describe();
  const HttpResponse with_cursor =
      bob.Get("/v1/exports?limit=200&cursor=" + page.json["next_cursor"].get<std::string>());
  EXPECT_TRUE(with_cursor.status == 200 || with_cursor.status == 400) << with_cursor.Describe();
  for (const auto& id : alice_ids) EXPECT_EQ(with_cursor.body.find(id), std::string::npos);

  // No existence oracle: Alice's task and a task that never existed look the same to Bob.
  const std::string unknown = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
  for (const std::string& suffix :
       {std::string(""), std::string("/events"), std::string("/cancel")}) {
    const std::string method = suffix == "/cancel" ? "POST" : "GET";
    HttpResponse theirs = bob.Send(method, "/v1/exports/" + a + suffix, "", "");
    HttpResponse none = bob.Send(method, "/v1/exports/" + unknown + suffix, "", "");
    EXPECT_EQ(theirs.status, 404);
    EXPECT_EQ(none.status, 404);
    std::string detail = theirs.json.value("detail", "");
    for (size_t pos; (pos = detail.find(a)) != std::string::npos;)
      detail.replace(pos, a.size(), unknown);
    EXPECT_EQ(detail, none.json.value("detail", "")) << suffix;
  }
}

// ---- API3: object property level authorization ----------------------------------------------

// API3:2023 broken object property level authorization: a client cannot set what the server
// owns (mass assignment), and answers carry no property the caller should not see.
TEST_F(OwaspTest, API3_ServerOwnedPropertiesCannotBeSetAndSecretsAreNeverShown) {
  ASSERT_TRUE(StartWithItems(10));
  const std::string alice_key = CreateKey("alice", "exporter");
  HttpClient alice = ClientWith(alice_key);
  const std::vector<std::pair<std::string, Json>> owned = {
      {"id", "01ARZ3NDEKTSV4RRFFQ69G5FAV"},
      {"status", "Succeeded"},
      {"principal", "admin"},
      {"owner", "admin"},
      {"role", "admin"},
      {"attempts", 0},
      {"max_attempts", 1000},
      {"files", Json::array({{{"name", "../../exportd.db"}}})},
      {"query_hash", std::string(64, '0')},
      {"created_at", "2000-01-01T00:00:00Z"},
      {"cancel_requested", true},
      {"links", {{"self", "https://evil.example/"}}},
      {"progress", {{"rows", 1}}},
  };
  for (const auto& [member, value] : owned) {
    Json body = {{"dataset", "items"}};
    body[member] = value;
    const HttpResponse res = alice.PostJson("/v1/exports", body);
    EXPECT_TRUE(res.status == 400 || res.status == 422) << member << ": " << res.Describe();
    EXPECT_TRUE(IsProblem(res)) << member;
    if (value.is_string()) {
      const HttpResponse q = alice.Send(
          "POST",
          "/v1/exports?dataset=items&" + member + "=" + PercentEncode(value.get<std::string>()), "",
          "");
      EXPECT_TRUE(q.status == 400 || q.status == 422)
          << member << " (query form): " << q.Describe();
    }
  }
  EXPECT_TRUE(alice.Get("/v1/exports").json["items"].empty()) << "a refused request made a task";

  // What the owner sees: no key material, no server paths, no principal ids of keys.
  const std::string id = CreateExport(alice, {{"dataset", "items"}});
  const Json task = WaitForTerminal(alice, id, seconds(30));
  ASSERT_EQ(task.value("status", ""), "Succeeded");
  const std::string url_secret = Trim(ReadFileOrEmpty(server_->data_dir() + "/url_secret"));
  ASSERT_FALSE(url_secret.empty());
  const std::vector<HttpResponse> answers = {alice.Get("/v1/exports/" + id),
                                             alice.Get("/v1/exports"),
                                             alice.Get("/v1/exports/" + id + "/events"),
                                             alice.Get("/v1/datasets"),
                                             Anonymous("GET", "/metrics"),
                                             Anonymous("GET", "/readyz"),
                                             alice.Get("/v1/exports/01ARZ3NDEKTSV4RRFFQ69G5FAV")};
  for (const HttpResponse& res : answers) {
    for (const std::string& secret : {alice_key, server_->admin_key(), url_secret,
                                      Sha256Hex(alice_key), server_->data_dir(), source_path()}) {
      EXPECT_EQ(res.body.find(secret), std::string::npos)
          << res.request_line << " shows " << secret << ": " << res.Describe();
    }
  }
  for (const char* internal : {"principal", "owner", "lease", "instance", "idempotency"}) {
    EXPECT_FALSE(task.contains(internal)) << internal << " in " << task.dump();
  }
}

// ---- API4: unrestricted resource consumption (what limits_test does not cover) ------------

TEST_F(OwaspTest, API4_RequestSizesAreBounded) {
  ASSERT_TRUE(StartWithItems(5));
  Json many_in = Json::array();
  for (int i = 0; i < 100000; ++i) many_in.push_back(i);
  Json many_parts = Json::array();
  for (int i = 0; i < 100000; ++i) many_parts.push_back("p" + std::to_string(i));
  Json many_fields = Json::array();
  for (int i = 0; i < 100000; ++i) many_fields.push_back("id");
  const std::vector<std::pair<std::string, Json>> cases = {
      {"'in' with 100000 values", {{"dataset", "items"}, {"filter", {{"qty", {{"in", many_in}}}}}}},
      {"100000 partitions", {{"dataset", "items"}, {"partitions", many_parts}}},
      {"100000 fields", {{"dataset", "items"}, {"fields", many_fields}}},
  };
  for (const auto& [what, body] : cases) {
    const HttpResponse res = api_->PostJson("/v1/exports", body);
    EXPECT_TRUE(res.status == 400 || res.status == 413 || res.status == 422)
        << what << ": " << res.Describe().substr(0, 400);
    EXPECT_TRUE(IsProblem(res)) << what;
  }
  std::string in_query = "/v1/exports?dataset=items&filter.qty.in=";
  for (int i = 0; i < 5000; ++i) in_query += (i ? "," : "") + std::to_string(i);
  const HttpResponse q = api_->Send("POST", in_query, "", "");
  EXPECT_TRUE(q.status == 400 || q.status == 414 || q.status == 422) << q.Describe().substr(0, 400);
  EXPECT_TRUE(api_->Get("/v1/exports").json["items"].empty());
}

// ---- Downloads: signed for hostile names ---------------------------------------------------

// API1/API2 on the signed download route, defence in depth: links genuinely signed with the
// server's own secret (read from the data dir, as an attacker who stole it would) for names
// that try to leave the task's directory, or a NUL, an absolute path, encoded dots: none of
// them serves anything but the task's own files.
TEST_F(OwaspTest, API1_SignedLinksForHostileFileNamesServeNothing) {
  ASSERT_TRUE(StartWithItems(10));
  const std::string id = CreateExport(*api_, {{"dataset", "items"}});
  const Json task = WaitForTerminal(*api_, id, seconds(30));
  ASSERT_EQ(task.value("status", ""), "Succeeded");
  const std::string secret = Trim(ReadFileOrEmpty(server_->data_dir() + "/url_secret"));
  ASSERT_EQ(secret.size(), 64u);
  const int64_t expires = *UnixNowSeconds() + 3600;
  auto signed_path = [&](const std::string& task_id, const std::string& name) {
    return "/v1/exports/" + PercentEncode(task_id) + "/files/" + PercentEncode(name) +
           "?expires=" + std::to_string(expires) +
           "&signature=" + HmacHex(secret, task_id + "\n" + name + "\n" + std::to_string(expires));
  };
  // The forgery is right: the genuine name with it downloads.
  const HttpResponse genuine = Anonymous("GET", signed_path(id, "part-00001.csv"));
  ASSERT_EQ(genuine.status, 200) << genuine.Describe();
  EXPECT_EQ(Sha256Hex(genuine.body), task["files"][0].value("sha256", ""));

  const std::string db = ReadFileOrEmpty(server_->data_dir() + "/exportd.db").substr(0, 16);
  const std::vector<std::string> names = {
      "..",
      ".",
      "...",
      "../exportd.db",
      "../../exportd.db",
      "../../url_secret",
      "..\\..\\exportd.db",
      "%2e%2e",
      "%2e%2e%2fexportd.db",
      "/etc/passwd",
      server_->data_dir() + "/exportd.db",
      std::string("part-00001.csv\0.txt", 19),
      std::string("\0", 1),
      "part-00001.csv/",
      "./part-00001.csv",
      "PART-00001.CSV",
      "part-00001.csv ",
      "part-00009.csv",
      "exportd.db",
      "url_secret",
      "",
  };
  for (const std::string& name : names) {
    SCOPED_TRACE(::testing::PrintToString(name));
    const HttpResponse res = Anonymous("GET", signed_path(id, name));
    EXPECT_TRUE(res.status == 400 || res.status == 403 || res.status == 404 || res.status == 410)
        << res.Describe();
    EXPECT_NE(res.body.find("\"status\""), std::string::npos)
        << "not a problem: " << res.Describe();
    EXPECT_EQ(res.body.find(secret), std::string::npos);
    if (!db.empty()) {
      EXPECT_EQ(res.body.find(db), std::string::npos) << "the task store leaked";
    }
  }
  // The task id position: a traversal there is no task, however well signed.
  for (const std::string& bad_id :
       {std::string(".."), std::string("../exports"), id + "/..", std::string("%2e%2e")}) {
    const HttpResponse res = Anonymous("GET", signed_path(bad_id, "part-00001.csv"));
    EXPECT_TRUE(res.status == 403 || res.status == 404) << bad_id << ": " << res.Describe();
  }
  // Expiry spellings that are not the canonical number of the signature.
  const std::string sig = HmacHex(secret, id + "\npart-00001.csv\n" + std::to_string(expires));
  for (const std::string& e : {"0" + std::to_string(expires), "+" + std::to_string(expires),
                               std::to_string(expires) + ".0", std::to_string(expires) + "%00",
                               std::string("-1"), std::string("99999999999999999999999")}) {
    const HttpResponse res = Anonymous(
        "GET", "/v1/exports/" + id + "/files/part-00001.csv?expires=" + e + "&signature=" + sig);
    EXPECT_EQ(res.status, 403) << e << ": " << res.Describe();
  }
}

// ---- Injection: SQL metacharacters in every position ----------------------------------------

// SQL metacharacters in the field name, the operator, the value (every operator), the
// partitions, the projected fields, the dataset and document key names, end to end: the export
// holds exactly the rows computed here from the data the test inserted, and the source database
// is intact afterwards. (Injection: API8:2019; in the 2023 list under API8 security
// misconfiguration and API10 unsafe consumption.)
class OwaspInjectionTest : public OwaspTest {
 protected:
  static constexpr const char* kTable = "ta\"ble; DROP TABLE canary; --";
  static constexpr const char* kName = "na\"me'; --";                      // a text column
  static constexpr const char* kRegion = "re gion";                        // the partition column
  static constexpr const char* kDocKey = "k\"ey'; DROP TABLE canary; --";  // a document field

  struct Item {
    int64_t id;
    std::optional<std::string> name;
    int64_t qty;
    std::string at;
    std::string region;
    std::optional<std::string> doc_value;
  };

  static const std::vector<std::string>& Hostile() {
    static const std::vector<std::string> kValues = {
        "'; DROP TABLE canary; --",
        "\" OR 1=1 --",
        "' OR '1'='1",
        "%",
        "_",
        "a%b",
        "a_b",
        "axb",
        "back\\slash",
        "\\",
        std::string("nu\0l", 4),
        "\xC3\xBCn\xC3\xAF\xC3\xA7\xC3\xB6"
        "d\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC",
        "emoji \xF0\x9F\x9A\x80",
        "",
        "1; SELECT * FROM sqlite_master",
        "*/ OR /*",
        "?",
        "$1",
        "NULL",
    };
    return kValues;
  }
  static const std::vector<std::string>& Regions() {
    static const std::vector<std::string> kRegions = {
        "north", "'; DROP TABLE canary; --", "\" OR 1=1 --", "%", "_",
        "a\\b",  "\xE6\x97\xA5\xE6\x9C\xAC"};
    return kRegions;
  }

  void SetUp() override {
    path_ = source_dir_.path() + "/hostile.sqlite";
    const auto& h = Hostile();
    const int n = static_cast<int>(h.size()) * 2 + 3;
    for (int i = 1; i <= n; ++i) {
      Item item;
      item.id = i;
      if (i % 11 != 0) item.name = h[static_cast<size_t>(i) % h.size()];
      item.qty = (i * 7) % 13 - 6;
      char at[32];
      std::snprintf(at, sizeof at, "2024-02-%02dT%02d:00:00Z", 1 + i / 24, i % 24);
      item.at = at;
      item.region = Regions()[static_cast<size_t>(i) % Regions().size()];
      if (i % 5 != 0) item.doc_value = h[static_cast<size_t>(i * 3) % h.size()];
      // SQLite 3.40's JSON functions end a string at an escaped NUL ("nu\u0000l" reads as
      // "nu"), so document values keep NUL out (a known limit, reported; columns hold NULs).
      if (item.doc_value && item.doc_value->find('\0') != std::string::npos)
        item.doc_value = "nu l";
      items_.push_back(item);
    }
    auto quote = [](const std::string& s) {
      std::string out = "\"";
      for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
      return out + "\"";
    };
    auto literal = [](const std::optional<std::string>& s) {
      if (!s) return std::string("NULL");
      // CAST(X'..' AS TEXT) keeps a NUL inside the text.
      std::string hex;
      static const char* const kHex = "0123456789ABCDEF";
      for (unsigned char c : *s) {
        hex += kHex[c >> 4];
        hex += kHex[c & 15];
      }
      return "CAST(X'" + hex + "' AS TEXT)";
    };
    std::string sql = "CREATE TABLE canary (x TEXT); INSERT INTO canary VALUES ('alive');";
    sql += "CREATE TABLE " + quote(kTable) + " (id INTEGER PRIMARY KEY, " + quote(kName) +
           " TEXT, qty INTEGER, at TEXT NOT NULL, " + quote(kRegion) + " TEXT NOT NULL, doc TEXT);";
    for (const Item& it : items_) {
      std::optional<std::string> doc;
      if (it.doc_value) doc = Json{{kDocKey, *it.doc_value}, {"other", it.id}}.dump();
      sql += "INSERT INTO " + quote(kTable) + " VALUES (" + std::to_string(it.id) + ", " +
             literal(it.name) + ", " + std::to_string(it.qty) + ", '" + it.at + "', " +
             literal(it.region) + ", " + literal(doc) + ");";
    }
    WriteFile(path_, "");  // an empty file is an empty database
    ExecSql(path_, sql);
    before_ = Snapshot();
    ExportdProcess::Options options;
    options.config = {
        {"datasets",
         Json::array({{{"name", "hostile"},
                       {"source", {{"type", "sqlite"}, {"path", path_}, {"table", kTable}}},
                       {"key", "id"},
                       {"time_field", "at"},
                       {"partition_field", kRegion},
                       {"columns", {"id", kName, "qty", "at", kRegion}},
                       {"document", {{"column", "doc"}, {"fields", {kDocKey}}}}}})}};
    ASSERT_TRUE(StartServer(std::move(options)));
  }

  // Every table and every row of the source, as text.
  std::string Snapshot() const {
    std::string out;
    for (const Row& r : QuerySql(path_, "SELECT name, sql FROM sqlite_master ORDER BY name")) {
      out += DescribeValue(r[0]) + " " + DescribeValue(r[1]) + "\n";
    }
    for (const Row& r : QuerySql(path_, "SELECT x FROM canary")) out += DescribeValue(r[0]) + "\n";
    for (const Row& r :
         QuerySql(path_, "SELECT * FROM \"ta\"\"ble; DROP TABLE canary; --\" ORDER BY id")) {
      for (const Value& v : r) out += DescribeValue(v) + "|";
      out += "\n";
    }
    return out;
  }

  // The ids of the rows for which `keep` holds, in key order.
  std::vector<int64_t> Ids(const std::function<bool(const Item&)>& keep) const {
    std::vector<int64_t> ids;
    for (const Item& it : items_) {
      if (keep(it)) ids.push_back(it.id);
    }
    return ids;
  }

  struct Case {
    std::string what;
    std::string path = "/v1/exports";  // the query form when it has a '?'
    Json body;                         // null for the query form
    std::vector<int64_t> expected;
    std::string id = {};  // filled when created
  };

  // Creates every case's export, waits for all, downloads each and compares the ids.
  void RunCases(std::vector<Case>& cases) {
    for (Case& c : cases) {
      const HttpResponse res =
          c.body.is_null() ? api_->Send("POST", c.path, "", "") : api_->PostJson(c.path, c.body);
      EXPECT_EQ(res.status, 202) << c.what << ": " << res.Describe();
      c.id = res.json.value("id", "");
    }
    for (const Case& c : cases) {
      if (c.id.empty()) continue;
      SCOPED_TRACE(c.what);
      const Json task = WaitForTerminal(*api_, c.id, seconds(60));
      ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
      EXPECT_EQ(ExportedIds(task), c.expected) << "request: " << task["request"].dump();
    }
  }

  std::vector<int64_t> ExportedIds(const Json& task) const {
    std::vector<int64_t> ids;
    for (const std::string& content : DownloadExport(*api_, task).contents) {
      std::istringstream lines(content);
      for (std::string line; std::getline(lines, line);) {
        if (line.empty()) continue;
        const Json row = Json::parse(line, nullptr, false);
        EXPECT_TRUE(row.is_object() && row.contains("id")) << line;
        if (row.is_object() && row.contains("id")) ids.push_back(row["id"].get<int64_t>());
      }
    }
    return ids;
  }

  void ExpectSourceIntact() {
    EXPECT_EQ(Snapshot(), before_) << "the source database changed";
    const HttpResponse list = api_->Get("/v1/exports?limit=1");
    EXPECT_EQ(list.status, 200) << "the task store still answers: " << list.Describe();
  }

  std::string path_;
  std::vector<Item> items_;
  std::string before_;
};

TEST_F(OwaspInjectionTest, HostileValuesInEveryOperatorMatchLiterally) {
  std::vector<Case> cases;
  auto body = [](const Json& filter) {
    return Json{
        {"dataset", "hostile"}, {"format", "ndjson"}, {"fields", {"id"}}, {"filter", filter}};
  };
  for (const std::string& v : Hostile()) {
    const std::string shown = ::testing::PrintToString(v);
    auto is = [](const std::optional<std::string>& s, const std::string& want) {
      return s && *s == want;
    };
    // On a column whose name is itself hostile.
    cases.push_back({"eq " + shown, "/v1/exports", body({{kName, v}}),
                     Ids([&](const Item& i) { return is(i.name, v); })});
    cases.push_back({"ne " + shown, "/v1/exports", body({{kName, {{"ne", v}}}}),
                     Ids([&](const Item& i) { return !is(i.name, v); })});
    cases.push_back({"gt " + shown, "/v1/exports", body({{kName, {{"gt", v}}}}),
                     Ids([&](const Item& i) { return i.name && *i.name > v; })});
    cases.push_back({"lte " + shown, "/v1/exports", body({{kName, {{"lte", v}}}}),
                     Ids([&](const Item& i) { return i.name && *i.name <= v; })});
    cases.push_back({"in " + shown, "/v1/exports", body({{kName, {{"in", {v, "axb"}}}}}),
                     Ids([&](const Item& i) { return is(i.name, v) || is(i.name, "axb"); })});
    cases.push_back({"prefix " + shown, "/v1/exports", body({{kName, {{"prefix", v}}}}),
                     Ids([&](const Item& i) { return i.name && i.name->starts_with(v); })});
    // On a document field whose key is hostile.
    cases.push_back({"doc eq " + shown, "/v1/exports", body({{kDocKey, v}}),
                     Ids([&](const Item& i) { return is(i.doc_value, v); })});
    cases.push_back(
        {"doc prefix " + shown, "/v1/exports", body({{kDocKey, {{"prefix", v}}}}),
         Ids([&](const Item& i) { return i.doc_value && i.doc_value->starts_with(v); })});
    // As a partition.
    cases.push_back(
        {"partition " + shown, "/v1/exports",
         Json{
             {"dataset", "hostile"}, {"format", "ndjson"}, {"fields", {"id"}}, {"partitions", {v}}},
         Ids([&](const Item& i) { return i.region == v; })});
    // The query form (what a search page links to), percent-encoded byte for byte.
    if (v.find(',') == std::string::npos && !v.empty()) {
      const std::string base = "/v1/exports?dataset=hostile&format=ndjson&fields=id";
      cases.push_back({"query eq " + shown,
                       base + "&filter." + PercentEncode(kName) + "=" + PercentEncode(v), nullptr,
                       Ids([&](const Item& i) { return is(i.name, v); })});
      cases.push_back({"query prefix " + shown,
                       base + "&filter." + PercentEncode(kName) + ".prefix=" + PercentEncode(v),
                       nullptr,
                       Ids([&](const Item& i) { return i.name && i.name->starts_with(v); })});
      cases.push_back({"query partition " + shown, base + "&partitions=" + PercentEncode(v),
                       nullptr, Ids([&](const Item& i) { return i.region == v; })});
    }
  }
  // Conditions together (ANDed), with nulls: still exact.
  cases.push_back({"in and ne together", "/v1/exports",
                   body({{kName, {{"in", {"%", "_"}}, {"ne", "_"}}}}),
                   Ids([&](const Item& i) { return i.name && *i.name == "%"; })});
  cases.push_back({"null true", "/v1/exports", body({{kName, {{"null", true}}}}),
                   Ids([&](const Item& i) { return !i.name; })});
  RunCases(cases);
  ExpectSourceIntact();
}

// The projection and the output: hostile column and document key names are exported under
// their own names, values come back byte for byte (NUL, quotes, backslashes, Unicode).
TEST_F(OwaspInjectionTest, HostileFieldNamesExportTheirOwnValues) {
  const std::string id = CreateExport(
      *api_,
      {{"dataset", "hostile"}, {"format", "ndjson"}, {"fields", {kDocKey, kName, "id", kRegion}}});
  ASSERT_FALSE(id.empty());
  const Json task = WaitForTerminal(*api_, id, seconds(60));
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  std::vector<nlohmann::ordered_json> rows;
  for (const std::string& content : DownloadExport(*api_, task).contents) {
    std::istringstream lines(content);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) rows.push_back(nlohmann::ordered_json::parse(line, nullptr, false));
    }
  }
  ASSERT_EQ(rows.size(), items_.size());
  auto text = [](const std::optional<std::string>& s) { return s ? Json(*s) : Json(nullptr); };
  for (size_t r = 0; r < rows.size(); ++r) {
    const Item& it = items_[r];
    const Json expected = {
        {kDocKey, text(it.doc_value)}, {kName, text(it.name)}, {"id", it.id}, {kRegion, it.region}};
    EXPECT_EQ(Json::parse(rows[r].dump()), expected) << "row " << r;
    std::vector<std::string> keys;
    for (const auto& [k, v] : rows[r].items()) keys.push_back(k);
    EXPECT_EQ(keys, (std::vector<std::string>{kDocKey, kName, "id", kRegion})) << "row " << r;
  }
  ExpectSourceIntact();
}

// Hostile names where a name is expected, and hostile operators: refused before any SQL (422 or
// 400), never a 5xx, nothing created, the source untouched.
TEST_F(OwaspInjectionTest, HostileNamesAndOperatorsAreRefused) {
  const std::string drop = "'; DROP TABLE canary; --";
  const std::vector<std::pair<std::string, Json>> bodies = {
      {"field name", {{"dataset", "hostile"}, {"filter", {{"id\" OR 1=1 --", 1}}}}},
      {"field name with a quote",
       {{"dataset", "hostile"}, {"filter", {{std::string(kName) + "\"", "x"}}}}},
      {"operator", {{"dataset", "hostile"}, {"filter", {{kName, {{drop, "x"}}}}}}},
      {"operator like", {{"dataset", "hostile"}, {"filter", {{kName, {{"like", "%"}}}}}}},
      {"operator glob", {{"dataset", "hostile"}, {"filter", {{kName, {{"glob", "*"}}}}}}},
      {"projected field", {{"dataset", "hostile"}, {"fields", {"id", "id FROM canary; --"}}}},
      {"projected field star", {{"dataset", "hostile"}, {"fields", {"*"}}}},
      {"dataset", {{"dataset", "hostile' OR 1=1 --"}}},
      {"integer field with text", {{"dataset", "hostile"}, {"filter", {{"qty", drop}}}}},
      {"integer field with 1 OR 1=1", {{"dataset", "hostile"}, {"filter", {{"qty", "1 OR 1=1"}}}}},
      {"time field with text", {{"dataset", "hostile"}, {"filter", {{"at", {{"gt", drop}}}}}}},
      {"since", {{"dataset", "hostile"}, {"since", drop}}},
      {"format", {{"dataset", "hostile"}, {"format", drop}}},
      {"compression", {{"dataset", "hostile"}, {"compression", drop}}},
      {"prefix on an integer", {{"dataset", "hostile"}, {"filter", {{"qty", {{"prefix", "1"}}}}}}},
  };
  for (const auto& [what, body] : bodies) {
    const HttpResponse res = api_->PostJson("/v1/exports", body);
    EXPECT_TRUE(res.status == 400 || res.status == 422) << what << ": " << res.Describe();
    EXPECT_TRUE(IsProblem(res)) << what;
  }
  const std::vector<std::string> queries = {
      "/v1/exports?dataset=hostile&filter." + PercentEncode("id\" OR 1=1 --") + "=1",
      "/v1/exports?dataset=hostile&filter." + PercentEncode(kName) + ".like=%25",
      "/v1/exports?dataset=hostile&filter." + PercentEncode(kName) + "." + PercentEncode(drop) +
          "=x",
      "/v1/exports?dataset=hostile&filter.qty=" + PercentEncode("1 OR 1=1"),
      "/v1/exports?dataset=hostile&filter.qty.in=" + PercentEncode("1) OR (1=1"),
      "/v1/exports?dataset=hostile&fields=" + PercentEncode("id FROM canary; --"),
      "/v1/exports?dataset=" + PercentEncode("hostile' --"),
      "/v1/exports?dataset=hostile&" + PercentEncode(drop) + "=1",
  };
  for (const std::string& q : queries) {
    const HttpResponse res = api_->Send("POST", q, "", "");
    EXPECT_TRUE(res.status == 400 || res.status == 422) << q << ": " << res.Describe();
    EXPECT_TRUE(IsProblem(res)) << q;
  }
  EXPECT_TRUE(api_->Get("/v1/exports").json["items"].empty()) << "a refused request made a task";
  ExpectSourceIntact();
}

}  // namespace
}  // namespace exportd::itest
