// Pre-signed downloads: the signature is the credential. Tampered signature or expiry, another
// file's or task's signature, an expired link: 403. Range: 206 with Content-Range, 416 when
// unsatisfiable. ETag, Content-Disposition, Content-Type.
#include <map>

#include "tests/integration/itest_support.h"

namespace exportd::itest {
namespace {

struct SignedUrl {
  std::string path;  // /v1/exports/ID/files/NAME
  std::map<std::string, std::string> query;

  static SignedUrl Parse(const std::string& url) {
    SignedUrl u;
    std::string rest = HttpClient::PathOf(url);
    auto q = rest.find('?');
    u.path = rest.substr(0, q);
    if (q == std::string::npos) return u;
    std::string qs = rest.substr(q + 1);
    size_t pos = 0;
    while (pos <= qs.size()) {
      size_t amp = qs.find('&', pos);
      std::string kv = qs.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
      auto eq = kv.find('=');
      if (!kv.empty()) u.query[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
      if (amp == std::string::npos) break;
      pos = amp + 1;
    }
    return u;
  }

  std::string With(const std::string& path_override, const std::string& expires,
                   const std::string& signature) const {
    return (path_override.empty() ? path : path_override) + "?expires=" + expires +
           "&signature=" + signature;
  }
};

std::string FlipLastHex(std::string s) {
  if (s.empty()) return "0";
  s.back() = s.back() == '0' ? '1' : '0';
  return s;
}

class DownloadTest : public ExportdTest {
 protected:
  Json ExportItems(const Json& extra = Json::object()) {
    Json body = {{"dataset", "items"}, {"max_rows_per_file", 400}};
    for (auto it = extra.begin(); it != extra.end(); ++it) body[it.key()] = it.value();
    const std::string id = CreateExport(*api_, body);
    if (id.empty()) return nullptr;
    return WaitForTerminal(*api_, id, seconds(30));
  }
  HttpResponse Fetch(const std::string& path_and_query, const HeaderList& headers = {}) {
    return api_->Send("GET", path_and_query, "", "", headers, /*with_auth=*/false);
  }
};

TEST_F(DownloadTest, SignedLinksServeFilesWithHeadersAndRanges) {
  ASSERT_TRUE(StartWithItems(1000));
  Json task = ExportItems();
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  ASSERT_EQ(task["files"].size(), 3u) << task.dump();
  const Json& f1 = task["files"][0];
  const SignedUrl u1 = SignedUrl::Parse(f1.value("url", ""));
  ASSERT_EQ(u1.path, "/v1/exports/" + task.value("id", "") + "/files/part-00001.csv") << f1.dump();
  ASSERT_TRUE(u1.query.count("expires") && u1.query.count("signature")) << f1.dump();
  EXPECT_EQ(f1.value("url", "").rfind(server_->base_url(), 0), 0u)
      << "url is not absolute on public_url: " << f1.dump();

  // The plain download, without any Authorization header.
  auto full = Fetch(u1.With("", u1.query.at("expires"), u1.query.at("signature")));
  ASSERT_EQ(full.status, 200) << full.Describe();
  EXPECT_EQ(Sha256Hex(full.body), f1.value("sha256", ""));
  EXPECT_EQ(full.Header("Content-Type").rfind("text/csv", 0), 0u) << full.Header("Content-Type");
  const std::string cd = full.Header("Content-Disposition");
  EXPECT_NE(cd.find("attachment"), std::string::npos) << cd;
  EXPECT_NE(cd.find("filename=\"part-00001.csv\""), std::string::npos) << cd;
  const std::string etag = full.Header("ETag");
  EXPECT_FALSE(etag.empty()) << "no ETag";
  EXPECT_NE(etag.find(f1.value("sha256", "")), std::string::npos) << "ETag " << etag;
  EXPECT_EQ(full.Header("Accept-Ranges"), "bytes");
  const size_t size = full.body.size();

  // Ranges.
  const std::string link = u1.With("", u1.query.at("expires"), u1.query.at("signature"));
  auto head = Fetch(link, {{"Range", "bytes=0-9"}});
  EXPECT_EQ(head.status, 206) << head.Describe();
  EXPECT_EQ(head.body, full.body.substr(0, 10));
  EXPECT_EQ(head.Header("Content-Range"), "bytes 0-9/" + std::to_string(size));
  auto tail = Fetch(link, {{"Range", "bytes=-5"}});
  EXPECT_EQ(tail.status, 206) << tail.Describe();
  EXPECT_EQ(tail.body, full.body.substr(size - 5));
  EXPECT_EQ(tail.Header("Content-Range"), "bytes " + std::to_string(size - 5) + "-" +
                                              std::to_string(size - 1) + "/" +
                                              std::to_string(size));
  auto rest = Fetch(link, {{"Range", "bytes=100-"}});
  EXPECT_EQ(rest.status, 206) << rest.Describe();
  EXPECT_EQ(rest.body, full.body.substr(100));
  auto beyond = Fetch(link, {{"Range", "bytes=999999999-"}});
  EXPECT_EQ(beyond.status, 416) << beyond.Describe();
  EXPECT_EQ(beyond.Header("Content-Range"), "bytes */" + std::to_string(size));

  // The manifest downloads the same way.
  const std::string manifest_url = task["links"].value("manifest", "");
  auto manifest = api_->GetUrl(manifest_url);
  EXPECT_EQ(manifest.status, 200) << manifest.Describe();
  EXPECT_TRUE(manifest.json.is_object()) << manifest.Describe();
  EXPECT_TRUE(manifest.json.contains("request")) << manifest.Describe();
}

TEST_F(DownloadTest, TamperedOrForeignSignaturesAre403) {
  ASSERT_TRUE(StartWithItems(1000));
  Json task = ExportItems();
  Json other = ExportItems({{"format", "json"}});
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  ASSERT_EQ(other.value("status", ""), "Succeeded") << other.dump();
  const SignedUrl u1 = SignedUrl::Parse(task["files"][0].value("url", ""));
  const SignedUrl u2 = SignedUrl::Parse(task["files"][1].value("url", ""));
  const SignedUrl o1 = SignedUrl::Parse(other["files"][0].value("url", ""));
  const std::string exp = u1.query.at("expires");
  const std::string sig = u1.query.at("signature");
  const std::string id = task.value("id", "");
  ASSERT_EQ(Fetch(u1.With("", exp, sig)).status, 200);

  const std::vector<std::pair<std::string, std::string>> bad = {
      {"tampered signature", u1.With("", exp, FlipLastHex(sig))},
      {"truncated signature", u1.With("", exp, sig.substr(0, sig.size() / 2))},
      {"empty signature", u1.With("", exp, "")},
      {"signature not hex", u1.With("", exp, std::string(sig.size(), 'z'))},
      {"tampered expires (+1)", u1.With("", std::to_string(std::stoll(exp) + 1), sig)},
      {"expires pushed far out", u1.With("", "9999999999", sig)},
      {"expires not a number", u1.With("", "soon", sig)},
      {"no query at all", u1.path},
      {"another file's signature", u1.With("", u2.query.at("expires"), u2.query.at("signature"))},
      {"this signature on another file", u1.With(u2.path, exp, sig)},
      {"this signature on an unknown file",
       u1.With("/v1/exports/" + id + "/files/part-00009.csv", exp, sig)},
      {"this signature on the manifest",
       u1.With("/v1/exports/" + id + "/files/manifest.json", exp, sig)},
      {"another task's signature", u1.With("", o1.query.at("expires"), o1.query.at("signature"))},
      {"this signature on another task",
       u1.With("/v1/exports/" + other.value("id", "") + "/files/part-00001.csv", exp, sig)},
  };
  for (const auto& [what, link] : bad) {
    auto res = Fetch(link);
    EXPECT_EQ(res.status, 403) << what << ": " << res.Describe();
    EXPECT_TRUE(IsProblem(res)) << what;
    EXPECT_EQ(res.body.find("\r\n"), std::string::npos) << what << ": body looks like the CSV";
  }
  // A Bearer token does not replace the signature.
  auto with_key = api_->Get(u1.path);
  EXPECT_EQ(with_key.status, 403) << with_key.Describe();
}

TEST_F(DownloadTest, ExpiredLinkIs403AndAFreshOneWorks) {
  ASSERT_TRUE(StartWithItems(100, {{"download_url_ttl_seconds", 1}}));
  Json task = ExportItems();
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  const Json& f = task["files"][0];
  const SignedUrl u = SignedUrl::Parse(f.value("url", ""));
  const int64_t expires = std::stoll(u.query.at("expires"));
  auto expires_at = ParseRfc3339Millis(f.value("expires_at", ""));
  ASSERT_TRUE(expires_at.has_value()) << f.dump();
  EXPECT_EQ(*expires_at / 1000, expires)
      << "expires_at and the url's expires disagree: " << f.dump();
  EXPECT_LE(expires - *UnixNowSeconds(), 2) << "ttl 1 s, but the link expires later: " << f.dump();

  ASSERT_TRUE(WaitFor([&] { return *UnixNowSeconds() > expires; }, seconds(5)));
  auto res = api_->GetUrl(f.value("url", ""));
  EXPECT_EQ(res.status, 403) << res.Describe();
  EXPECT_TRUE(IsProblem(res));
  // GET the task again: a fresh link.
  Json again = GetTask(*api_, task.value("id", ""));
  auto fresh = api_->GetUrl(again["files"][0].value("url", ""));
  EXPECT_EQ(fresh.status, 200) << fresh.Describe();
  EXPECT_EQ(Sha256Hex(fresh.body), f.value("sha256", ""));
}

TEST_F(DownloadTest, GzipFilesDownloadAsStoredBytes) {
  ASSERT_TRUE(StartWithItems(300));
  Json task = ExportItems({{"compression", "gzip"}, {"format", "ndjson"}});
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  // Not re-encoded on the wire: the bytes served are the stored gzip file.
  auto res = api_->GetUrl(task["files"][0].value("url", ""), {{"Accept-Encoding", "gzip"}});
  ASSERT_EQ(res.status, 200) << res.Describe();
  EXPECT_EQ(Sha256Hex(res.body), task["files"][0].value("sha256", ""));
  EXPECT_EQ(res.Header("Content-Encoding"), "") << "a .gz file must not be sent with "
                                                   "Content-Encoding (clients would unpack it)";
  ExpectExportMatches(*api_, task, ExpectedItems());
}

// If-None-Match (RFC 9110 13.1.2): "*" matches any current file, a list matches when one of its
// tags does, and the comparison is weak (W/ ignored): 304 without a body. Others get the file.
TEST_F(DownloadTest, IfNoneMatchStarListsAndWeakTagsAre304) {
  ASSERT_TRUE(StartWithItems(50));
  Json task = ExportItems();
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  const SignedUrl u = SignedUrl::Parse(task["files"][0].value("url", ""));
  const std::string link = u.With("", u.query.at("expires"), u.query.at("signature"));
  const std::string etag = "\"" + task["files"][0].value("sha256", "") + "\"";
  for (const std::string& header :
       {std::string("*"), etag, "\"other\", " + etag, "W/" + etag, "\"a\",W/" + etag}) {
    HttpResponse res = Fetch(link, {{"If-None-Match", header}});
    EXPECT_EQ(res.status, 304) << "If-None-Match: " << header << " -> " << res.Describe();
    EXPECT_TRUE(res.body.empty()) << header;
  }
  for (const std::string& header : {std::string("\"other\""), std::string("W/\"x\", \"y\"")}) {
    HttpResponse res = Fetch(link, {{"If-None-Match", header}});
    EXPECT_EQ(res.status, 200) << "If-None-Match: " << header << " -> " << res.Describe();
  }
}

}  // namespace
}  // namespace exportd::itest
