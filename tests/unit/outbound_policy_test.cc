// SSRF guard for webhook targets (issue 6, OWASP API7:2023).
#include "storage/notify/outbound_policy.h"

#include <gtest/gtest.h>

namespace exportd {
namespace {

std::array<uint8_t, 16> Ip(const char* text) {
  std::array<uint8_t, 16> ip{};
  EXPECT_TRUE(ParseIpAddress(text, ip)) << text;
  return ip;
}

TEST(OutboundPolicyTest, NonPublicAddressesAreRecognised) {
  for (const char* a : {"127.0.0.1",
                        "127.255.0.9",
                        "10.1.2.3",
                        "172.16.0.1",
                        "172.31.255.255",
                        "192.168.1.1",
                        "169.254.169.254",
                        "100.64.0.1",
                        "0.0.0.0",
                        "224.0.0.1",
                        "255.255.255.255",
                        "::1",
                        "::",
                        "fe80::1",
                        "fd00:ec2::254",
                        "fc00::1",
                        "ff02::1",
                        "::ffff:127.0.0.1",
                        "::ffff:169.254.169.254",
                        "64:ff9b::a9fe:a9fe",
                        "::127.0.0.1"}) {
    EXPECT_TRUE(IsNonPublicAddress(Ip(a))) << a;
  }
  for (const char* a : {"8.8.8.8", "1.1.1.1", "172.32.0.1", "192.169.0.1", "2606:4700::1111",
                        "64:ff9b::808:808", "::ffff:8.8.8.8"}) {
    EXPECT_FALSE(IsNonPublicAddress(Ip(a))) << a;
  }
}

TEST(OutboundPolicyTest, CidrsParseAndMatch) {
  Result<IpNetwork> net = ParseCidr("10.1.2.0/24");
  ASSERT_TRUE(net.ok());
  EXPECT_TRUE(net->Contains(Ip("10.1.2.200")));
  EXPECT_FALSE(net->Contains(Ip("10.1.3.1")));
  Result<IpNetwork> v6 = ParseCidr("fd00::/8");
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(v6->Contains(Ip("fd12::1")));
  EXPECT_TRUE(ParseCidr("127.0.0.1").ok());
  for (const char* bad :
       {"10.1.2.0/33", "fd00::/129", "example.org", "10.1.2/24", "1.2.3.4/x", ""}) {
    EXPECT_FALSE(ParseCidr(bad).ok()) << bad;
  }
}

TEST(OutboundPolicyTest, CheckRefusesInternalTargetsUnlessAllowlisted) {
  OutboundPolicy strict({});
  for (const char* url : {"http://127.0.0.1:8080/hook", "http://[::1]/hook",
                          "http://169.254.169.254/latest/meta-data/", "http://localhost/hook",
                          "https://10.0.0.5/x", "http://0x7f000001/", "http://2130706433/"}) {
    Result<PinnedTarget> r = strict.Check(url);
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied)
        << url << ": " << r.status().ToString();
  }
  EXPECT_EQ(strict.Check("ftp://example.org/").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(strict.Check("not a url").status().code(), StatusCode::kInvalidArgument);

  OutboundPolicy allow_loopback({*ParseCidr("127.0.0.0/8")});
  Result<PinnedTarget> ok = allow_loopback.Check("http://127.0.0.1:9000/hook");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->address, "127.0.0.1");
  EXPECT_EQ(ok->port, 9000);
  EXPECT_EQ(ok->CurlResolveEntry(), "127.0.0.1:9000:127.0.0.1");
  // The allowlist opens exactly its range.
  EXPECT_FALSE(allow_loopback.Check("http://192.168.0.1/").ok());
  Result<PinnedTarget> named = allow_loopback.Check("http://localhost:81/");
  ASSERT_TRUE(named.ok()) << named.status().ToString();
  EXPECT_EQ(named->CurlResolveEntry().rfind("localhost:81:", 0), 0u);
}

}  // namespace
}  // namespace exportd
