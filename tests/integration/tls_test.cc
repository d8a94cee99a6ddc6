// TLS listener (issue 6, OWASP API8 security misconfiguration): with tls_cert/tls_key the
// service speaks HTTPS only, with a certificate clients can verify; links it hands out are
// https; a certificate it cannot use stops start-up with a clear message.
#include <cstdlib>

#include "tests/integration/itest_support.h"

namespace exportd::itest {
namespace {

// A self-signed certificate for 127.0.0.1 made by the openssl command-line tool.
struct TestCertificate {
  std::string cert;
  std::string key;
};

TestCertificate MakeCertificate(const std::string& dir, const std::string& name) {
  TestCertificate c{dir + "/" + name + ".pem", dir + "/" + name + "-key.pem"};
  const std::string command =
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout '" + c.key + "' -out '" + c.cert +
      "' -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 "
      ">/dev/null 2>&1";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  return c;
}

class TlsTest : public ExportdTest {
 protected:
  TempDir certs_;
};

TEST_F(TlsTest, ServesHttpsWithAVerifiableCertificateAndHttpsLinks) {
  TestCertificate c = MakeCertificate(certs_.path(), "server");
  ExportdProcess::Options options;
  options.config = Json{{"tls_cert", c.cert}, {"tls_key", c.key}, {"demo_rows", 500}};
  options.tls_ca_file = c.cert;
  ASSERT_TRUE(StartServer(options));
  api_->set_tls_ca(c.cert);

  HttpResponse health = api_->Get("/healthz");
  EXPECT_EQ(health.status, 200) << health.Describe();
  HttpResponse created = api_->PostJson("/v1/exports", Json{{"dataset", "samples"}});
  ASSERT_EQ(created.status, 202) << created.Describe();
  const std::string id = created.json["id"];
  HttpResponse done;
  ASSERT_TRUE(WaitFor(
      [&] {
        done = api_->Get("/v1/exports/" + id);
        return done.json.value("status", "") == "Succeeded";
      },
      seconds(60)))
      << done.Describe();
  const std::string url = done.json["files"][0]["url"];
  EXPECT_EQ(url.rfind("https://127.0.0.1:" + std::to_string(server_->port()) + "/", 0), 0) << url;
  HttpResponse file = api_->Get(HttpClient::PathOf("http" + url.substr(5)));
  EXPECT_EQ(file.status, 200) << file.Describe();
  EXPECT_EQ(static_cast<int64_t>(file.body.size()), done.json["files"][0]["bytes"].get<int64_t>());
}

TEST_F(TlsTest, PlainHttpAndUntrustedCertificatesAreRefused) {
  TestCertificate c = MakeCertificate(certs_.path(), "server");
  TestCertificate other = MakeCertificate(certs_.path(), "other");
  ExportdProcess::Options options;
  options.config = Json{{"tls_cert", c.cert}, {"tls_key", c.key}, {"demo_rows", 10}};
  options.tls_ca_file = c.cert;
  ASSERT_TRUE(StartServer(options));

  HttpClient plain(server_->host(), server_->port(), server_->admin_key());
  HttpResponse r = plain.Get("/v1/datasets");
  EXPECT_NE(r.status, 200) << "plain HTTP on the TLS port: " << r.Describe();

  HttpClient wrong_ca(server_->host(), server_->port(), server_->admin_key());
  wrong_ca.set_tls_ca(other.cert);
  r = wrong_ca.Get("/v1/datasets");
  EXPECT_EQ(r.status, 0) << "a client that does not trust the certificate must not connect";

  HttpClient good(server_->host(), server_->port(), server_->admin_key());
  good.set_tls_ca(c.cert);
  r = good.Get("/v1/datasets");
  EXPECT_EQ(r.status, 200) << r.Describe();
}

TEST_F(TlsTest, UnusableCertificateStopsStartUp) {
  TestCertificate c = MakeCertificate(certs_.path(), "server");
  TestCertificate other = MakeCertificate(certs_.path(), "other");
  struct Case {
    Json config;
    std::string expect_in_log;
  } cases[] = {
      {Json{{"tls_cert", c.cert}}, "tls_cert and tls_key go together"},
      {Json{{"tls_cert", c.cert}, {"tls_key", other.key}}, "cannot use TLS certificate"},
      {Json{{"tls_cert", c.key}, {"tls_key", c.key}}, "cannot use TLS certificate"},
  };
  for (const Case& k : cases) {
    ExportdProcess::Options options;
    options.config = k.config;
    options.config["demo_rows"] = 10;
    options.tls_ca_file = c.cert;
    options.start_timeout = seconds(10);
    ExportdProcess process(options);
    std::string error;
    EXPECT_FALSE(process.Start(&error)) << k.config.dump();
    EXPECT_NE(error.find(k.expect_in_log), std::string::npos) << k.config.dump() << "\n" << error;
  }
}

}  // namespace
}  // namespace exportd::itest
