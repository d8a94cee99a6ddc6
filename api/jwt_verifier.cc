#include "api/jwt_verifier.h"

#include <algorithm>
#include <cctype>
#include <jwt/jwt.hpp>
#include <vector>

namespace exportd::api {
namespace {

using json = nlohmann::json;

Status Rejected(const std::string& why) {
  return Status(StatusCode::kUnauthenticated, "invalid bearer token: " + why);
}

std::string KeyTypeFor(const std::string& alg) {
  if (alg == "RS256") return "RSA";
  if (alg == "ES256") return "EC";
  if (alg == "HS256") return "oct";
  return "";
}

// The keys that may verify a token of `alg` naming `kid` (empty: any of the right type).
std::vector<JsonWebKey> Candidates(const std::vector<JsonWebKey>& keys, const std::string& alg,
                                   const std::string& kid) {
  const std::string kty = KeyTypeFor(alg);
  std::vector<JsonWebKey> out;
  for (const JsonWebKey& k : keys) {
    if (k.kty != kty) continue;
    if (!k.alg.empty() && k.alg != alg) continue;
    if (!kid.empty() && k.kid != kid) continue;
    out.push_back(k);
  }
  return out;
}

// Whether the claim is a JSON number (cpp-jwt stores what the token carried).
std::optional<int64_t> NumericDate(const json& payload, const char* name) {
  auto it = payload.find(name);
  if (it == payload.end() || !it->is_number()) return std::nullopt;
  return static_cast<int64_t>(it->get<double>());
}

std::optional<Role> HighestRole(const json& claim) {
  std::vector<std::string> names;
  if (claim.is_string()) {
    std::string text = claim.get<std::string>();
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find(' ', start);
      if (end == std::string::npos) end = text.size();
      if (end > start) names.push_back(text.substr(start, end - start));
      start = end + 1;
    }
  } else if (claim.is_array()) {
    for (const json& v : claim) {
      if (v.is_string()) names.push_back(v.get<std::string>());
    }
  }
  std::optional<Role> best;
  for (const std::string& name : names) {
    std::optional<Role> r = ParseRole(name);
    if (r && (!best || RoleAllows(*r, *best))) best = r;
  }
  return best;
}

}  // namespace

bool LooksLikeJwt(std::string_view token) {
  if (std::count(token.begin(), token.end(), '.') != 2) return false;
  return std::all_of(token.begin(), token.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

JwtVerifier::JwtVerifier(JwtOptions options, KeySetProvider& keys, const Clock& clock)
    : options_(std::move(options)), keys_(keys), clock_(clock) {}

Result<JwtIdentity> JwtVerifier::Verify(std::string_view token) const {
  if (!LooksLikeJwt(token)) return Rejected("not a JWT");
  const size_t dot = token.find('.');
  json header;
  try {
    header = json::parse(jwt::base64_uri_decode(token.data(), dot), nullptr,
                         /*allow_exceptions=*/false);
  } catch (...) {
    return Rejected("malformed header");
  }
  if (!header.is_object()) return Rejected("malformed header");
  const std::string alg = header.value("alg", "");
  if (KeyTypeFor(alg).empty()) {
    return Rejected("algorithm '" + alg + "' is not accepted (RS256, ES256, HS256)");
  }
  // RFC 7515 4.1.11: a recipient must reject a token whose "crit" names an extension it does
  // not understand. exportd understands none, so any "crit" (well-formed or not) is refused.
  if (header.contains("crit")) {
    return Rejected("the header lists critical extensions (\"crit\") that are not understood");
  }
  const std::string kid =
      header.contains("kid") && header["kid"].is_string() ? header["kid"].get<std::string>() : "";

  ASSIGN_OR_RETURN(std::vector<JsonWebKey> keys, keys_.Keys(/*refresh=*/false));
  std::vector<JsonWebKey> candidates = Candidates(keys, alg, kid);
  if (candidates.empty() && !kid.empty()) {
    ASSIGN_OR_RETURN(keys, keys_.Keys(/*refresh=*/true));  // the issuer may have rotated
    candidates = Candidates(keys, alg, kid);
  }
  if (candidates.empty()) {
    return Rejected(kid.empty() ? "no " + alg + " key is configured"
                                : "unknown key id '" + kid + "' for " + alg);
  }

  json payload;
  bool verified = false;
  std::string last_error = "signature does not verify";
  for (const JsonWebKey& key : candidates) {
    const std::string& secret = key.kty == "oct" ? key.secret : key.public_pem;
    std::error_code ec;
    try {
      // cpp-jwt checks the signature with exactly this algorithm and this key; "exp" it checks
      // against the system clock with the leeway, and again below against our clock.
      auto decoded =
          jwt::decode(jwt::string_view(token.data(), token.size()), jwt::params::algorithms({alg}),
                      ec, jwt::params::secret(secret), jwt::params::verify(true),
                      jwt::params::leeway(static_cast<uint32_t>(options_.leeway.count())));
      if (ec) {
        last_error = ec.message();
        continue;
      }
      payload = decoded.payload().create_json_obj();
      verified = true;
      break;
    } catch (...) {
      last_error = "malformed token";
    }
  }
  if (!verified) return Rejected(last_error);
  if (!payload.is_object()) return Rejected("malformed claims");

  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
  const int64_t leeway = options_.leeway.count();
  std::optional<int64_t> exp = NumericDate(payload, "exp");
  if (!exp) return Rejected("no \"exp\" claim");
  if (now > *exp + leeway) return Rejected("expired");
  if (std::optional<int64_t> nbf = NumericDate(payload, "nbf"); nbf && now + leeway < *nbf) {
    return Rejected("not valid yet (nbf)");
  }
  if (std::optional<int64_t> iat = NumericDate(payload, "iat"); iat && now + leeway < *iat) {
    return Rejected("issued in the future (iat)");
  }
  if (payload.value("iss", "") != options_.issuer) return Rejected("wrong issuer");
  bool audience_ok = false;
  if (auto aud = payload.find("aud"); aud != payload.end()) {
    if (aud->is_string()) audience_ok = aud->get<std::string>() == options_.audience;
    if (aud->is_array()) {
      for (const json& a : *aud)
        audience_ok = audience_ok || (a.is_string() && a == options_.audience);
    }
  }
  if (!audience_ok) return Rejected("wrong audience");
  auto sub = payload.find("sub");
  if (sub == payload.end() || !sub->is_string() || sub->get<std::string>().empty()) {
    return Rejected("no \"sub\" claim");
  }
  JwtIdentity identity;
  identity.subject = sub->get<std::string>();
  std::optional<Role> role;
  if (auto claim = payload.find(options_.roles_claim); claim != payload.end()) {
    role = HighestRole(*claim);
  }
  if (!role) {
    return Status(StatusCode::kPermissionDenied, "the token grants no exportd role (claim \"" +
                                                     options_.roles_claim +
                                                     "\" names none of reader, exporter, admin)");
  }
  identity.role = *role;
  return identity;
}

}  // namespace exportd::api
