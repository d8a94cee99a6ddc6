// JWT bearer tokens (issue 6; OWASP API2:2023 broken authentication): valid RS256, ES256 and
// HS256 tokens verify; expired, not-yet-valid, wrongly signed, alg none, algorithm confusion
// (HS256 signed with the RSA public key), wrong issuer or audience, unknown key ids and
// role-less tokens do not. Keys are generated per run and published as a real JWKS file.
#include "api/jwt_verifier.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <fstream>
#include <jwt/jwt.hpp>
#include <memory>

#include "storage/auth/jwks.h"
#include "tests/fakes/temp_dir.h"

namespace exportd::api {
namespace {

using json = nlohmann::json;

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::string Base64Url(const std::string& bytes) {
  std::string out = jwt::base64_encode(bytes.data(), bytes.size());
  out.resize(jwt::base64_uri_encode(out.data(), out.size()));  // in place: -_ and no padding
  return out;
}

std::string Pem(EVP_PKEY* key, bool private_key) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (private_key) {
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  } else {
    PEM_write_bio_PUBKEY(bio, key);
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

std::string BnBytes(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  EVP_PKEY_get_bn_param(key, name, &bn);
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

json RsaJwk(EVP_PKEY* key, const std::string& kid) {
  return {{"kty", "RSA"},
          {"kid", kid},
          {"use", "sig"},
          {"alg", "RS256"},
          {"n", Base64Url(BnBytes(key, OSSL_PKEY_PARAM_RSA_N))},
          {"e", Base64Url(BnBytes(key, OSSL_PKEY_PARAM_RSA_E))}};
}

json EcJwk(EVP_PKEY* key, const std::string& kid) {
  unsigned char point[65];
  size_t len = 0;
  EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &len);
  std::string p(reinterpret_cast<char*>(point), len);  // 0x04 || x || y
  return {{"kty", "EC"},
          {"kid", kid},
          {"crv", "P-256"},
          {"x", Base64Url(p.substr(1, 32))},
          {"y", Base64Url(p.substr(33, 32))}};
}

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Header and payload as given, signed with HMAC-SHA256 by hand (for the tokens a well-behaved
// library refuses to make).
std::string HandMadeHs256(const json& header, const json& payload, const std::string& key) {
  std::string input = Base64Url(header.dump()) + "." + Base64Url(payload.dump());
  unsigned char mac[32];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len);
  return input + "." + Base64Url(std::string(reinterpret_cast<char*>(mac), mac_len));
}

class JwtVerifierTest : public ::testing::Test {
 protected:
  // RSA key generation takes a second or more (much more under ASan): once per suite.
  static void SetUpTestSuite() {
    rsa_.reset(EVP_RSA_gen(2048));
    rsa_other_.reset(EVP_RSA_gen(2048));
    ec_.reset(EVP_EC_gen("P-256"));
  }
  static void TearDownTestSuite() {
    rsa_.reset();
    rsa_other_.reset();
    ec_.reset();
  }

  void SetUp() override {
    ASSERT_TRUE(rsa_ && rsa_other_ && ec_);
    json jwks = {
        {"keys",
         json::array({RsaJwk(rsa_.get(), "rsa-1"), EcJwk(ec_.get(), "ec-1"),
                      json{{"kty", "oct"}, {"kid", "hs-1"}, {"k", Base64Url(hs_secret_)}}})}};
    WriteJwks(jwks);
    Result<std::unique_ptr<FileKeySetProvider>> provider = FileKeySetProvider::Open(jwks_path_);
    ASSERT_TRUE(provider.ok()) << provider.status().ToString();
    keys_ = std::move(*provider);
    JwtOptions options;
    options.issuer = "https://idp.example.org/";
    options.audience = "exportd";
    options.leeway = std::chrono::seconds(30);
    verifier_ = std::make_unique<JwtVerifier>(options, *keys_, clock_);
  }

  void WriteJwks(const json& jwks) { std::ofstream(jwks_path_) << jwks.dump(); }

  json Claims() const {
    return {{"iss", "https://idp.example.org/"},
            {"aud", "exportd"},
            {"sub", "alice"},
            {"exp", Now() + 300},
            {"iat", Now()},
            {"roles", json::array({"exporter"})}};
  }

  // A token signed by cpp-jwt with `alg` and the PEM/secret `key`, carrying `kid`.
  static std::string Sign(const std::string& alg, const std::string& key, const std::string& kid,
                          const json& claims) {
    jwt::jwt_object obj{jwt::params::algorithm(alg), jwt::params::secret(key)};
    if (!kid.empty()) obj.header().add_header("kid", kid);
    for (const auto& [name, value] : claims.items()) obj.add_claim(name, value);
    return obj.signature();
  }

  static std::string Rs256(const json& claims, const std::string& kid = "rsa-1") {
    return Sign("RS256", Pem(rsa_.get(), true), kid, claims);
  }

  StatusCode CodeOf(const std::string& token) const {
    Result<JwtIdentity> r = verifier_->Verify(token);
    return r.ok() ? StatusCode::kOk : r.status().code();
  }

  SystemClock clock_;
  testing_support::TempDir dir_;
  std::string jwks_path_ = dir_.path() + "/jwks.json";
  std::string hs_secret_ = "a shared secret of at least thirty-two bytes!";
  static inline Pkey rsa_, rsa_other_, ec_;
  std::unique_ptr<FileKeySetProvider> keys_;
  std::unique_ptr<JwtVerifier> verifier_;
};

TEST_F(JwtVerifierTest, ValidTokensOfEachAlgorithmVerify) {
  Result<JwtIdentity> rs = verifier_->Verify(Rs256(Claims()));
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  EXPECT_EQ(rs->subject, "alice");
  EXPECT_EQ(rs->role, Role::kExporter);

  Result<JwtIdentity> es = verifier_->Verify(Sign("ES256", Pem(ec_.get(), true), "ec-1", Claims()));
  ASSERT_TRUE(es.ok()) << es.status().ToString();
  Result<JwtIdentity> hs = verifier_->Verify(Sign("HS256", hs_secret_, "hs-1", Claims()));
  ASSERT_TRUE(hs.ok()) << hs.status().ToString();
  // Without a kid, the only key of the right type is used.
  EXPECT_EQ(CodeOf(Sign("ES256", Pem(ec_.get(), true), "", Claims())), StatusCode::kOk);
}

TEST_F(JwtVerifierTest, TimeClaimsAreCheckedWithLeeway) {
  json c = Claims();
  c["exp"] = Now() - 120;
  EXPECT_EQ(CodeOf(Rs256(c)), StatusCode::kUnauthenticated) << "expired";
  c["exp"] = Now() - 10;  // within the 30 s leeway
  EXPECT_EQ(CodeOf(Rs256(c)), StatusCode::kOk);
  c = Claims();
  c["nbf"] = Now() + 120;
  EXPECT_EQ(CodeOf(Rs256(c)), StatusCode::kUnauthenticated) << "not yet valid";
  c["nbf"] = Now() + 10;
  EXPECT_EQ(CodeOf(Rs256(c)), StatusCode::kOk);
  c = Claims();
  c.erase("exp");
  EXPECT_EQ(CodeOf(Rs256(c)), StatusCode::kUnauthenticated) << "a token without exp";
}

TEST_F(JwtVerifierTest, IssuerAudienceAndSubjectMustMatch) {
  json c = Claims();
  c["iss"] = "https://evil.example.org/";
  EXPECT_EQ(CodeOf(Rs256(c)), StatusCode::kUnauthenticated);
  c = Claims();
  c["aud"] = "another-service";
  EXPECT_EQ(CodeOf(Rs256(c)), StatusCode::kUnauthenticated);
  c["aud"] = json::array({"another-service", "exportd"});
  EXPECT_EQ(CodeOf(Rs256(c)), StatusCode::kOk) << "an audience array containing ours";
  c.erase("aud");
  EXPECT_EQ(CodeOf(Rs256(c)), StatusCode::kUnauthenticated);
  c = Claims();
  c.erase("sub");
  EXPECT_EQ(CodeOf(Rs256(c)), StatusCode::kUnauthenticated);
}

TEST_F(JwtVerifierTest, WrongSignaturesAreRejected) {
  // Signed by a key that is not in the set, under a kid that is.
  EXPECT_EQ(CodeOf(Sign("RS256", Pem(rsa_other_.get(), true), "rsa-1", Claims())),
            StatusCode::kUnauthenticated);
  // A payload swapped after signing.
  std::string token = Rs256(Claims());
  json evil = Claims();
  evil["roles"] = json::array({"admin"});
  const size_t first = token.find('.');
  const size_t second = token.find('.', first + 1);
  std::string tampered = token.substr(0, first + 1) + Base64Url(evil.dump()) + token.substr(second);
  EXPECT_EQ(CodeOf(tampered), StatusCode::kUnauthenticated);
  // A signature cut short, and garbage.
  EXPECT_EQ(CodeOf(token.substr(0, token.size() - 4)), StatusCode::kUnauthenticated);
  EXPECT_EQ(CodeOf("a.b.c"), StatusCode::kUnauthenticated);
  EXPECT_EQ(CodeOf("not-a-jwt"), StatusCode::kUnauthenticated);
}

TEST_F(JwtVerifierTest, AlgNoneIsRejected) {
  const std::string body = Base64Url(Claims().dump());
  for (const char* alg : {"none", "None", "NONE"}) {
    const std::string header = Base64Url(json{{"alg", alg}, {"typ", "JWT"}}.dump());
    EXPECT_EQ(CodeOf(header + "." + body + "."), StatusCode::kUnauthenticated) << alg;
    EXPECT_EQ(CodeOf(header + "." + body + ".c2ln"), StatusCode::kUnauthenticated) << alg;
  }
}

// The classic confusion: an HS256 token whose HMAC key is the server's RSA public key (which
// is public). Public keys only ever verify RS256/ES256, so it must fail, with or without kid.
TEST_F(JwtVerifierTest, Hs256SignedWithTheRsaPublicKeyIsRejected) {
  const std::string public_pem = Pem(rsa_.get(), false);
  for (const char* kid : {"rsa-1", "hs-1", ""}) {
    json header = {{"alg", "HS256"}, {"typ", "JWT"}};
    if (*kid) header["kid"] = kid;
    EXPECT_EQ(CodeOf(HandMadeHs256(header, Claims(), public_pem)), StatusCode::kUnauthenticated)
        << "kid " << kid;
  }
  // And an RS256 header cannot be served by the HMAC secret either.
  EXPECT_EQ(CodeOf(HandMadeHs256({{"alg", "RS256"}, {"kid", "hs-1"}}, Claims(), hs_secret_)),
            StatusCode::kUnauthenticated);
}

// RFC 7515 4.1.11: "crit" names header parameters the recipient must understand, or reject the
// token. exportd understands no extension, so a correctly signed token that lists one fails.
TEST_F(JwtVerifierTest, UnknownCriticalHeaderIsRejected) {
  const json plain = {{"alg", "HS256"}, {"typ", "JWT"}, {"kid", "hs-1"}};
  ASSERT_EQ(CodeOf(HandMadeHs256(plain, Claims(), hs_secret_)), StatusCode::kOk)
      << "the same token without crit must verify";
  json critical = plain;
  critical["crit"] = json::array({"exp-extension"});
  critical["exp-extension"] = 1;
  EXPECT_EQ(CodeOf(HandMadeHs256(critical, Claims(), hs_secret_)), StatusCode::kUnauthenticated);
  // Malformed crit values are refused as well (an empty list, or not a list).
  for (const json& bad : {json::array(), json("exp-extension")}) {
    json h = plain;
    h["crit"] = bad;
    EXPECT_EQ(CodeOf(HandMadeHs256(h, Claims(), hs_secret_)), StatusCode::kUnauthenticated)
        << bad.dump();
  }
  // RS256 through cpp-jwt's own signing, too.
  jwt::jwt_object obj{jwt::params::algorithm("RS256"), jwt::params::secret(Pem(rsa_.get(), true))};
  obj.header().add_header("kid", "rsa-1");
  obj.header().add_header("crit", json::array({"exp-extension"}));
  obj.header().add_header("exp-extension", 1);
  // Named: a range-for over Claims().items() would iterate a destroyed temporary.
  const json claims = Claims();
  for (const auto& [name, value] : claims.items()) obj.add_claim(name, value);
  EXPECT_EQ(CodeOf(obj.signature()), StatusCode::kUnauthenticated);
}

TEST_F(JwtVerifierTest, RolesComeFromTheClaim) {
  json c = Claims();
  c["roles"] = json::array({"reader", "admin"});
  Result<JwtIdentity> r = verifier_->Verify(Rs256(c));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->role, Role::kAdmin) << "the highest role named";
  c["roles"] = "openid reader";  // a space-separated string, like "scope"
  r = verifier_->Verify(Rs256(c));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->role, Role::kReader);
  c["roles"] = json::array({"superuser"});
  EXPECT_EQ(CodeOf(Rs256(c)), StatusCode::kPermissionDenied) << "valid, but no exportd role";
  c.erase("roles");
  EXPECT_EQ(CodeOf(Rs256(c)), StatusCode::kPermissionDenied);
}

TEST_F(JwtVerifierTest, RotatedKeysAreFoundByKid) {
  EXPECT_EQ(CodeOf(Sign("RS256", Pem(rsa_other_.get(), true), "rsa-2", Claims())),
            StatusCode::kUnauthenticated);
  // The issuer publishes a second key: an unknown kid makes the provider re-read the set.
  WriteJwks(
      {{"keys", json::array({RsaJwk(rsa_.get(), "rsa-1"), RsaJwk(rsa_other_.get(), "rsa-2")})}});
  EXPECT_EQ(CodeOf(Sign("RS256", Pem(rsa_other_.get(), true), "rsa-2", Claims())), StatusCode::kOk);
  EXPECT_EQ(CodeOf(Rs256(Claims())), StatusCode::kOk) << "the old key still verifies";
}

TEST(JwksTest, RejectsMalformedKeysAndSkipsForeignOnes) {
  EXPECT_FALSE(ParseJwks("{}").ok());
  EXPECT_FALSE(ParseJwks("not json").ok());
  EXPECT_FALSE(ParseJwks(R"({"keys": [{"kty": "RSA", "n": "!!", "e": "AQAB"}]})").ok());
  EXPECT_FALSE(ParseJwks(R"({"keys": [{"kty": "oct", "k": "c2hvcnQ"}]})").ok()) << "short secret";
  // An encryption key and an unknown type alone: nothing usable.
  EXPECT_FALSE(ParseJwks(R"({"keys": [{"kty": "RSA", "use": "enc"}, {"kty": "OKP"}]})").ok());
}

}  // namespace
}  // namespace exportd::api
