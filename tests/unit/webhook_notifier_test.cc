// WebhookNotifier against a real HTTP receiver (cpp-httplib in this process); the signature is
// checked by recomputing it with OpenSSL directly, as a receiver would.
#include "storage/notify/webhook_notifier.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/hmac.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "tests/fakes/fake_clock.h"

namespace exportd {
namespace {

using std::chrono::milliseconds;

const TimePoint kNow = TimePoint{} + std::chrono::seconds(1'700'000'123);

std::string ReceiverSignature(const std::string& secret, const std::string& timestamp,
                              const std::string& body) {
  const std::string data = timestamp + "." + body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[mac[i] >> 4];
    hex += kHex[mac[i] & 0xF];
  }
  return "sha256=" + hex;
}

Task SucceededTask() {
  Task t;
  t.id = "01JD0000000000000000000000";
  t.state = TaskState::kSucceeded;
  t.request.dataset = "samples";
  return t;
}

// A local receiver: records each request and answers from a script of statuses (then 200).
class Receiver {
 public:
  Receiver() {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(req);
      int status = 200;
      if (!script_.empty()) {
        status = script_.front();
        script_.erase(script_.begin());
      }
      res.status = status;
      if (status == 302) res.set_header("Location", "/elsewhere");
    });
    server_.Post("/elsewhere", [this](const httplib::Request&, httplib::Response& res) {
      ++redirected_;
      res.status = 200;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 500 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(milliseconds(2));
    }
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  void Script(std::vector<int> statuses) {
    std::lock_guard<std::mutex> lock(mu_);
    script_ = std::move(statuses);
  }
  std::vector<httplib::Request> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  int redirected() const { return redirected_; }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<int> script_;
  std::vector<httplib::Request> requests_;
  std::atomic<int> redirected_{0};
};

class WebhookNotifierTest : public ::testing::Test {
 protected:
  WebhookNotifier MakeNotifier() {
    WebhookOptions options;
    options.secret = "s3cr3t";
    options.timeout = milliseconds(3000);
    return WebhookNotifier([](const Task& t) { return R"({"id":")" + t.id + R"("})"; }, clock_,
                           options);
  }
  HookDelivery Hook() {
    HookDelivery d;
    d.hook = 0;
    d.channel = "webhook";
    d.target = receiver_.url();
    return d;
  }

  fakes::FakeClock clock_{kNow};
  Receiver receiver_;
};

TEST_F(WebhookNotifierTest, PostsTheSignedTaskJson) {
  WebhookNotifier notifier = MakeNotifier();
  Status s = notifier.Deliver(SucceededTask(), Hook());
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::vector<httplib::Request> got = receiver_.requests();
  ASSERT_EQ(got.size(), 1u);
  const httplib::Request& req = got[0];
  EXPECT_EQ(req.body, R"({"id":"01JD0000000000000000000000"})");
  EXPECT_EQ(req.get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(req.get_header_value("X-Exportd-Event"), "export.succeeded");
  EXPECT_EQ(req.get_header_value("X-Exportd-Delivery"), "01JD0000000000000000000000-1");
  EXPECT_EQ(req.get_header_value("X-Exportd-Timestamp"), "1700000123");
  EXPECT_EQ(req.get_header_value("X-Exportd-Signature"),
            ReceiverSignature("s3cr3t", "1700000123", req.body));
  // A receiver with another secret, or a changed body, would reject it.
  EXPECT_NE(req.get_header_value("X-Exportd-Signature"),
            ReceiverSignature("other", "1700000123", req.body));
}

TEST_F(WebhookNotifierTest, NonSuccessAnswersAreErrors) {
  WebhookNotifier notifier = MakeNotifier();
  receiver_.Script({500, 404});
  Status first = notifier.Deliver(SucceededTask(), Hook());
  EXPECT_EQ(first.code(), StatusCode::kUnavailable);
  EXPECT_NE(first.message().find("HTTP 500"), std::string::npos);
  EXPECT_FALSE(notifier.Deliver(SucceededTask(), Hook()).ok());
  EXPECT_TRUE(notifier.Deliver(SucceededTask(), Hook()).ok());
  // Every retry carries the same delivery id.
  std::vector<httplib::Request> got = receiver_.requests();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].get_header_value("X-Exportd-Delivery"),
            got[2].get_header_value("X-Exportd-Delivery"));
}

TEST_F(WebhookNotifierTest, RedirectsAreNotFollowed) {
  WebhookNotifier notifier = MakeNotifier();
  receiver_.Script({302});
  Status s = notifier.Deliver(SucceededTask(), Hook());
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("redirect"), std::string::npos) << s.ToString();
  EXPECT_EQ(receiver_.redirected(), 0);
}

TEST_F(WebhookNotifierTest, UnreachableReceiverIsTransient) {
  WebhookNotifier notifier = MakeNotifier();
  HookDelivery d = Hook();
  d.target = "http://127.0.0.1:1/hook";
  Status s = notifier.Deliver(SucceededTask(), d);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
}

TEST(WebhookMessageTest, EventNamesAndSignature) {
  EXPECT_EQ(WebhookEventName(TaskState::kFailed), "export.failed");
  EXPECT_EQ(WebhookEventName(TaskState::kCancelled), "export.cancelled");
  EXPECT_EQ(WebhookSignature("k", 12, "{}"), ReceiverSignature("k", "12", "{}"));
  WebhookOptions o;
  o.secret = "k";
  HttpRequest r = BuildWebhookRequest("http://h/x", "{}", "export.failed", "id-1", 12, o);
  EXPECT_EQ(r.method, "POST");
  EXPECT_FALSE(r.follow_redirects);
  EXPECT_EQ(r.connect_timeout, milliseconds(5000));
  EXPECT_EQ(r.timeout, milliseconds(10000));
}

}  // namespace
}  // namespace exportd
