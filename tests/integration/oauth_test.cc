// OAuth 2.0 bearer tokens against the real binary (issue 6; OWASP API2:2023 broken
// authentication, API5 function level authorization): a JWT from the configured issuer acts
// as its "sub" with the role its claim grants; expired, forged and alg-none tokens are 401;
// API keys keep working beside tokens. (Every algorithm and claim rule is covered by
// tests/unit/jwt_verifier_test.cc; here the tokens are HS256, signed by hand.)
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <sstream>

#include "tests/integration/itest_support.h"

namespace exportd::itest {
namespace {

const std::string kSecret = "integration-test-secret-of-32-bytes-or-more";

std::string Base64Url(const std::string& bytes) {
  static const char* const kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 63]);
  return out;
}

std::string Token(const Json& header, const Json& claims, const std::string& secret = kSecret) {
  const std::string input = Base64Url(header.dump()) + "." + Base64Url(claims.dump());
  unsigned char mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." + Base64Url(std::string(reinterpret_cast<char*>(mac), len));
}

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Json Claims(const std::string& sub, const Json& roles) {
  return {{"iss", "https://idp.test/"}, {"aud", "exportd"}, {"sub", sub},
          {"exp", Now() + 600},         {"iat", Now()},     {"roles", roles}};
}

const Json kHeader = {{"alg", "HS256"}, {"typ", "JWT"}, {"kid", "k1"}};

class OAuthTest : public ExportdTest {
 protected:
  bool Start() {
    const std::string jwks = source_dir_.path() + "/jwks.json";
    WriteFile(
        jwks,
        Json{{"keys", Json::array({{{"kty", "oct"}, {"kid", "k1"}, {"k", Base64Url(kSecret)}}})}}
            .dump());
    return StartWithItems(
        20,
        Json{{"oauth",
              {{"issuer", "https://idp.test/"}, {"audience", "exportd"}, {"jwks_file", jwks}}}});
  }
  std::unique_ptr<HttpClient> With(const std::string& token) const {
    return std::make_unique<HttpClient>(server_->host(), server_->port(), token);
  }
};

TEST_F(OAuthTest, TokensActAsTheirSubjectWithTheirRole) {
  ASSERT_TRUE(Start());
  auto carol = With(Token(kHeader, Claims("carol", Json::array({"exporter"}))));
  auto dave = With(Token(kHeader, Claims("dave", "openid reader")));

  const std::string id = CreateExport(*carol, {{"dataset", "items"}});
  ASSERT_FALSE(id.empty());
  Json done = WaitForTerminal(*carol, id, seconds(30));
  EXPECT_EQ(done.value("status", ""), "Succeeded") << done.dump();

  // dave may read (his own: none) but not create, and cannot see carol's task.
  auto list = dave->Get("/v1/exports");
  ASSERT_EQ(list.status, 200) << list.Describe();
  EXPECT_TRUE(list.json["items"].empty());
  EXPECT_EQ(dave->Get("/v1/exports/" + id).status, 404);
  auto denied = dave->PostJson("/v1/exports", Json{{"dataset", "items"}});
  EXPECT_EQ(denied.status, 403) << denied.Describe();
  EXPECT_TRUE(IsProblem(denied));

  // The admin API key still works, and sees carol's task.
  EXPECT_EQ(api_->Get("/v1/exports/" + id).status, 200);
}

