#include "storage/s3/sigv4.h"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "core/time_format.h"
#include "storage/base/digest.h"

namespace exportd {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Canonical header value: leading/trailing spaces dropped, inner runs of spaces made one.
std::string TrimValue(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::string CanonicalQuery(const HeaderPairs& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(AwsUriEncode(name, false), AwsUriEncode(value, false));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

struct CanonicalHeaders {
  std::string text;          // "name:value\n" per header, sorted
  std::string signed_names;  // "a;b;c"
};

CanonicalHeaders Canonicalize(const HeaderPairs& headers) {
  std::vector<std::pair<std::string, std::string>> sorted;
  sorted.reserve(headers.size());
  for (const auto& [name, value] : headers) sorted.emplace_back(Lower(name), TrimValue(value));
  std::sort(sorted.begin(), sorted.end());
  CanonicalHeaders out;
  for (const auto& [name, value] : sorted) {
    out.text += name + ":" + value + "\n";
    if (!out.signed_names.empty()) out.signed_names.push_back(';');
    out.signed_names += name;
  }
  return out;
}

std::string DateStamp(std::string_view amz_date) { return std::string(amz_date.substr(0, 8)); }

std::string Scope(std::string_view date, std::string_view region, std::string_view service) {
  std::string out =
      std::string(date) + "/" + std::string(region) + "/" + std::string(service) + "/aws4_request";
  return out;
}

// Fills canonical_request, string_to_sign and signature of `parts`.
void Sign(SigV4Parts& parts, std::string_view method, std::string_view encoded_path,
          std::string_view canonical_query, const CanonicalHeaders& headers,
          std::string_view payload_hash, std::string_view amz_date, std::string_view scope,
          const AwsCredentials& credentials, std::string_view region, std::string_view service) {
  parts.canonical_request = std::string(method) + "\n" + std::string(encoded_path) + "\n" +
                            std::string(canonical_query) + "\n" + headers.text + "\n" +
                            headers.signed_names + "\n" + std::string(payload_hash);
  parts.string_to_sign = std::string(kAlgorithm) + "\n" + std::string(amz_date) + "\n" +
                         std::string(scope) + "\n" + Sha256Hex(parts.canonical_request);
  const std::string k_date =
      HmacSha256("AWS4" + credentials.secret_access_key, DateStamp(amz_date));
  const std::string k_region = HmacSha256(k_date, region);
  const std::string k_service = HmacSha256(k_region, service);
  const std::string k_signing = HmacSha256(k_service, "aws4_request");
  parts.signature = HmacSha256Hex(k_signing, parts.string_to_sign);
  parts.signed_headers = headers.signed_names;
}

}  // namespace

std::string AwsUriEncode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~' || (c == '/' && keep_slash)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string AmzDate(TimePoint t) {
  const std::time_t secs = static_cast<std::time_t>(ToUnixSeconds(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

SignedHeaders SignRequest(const SigV4Request& request, const AwsCredentials& credentials,
                          std::string_view region, TimePoint now, std::string_view service) {
  const std::string amz_date = AmzDate(now);
  SignedHeaders out;
  out.headers.emplace_back("x-amz-date", amz_date);
  out.headers.emplace_back("x-amz-content-sha256", request.payload_sha256);
  if (!credentials.session_token.empty()) {
    out.headers.emplace_back("x-amz-security-token", credentials.session_token);
  }
  HeaderPairs to_sign = request.headers;
  to_sign.emplace_back("host", request.host);
  to_sign.insert(to_sign.end(), out.headers.begin(), out.headers.end());
  const CanonicalHeaders canonical = Canonicalize(to_sign);
  out.encoded_path = AwsUriEncode(request.path, true);
  out.query = CanonicalQuery(request.query);
  const std::string scope = Scope(DateStamp(amz_date), region, service);
  out.parts.credential = credentials.access_key_id + "/" + scope;
  Sign(out.parts, request.method, out.encoded_path, out.query, canonical, request.payload_sha256,
       amz_date, scope, credentials, region, service);
  out.headers.emplace_back("Authorization", std::string(kAlgorithm) +
                                                " Credential=" + out.parts.credential +
                                                ",SignedHeaders=" + out.parts.signed_headers +
                                                ",Signature=" + out.parts.signature);
  return out;
}

PresignedQuery PresignRequest(const SigV4Request& request, const AwsCredentials& credentials,
                              std::string_view region, TimePoint now, std::chrono::seconds expires,
                              std::string_view service) {
  const std::string amz_date = AmzDate(now);
  const std::string scope = Scope(DateStamp(amz_date), region, service);
  HeaderPairs to_sign = request.headers;
  to_sign.emplace_back("host", request.host);
  const CanonicalHeaders canonical = Canonicalize(to_sign);

  PresignedQuery out;
  out.parts.credential = credentials.access_key_id + "/" + scope;
  HeaderPairs query = request.query;
  query.emplace_back("X-Amz-Algorithm", std::string(kAlgorithm));
  query.emplace_back("X-Amz-Credential", out.parts.credential);
  query.emplace_back("X-Amz-Date", amz_date);
  query.emplace_back("X-Amz-Expires", std::to_string(expires.count()));
  if (!credentials.session_token.empty()) {
    query.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  query.emplace_back("X-Amz-SignedHeaders", canonical.signed_names);
  out.encoded_path = AwsUriEncode(request.path, true);
  out.query = CanonicalQuery(query);
  Sign(out.parts, request.method, out.encoded_path, out.query, canonical, kUnsignedPayload,
       amz_date, scope, credentials, region, service);
  out.query += "&X-Amz-Signature=" + out.parts.signature;
  return out;
}

}  // namespace exportd
