#include "storage/auth/jwks.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "storage/base/base64.h"
#include "storage/base/curl_util.h"

namespace exportd {
namespace {

using json = nlohmann::json;

struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};

Status KeyError(const std::string& where, const std::string& what) {
  return InvalidArgument("JWKS key " + where + ": " + what);
}

Result<std::string> Member(const json& key, const char* name, const std::string& where) {
  auto it = key.find(name);
  if (it == key.end() || !it->is_string()) {
    return KeyError(where, std::string("\"") + name + "\" is missing or not a string");
  }
  Result<std::string> decoded = Base64UrlDecode(it->get<std::string>());
  if (!decoded.ok()) return KeyError(where, std::string("\"") + name + "\" is not base64url");
  if (decoded->empty()) return KeyError(where, std::string("\"") + name + "\" is empty");
  return decoded;
}

// Builds a public key of `type` ("RSA" or "EC") from OSSL_PARAMs and writes it as PEM.
Result<std::string> PublicPem(const char* type, OSSL_PARAM_BLD* bld, const std::string& where) {
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0) {
    return Status(StatusCode::kInternal, "OpenSSL cannot build a " + std::string(type) + " key");
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) {
    return KeyError(where, "not a valid " + std::string(type) + " public key");
  }
  std::unique_ptr<EVP_PKEY, PkeyFree> pkey(raw);
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), pkey.get()) != 1) {
    return Status(StatusCode::kInternal, "OpenSSL cannot write a public key");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

Result<std::string> RsaPem(const json& key, const std::string& where) {
  ASSIGN_OR_RETURN(std::string n, Member(key, "n", where));
  ASSIGN_OR_RETURN(std::string e, Member(key, "e", where));
  if (n.size() < 256) return KeyError(where, "RSA modulus shorter than 2048 bits");
  auto to_bn = [](const std::string& bytes) {
    return std::unique_ptr<BIGNUM, BnFree>(
        BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                  static_cast<int>(bytes.size()), nullptr));
  };
  auto bn_n = to_bn(n);
  auto bn_e = to_bn(e);
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get())) {
    return Status(StatusCode::kInternal, "OpenSSL cannot hold an RSA key");
  }
  return PublicPem("RSA", bld.get(), where);
}

Result<std::string> EcPem(const json& key, const std::string& where) {
  if (key.value("crv", "") != "P-256") return KeyError(where, "only EC keys on P-256 are used");
  ASSIGN_OR_RETURN(std::string x, Member(key, "x", where));
  ASSIGN_OR_RETURN(std::string y, Member(key, "y", where));
  if (x.size() != 32 || y.size() != 32) return KeyError(where, "P-256 coordinates are 32 bytes");
  std::string point = "\x04" + x + y;  // uncompressed SEC1 point
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                        point.size())) {
    return Status(StatusCode::kInternal, "OpenSSL cannot hold an EC key");
  }
  return PublicPem("EC", bld.get(), where);
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read JWKS file " + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

Result<std::vector<JsonWebKey>> ParseJwks(std::string_view json_text) {
  json doc = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return InvalidArgument("JWKS is not a JSON object");
  auto keys = doc.find("keys");
  if (keys == doc.end() || !keys->is_array()) return InvalidArgument("JWKS has no \"keys\" array");
  std::vector<JsonWebKey> out;
  for (size_t i = 0; i < keys->size(); ++i) {
    const json& key = (*keys)[i];
    if (!key.is_object())
      return InvalidArgument("JWKS key #" + std::to_string(i) + " is not an object");
    JsonWebKey k;
    k.kid = key.value("kid", "");
    k.kty = key.value("kty", "");
    k.alg = key.value("alg", "");
    std::string where = "#";
    where += std::to_string(i);
    if (!k.kid.empty()) where += " (" + k.kid + ")";
    if (key.contains("use") && key.value("use", "") != "sig") continue;  // encryption keys
    if (k.kty == "RSA") {
      ASSIGN_OR_RETURN(k.public_pem, RsaPem(key, where));
    } else if (k.kty == "EC") {
      if (key.value("crv", "") != "P-256") continue;  // curves we do not verify
      ASSIGN_OR_RETURN(k.public_pem, EcPem(key, where));
    } else if (k.kty == "oct") {
      ASSIGN_OR_RETURN(k.secret, Member(key, "k", where));
      if (k.secret.size() < 32) return KeyError(where, "HS256 secrets need at least 32 bytes");
    } else {
      continue;
    }
    out.push_back(std::move(k));
  }
  if (out.empty()) return InvalidArgument("JWKS has no usable signing key (RSA, EC P-256, oct)");
  return out;
}