// Principals of API keys and of tokens live in separate namespaces: a token whose sub equals an
// API key's id is a different principal from that key. It cannot read or delete the key's
// exports, and the audit trail tells the two apart ("key:<id>" vs "jwt:<issuer>#<sub>").
TEST_F(OAuthTest, ATokenWhoseSubIsAKeyIdIsNotThatKey) {
  ASSERT_TRUE(Start());
  CommandResult created =
      server_->RunCli({"keys", "create", "--name", "erin", "--role", "exporter", "--config",
                       server_->config_path(), "--data-dir", server_->data_dir()});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  std::string secret = created.out;
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  CommandResult list = server_->RunCli(
      {"keys", "list", "--config", server_->config_path(), "--data-dir", server_->data_dir()});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  std::string key_id;
  std::istringstream lines(list.out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string id, name;
    words >> id >> name;
    if (name == "erin") key_id = id;
  }
  ASSERT_FALSE(key_id.empty()) << list.out;

  auto key = With(secret);
  const std::string id = CreateExport(*key, {{"dataset", "items"}});
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(WaitForTerminal(*key, id, seconds(30)).value("status", ""), "Succeeded");

  auto impostor = With(Token(kHeader, Claims(key_id, Json::array({"exporter"}))));
  EXPECT_EQ(impostor->Get("/v1/exports/" + id).status, 404);
  EXPECT_EQ(impostor->Get("/v1/exports/" + id + "/events").status, 404);
  EXPECT_EQ(impostor->Delete("/v1/exports/" + id).status, 404);
  auto listed = impostor->Get("/v1/exports");
  ASSERT_EQ(listed.status, 200) << listed.Describe();
  EXPECT_TRUE(listed.json["items"].empty()) << listed.Describe();
  // The key still has its files.
  Json task = GetTask(*key, id);
  EXPECT_FALSE(task["files"].empty()) << task.dump();

  auto events = api_->Get("/v1/audit?task=" + id);
  ASSERT_EQ(events.status, 200) << events.Describe();
  std::string creator, prober;
  for (const Json& e : events.json["items"]) {
    if (e.value("type", "") == "created") creator = e.value("actor", "");
    if (e.value("type", "") == "access_denied") prober = e.value("actor", "");
  }
  EXPECT_EQ(creator, "key:" + key_id) << events.Describe();
  EXPECT_EQ(prober, "jwt:https://idp.test/#" + key_id) << events.Describe();
  // Filtering by the token's principal ('#' percent-encoded) finds only its refused requests.
  auto by_token = api_->Get("/v1/audit?actor=jwt:https://idp.test/%23" + key_id);
  ASSERT_EQ(by_token.status, 200) << by_token.Describe();
  ASSERT_EQ(by_token.json["items"].size(), 3u) << by_token.Describe();
  for (const Json& e : by_token.json["items"]) EXPECT_EQ(e.value("type", ""), "access_denied");

  // A token's own export is its own, under its namespaced principal.
  const std::string own = CreateExport(*impostor, {{"dataset", "items"}});
  ASSERT_FALSE(own.empty());
  EXPECT_EQ(key->Get("/v1/exports/" + own).status, 404);
}

// Subjects that read like exportd's own actors cannot pose as the system in the audit trail.
TEST_F(OAuthTest, ReservedSubjectsAreRefused) {
  ASSERT_TRUE(Start());
  for (const std::string sub : {"link", "exportd", "Exportd"}) {
    auto res = With(Token(kHeader, Claims(sub, Json::array({"admin"}))))->Get("/v1/exports");
    EXPECT_EQ(res.status, 401) << sub << ": " << res.Describe();
    EXPECT_TRUE(IsProblem(res)) << sub;
  }
  EXPECT_EQ(
      With(Token(kHeader, Claims("linkage", Json::array({"reader"}))))->Get("/v1/exports").status,
      200);
}

TEST_F(OAuthTest, BadTokensAre401AndRoleLessTokens403) {
  ASSERT_TRUE(Start());
  Json expired = Claims("carol", Json::array({"admin"}));
  expired["exp"] = Now() - 3600;
  Json wrong_audience = Claims("carol", Json::array({"admin"}));
  wrong_audience["aud"] = "another-api";
  const Json claims = Claims("carol", Json::array({"admin"}));
  const std::string body = Base64Url(claims.dump());
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"expired", Token(kHeader, expired)},
      {"wrong audience", Token(kHeader, wrong_audience)},
      {"forged (another secret)", Token(kHeader, claims, "not-the-secret-but-just-as-long!!")},
      {"alg none", Base64Url(Json{{"alg", "none"}}.dump()) + "." + body + "."},
      {"unknown kid", Token({{"alg", "HS256"}, {"kid", "k9"}}, claims)},
  };
  for (const auto& [what, token] : bad) {
    auto res = With(token)->Get("/v1/exports");
    EXPECT_EQ(res.status, 401) << what << ": " << res.Describe();
    EXPECT_TRUE(IsProblem(res)) << what;
    EXPECT_EQ(res.body.find(token), std::string::npos) << what << ": the token is echoed";
  }
  auto role_less = With(Token(kHeader, Claims("carol", Json::array({"staff"}))));
  EXPECT_EQ(role_less->Get("/v1/exports").status, 403);
}

}  // namespace
}  // namespace exportd::itest