Result<std::unique_ptr<FileKeySetProvider>> FileKeySetProvider::Open(std::string path) {
  std::unique_ptr<FileKeySetProvider> provider(new FileKeySetProvider(std::move(path)));
  RETURN_IF_ERROR(provider->Load());
  return provider;
}

Status FileKeySetProvider::Load() {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path_));
  Result<std::vector<JsonWebKey>> keys = ParseJwks(text);
  if (!keys.ok()) return keys.status().WithContext(path_);
  std::lock_guard<std::mutex> lock(mu_);
  keys_ = std::move(*keys);
  return Status::Ok();
}

Result<std::vector<JsonWebKey>> FileKeySetProvider::Keys(bool refresh) {
  // A file that became unreadable keeps the last good keys: rotation must not lock everyone out.
  if (refresh) (void)Load();
  std::lock_guard<std::mutex> lock(mu_);
  return keys_;
}

UrlKeySetProvider::UrlKeySetProvider(std::string issuer, std::string jwks_url,
                                     std::chrono::seconds ttl, std::chrono::seconds min_refresh)
    : issuer_(std::move(issuer)),
      ttl_(ttl),
      min_refresh_(min_refresh),
      jwks_url_(std::move(jwks_url)) {}

Result<std::string> UrlKeySetProvider::ResolveJwksUrl() {
  if (!jwks_url_.empty()) return jwks_url_;
  std::string base = issuer_;
  while (!base.empty() && base.back() == '/') base.pop_back();
  HttpRequest request;
  request.url = base + "/.well-known/openid-configuration";
  request.timeout = std::chrono::seconds(10);
  ASSIGN_OR_RETURN(HttpResponse response, PerformHttp(request));
  RETURN_IF_ERROR(RemoteHttpStatus(response.status, "GET " + request.url));
  json doc = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("jwks_uri") || !doc["jwks_uri"].is_string()) {
    return Unavailable(request.url + " has no jwks_uri");
  }
  jwks_url_ = doc["jwks_uri"].get<std::string>();
  return jwks_url_;
}

Result<std::vector<JsonWebKey>> UrlKeySetProvider::Keys(bool refresh) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (fetched_at_) {
    const auto age = now - *fetched_at_;
    const bool fresh = age < ttl_;
    const bool may_refresh = age >= min_refresh_;
    if (fresh && !(refresh && may_refresh)) return keys_;
  }
  Result<std::string> url = ResolveJwksUrl();
  Result<std::vector<JsonWebKey>> keys = url.status();
  if (url.ok()) {
    HttpRequest request;
    request.url = *url;
    request.timeout = std::chrono::seconds(10);
    Result<HttpResponse> response = PerformHttp(request);
    if (!response.ok()) {
      keys = response.status();
    } else if (Status s = RemoteHttpStatus(response->status, "GET " + *url); !s.ok()) {
      keys = s;
    } else {
      keys = ParseJwks(response->body);
    }
  }
  if (!keys.ok()) {
    // Keep serving the last good set through an outage of the issuer, and ask again only
    // after min_refresh, not on every request.
    if (fetched_at_) {
      fetched_at_ = now - ttl_ + min_refresh_;
      return keys_;
    }
    return keys.status().WithContext("fetching the issuer's keys");
  }
  keys_ = std::move(*keys);
  fetched_at_ = now;
  return keys_;
}

}  // namespace exportd
