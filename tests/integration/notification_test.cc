// Notifications end to end: the real exportd binary, a real HTTP receiver in this process
// (cpp-httplib) and a real SMTP server (aiosmtpd, started by the test). Retry delays are
// shortened with notification_retry_base_ms so that five attempts take well under a second.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <thread>

#include "tests/integration/itest_support.h"

extern char** environ;

namespace exportd::itest {
namespace {

namespace fs = std::filesystem;

const std::string kSecret = "itest-webhook-secret";

std::string HmacHex(const std::string& key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[mac[i] >> 4];
    hex += kHex[mac[i] & 0xF];
  }
  return hex;
}

// What a receiver does: recompute the signature over "timestamp.body" and compare.
bool SignatureVerifies(const std::string& secret, const httplib::Request& req) {
  const std::string ts = req.get_header_value("X-Exportd-Timestamp");
  return !ts.empty() && req.get_header_value("X-Exportd-Signature") ==
                            "sha256=" + HmacHex(secret, ts + "." + req.body);
}

struct Received {
  httplib::Request request;
  int answered = 0;
  Clock::time_point at;
};

// A webhook receiver on a free loopback port; answers from a script of statuses, then 200.
class Receiver {
 public:
  Receiver() {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      int status = 200;
      if (!script_.empty()) {
        status = script_.front();
        script_.erase(script_.begin());
      }
      res.status = status;
      received_.push_back({req, status, Clock::now()});
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    WaitFor([this] { return server_.is_running(); }, seconds(5), milliseconds(2));
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  int port() const { return port_; }
  void Script(std::vector<int> statuses) {
    std::lock_guard<std::mutex> lock(mu_);
    script_ = std::move(statuses);
  }
  std::vector<Received> received() {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<int> script_;
  std::vector<Received> received_;
};

// A receiver that accepts connections and never answers (until the test ends): the webhook's
// request times out. Counts the connections it accepted.
class HangingReceiver {
 public:
  HangingReceiver() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen on loopback";
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      // Bounded: each poll waits at most 50 ms, and the loop ends with the receiver.
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        const int conn = ::accept(fd_, nullptr, nullptr);
        if (conn < 0) continue;
        std::lock_guard<std::mutex> lock(mu_);
        accepted_.push_back(conn);
      }
    });
  }
  ~HangingReceiver() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    for (int fd : accepted_) ::close(fd);
    if (fd_ >= 0) ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  size_t accepted() {
    std::lock_guard<std::mutex> lock(mu_);
    return accepted_.size();
  }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<int> accepted_;
};

// aiosmtpd storing each message in a maildir; started and stopped by PID.
class SmtpServer {
 public:
  // Plain SMTP: aiosmtpd's command line.
  explicit SmtpServer(const std::string& maildir) : maildir_(maildir), port_(PickFreePort()) {
    const std::string listen = "127.0.0.1:" + std::to_string(port_);
    Spawn({"/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l", listen, "-c",
           "aiosmtpd.handlers.Mailbox", maildir_});
  }
  // STARTTLS required and AUTH (user "exportd", password "pw"): a Controller script.
  SmtpServer(const std::string& maildir, const std::string& script, const std::string& cert,
             const std::string& key)
      : maildir_(maildir), port_(PickFreePort()) {
    Spawn({"/usr/bin/python3", script, std::to_string(port_), maildir_, cert, key});
  }
  void Spawn(std::vector<std::string> args) {
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) != 0) pid_ = -1;
  }
  ~SmtpServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  // Polls until the port accepts connections (a greeting arrives).
  bool WaitReady() {
    if (pid_ <= 0) return false;
    return WaitFor(
        [this] {
          int fd = ::socket(AF_INET, SOCK_STREAM, 0);
          sockaddr_in addr{};
          addr.sin_family = AF_INET;
          addr.sin_port = htons(static_cast<uint16_t>(port_));
          addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
          const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
          ::close(fd);
          return ok;
        },
        seconds(15), milliseconds(30));
  }
  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }
  // The stored messages (maildir "new"), in no particular order.
  std::vector<std::string> Messages() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (auto it = fs::directory_iterator(fs::path(maildir_) / "new", ec);
         !ec && it != fs::directory_iterator(); it.increment(ec)) {
      out.push_back(ReadFileOrEmpty(it->path().string()));
    }
    return out;
  }

 private:
  std::string maildir_;
  int port_;
  pid_t pid_ = -1;
};

// A parsed mail: unfolded headers and the quoted-printable body decoded.
struct Mail {
  std::map<std::string, std::string> headers;
  std::string body;
};

Mail ParseMail(std::string raw) {
  raw.erase(std::remove(raw.begin(), raw.end(), '\r'), raw.end());
  Mail m;
  const size_t end = raw.find("\n\n");
  std::string head = raw.substr(0, end);
  std::string last;
  size_t pos = 0;
  while (pos < head.size()) {
    size_t eol = head.find('\n', pos);
    if (eol == std::string::npos) eol = head.size();
    std::string line = head.substr(pos, eol - pos);
    pos = eol + 1;
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      m.headers[last] += line;
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    last = line.substr(0, colon);
    m.headers[last] = line.substr(colon + 2);
  }
  const std::string qp = end == std::string::npos ? "" : raw.substr(end + 2);
  for (size_t i = 0; i < qp.size(); ++i) {
    if (qp[i] == '=' && i + 1 < qp.size() && qp[i + 1] == '\n') {
      i += 1;
    } else if (qp[i] == '=' && i + 2 < qp.size()) {
      m.body += static_cast<char>(std::stoi(qp.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      m.body += qp[i];
    }
  }
  return m;
}

// The task JSON without what legitimately differs between two renderings at different times:
// the delivery state, and the signed links (their expiry counts from the time of rendering).
Json Comparable(Json task) {
  task.erase("notifications");
  if (task.contains("links")) task["links"].erase("manifest");
  for (Json& f : task["files"]) {
    f.erase("url");
    f.erase("expires_at");
  }
  return task;
}

class NotificationTest : public ExportdTest {
 protected:
  bool Start(Json extra = Json::object(), int rows = 300) {
    // The receivers listen on loopback, which webhooks may reach only when allowlisted.
    Json config = {{"notification_retry_base_ms", 50}, {"webhook_allowlist", {"127.0.0.0/8"}}};
    config.update(extra);
    return StartWithItems(rows, config, {{"EXPORTD_WEBHOOK_SECRET", kSecret}});
  }

  // Polls GET until every hook of the task is no longer pending; returns the last task seen.
  Json WaitForNotifications(const std::string& id, Clock::duration timeout = seconds(20)) {
    Json task;
    WaitFor(
        [&] {
          task = GetTask(*api_, id);
          if (!task.is_object() || !task["notifications"].is_array() ||
              task["notifications"].empty()) {
            return false;
          }
          for (const Json& n : task["notifications"]) {
            if (n.value("status", "") == "pending") return false;
          }
          return true;
        },
        timeout, milliseconds(50));
    return task;
  }

  Json Notify(const std::string& url) { return {{"webhook", url}}; }

  Receiver receiver_;
};

TEST_F(NotificationTest, WebhookReceivesTheSignedTaskOfASucceededExport) {
  ASSERT_TRUE(Start());
  const std::string id =
      CreateExport(*api_, {{"dataset", "items"}, {"notify", Notify(receiver_.url())}});
  ASSERT_FALSE(id.empty());
  Json task = WaitForTerminal(*api_, id, seconds(30));
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  task = WaitForNotifications(id);
  ASSERT_EQ(task["notifications"].size(), 1u) << task.dump();
  const Json& n = task["notifications"][0];
  EXPECT_EQ(n.value("channel", ""), "webhook");
  // The origin only: a hook's path and query often carry tokens.
  EXPECT_EQ(n.value("target", ""), "http://127.0.0.1:" + std::to_string(receiver_.port()) + "/...");
  EXPECT_EQ(n.value("status", ""), "delivered") << task.dump();
  EXPECT_EQ(n.value("attempts", 0), 1);
  EXPECT_TRUE(n["delivered_at"].is_string());
  EXPECT_TRUE(n["last_error"].is_null());

  std::vector<Received> got = receiver_.received();
  ASSERT_EQ(got.size(), 1u);
  const httplib::Request& req = got[0].request;
  EXPECT_EQ(req.get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(req.get_header_value("X-Exportd-Event"), "export.succeeded");
  EXPECT_EQ(req.get_header_value("X-Exportd-Delivery"), id + "-1");
  EXPECT_TRUE(SignatureVerifies(kSecret, req)) << req.get_header_value("X-Exportd-Signature");
  EXPECT_FALSE(SignatureVerifies("another-secret", req));
  // A fresh timestamp: a receiver rejecting anything older than 5 minutes accepts it.
  const int64_t ts = std::stoll(req.get_header_value("X-Exportd-Timestamp"));
  EXPECT_LE(std::llabs(*UnixNowSeconds() - ts), 60) << ts;

  // The body is the task as GET shows it.
  Json body = Json::parse(req.body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << req.body;
  EXPECT_EQ(Comparable(body), Comparable(task)) << req.body << "\n" << task.dump();
  EXPECT_EQ(body.value("status", ""), "Succeeded");
  ASSERT_FALSE(body["files"].empty());
  // ...and its links work.
  auto file = api_->GetUrl(body["files"][0].value("url", ""));
  EXPECT_EQ(file.status, 200) << file.Describe();

  auto events = EventsOfType(GetEvents(*api_, id), "notification");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_NE(events[0].value("detail", "").find("attempt=1/5 outcome=delivered"), std::string::npos)
      << events[0].dump();
}

TEST_F(NotificationTest, ReceiverThatFailsTwiceGetsTheNotificationOnce) {
  ASSERT_TRUE(Start());
  receiver_.Script({500, 503});
  const auto created = Clock::now();
  const std::string id =
      CreateExport(*api_, {{"dataset", "items"}, {"notify", Notify(receiver_.url())}});
  ASSERT_FALSE(id.empty());
  // The export finishes on its own schedule, whatever the receiver does.
  Json task = WaitForTerminal(*api_, id, seconds(30));
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  EXPECT_LT(Clock::now() - created, seconds(10));
  task = WaitForNotifications(id);
  EXPECT_EQ(task.value("status", ""), "Succeeded");
  const Json& n = task["notifications"][0];
  EXPECT_EQ(n.value("status", ""), "delivered") << task.dump();
  EXPECT_EQ(n.value("attempts", 0), 3);

  std::vector<Received> got = receiver_.received();
  ASSERT_EQ(got.size(), 3u);
  int accepted = 0;
  for (const Received& r : got) {
    accepted += r.answered == 200;
    EXPECT_EQ(r.request.get_header_value("X-Exportd-Delivery"), id + "-1");
    EXPECT_TRUE(SignatureVerifies(kSecret, r.request));
  }
  EXPECT_EQ(accepted, 1);
  // Backoff: the second retry waited longer than the first (base 50 ms: 50, then 100).
  EXPECT_GE(got[1].at - got[0].at, milliseconds(45));
  EXPECT_GE(got[2].at - got[1].at, milliseconds(95));
  // The export's own record is untouched by the deliveries.
  auto transitions = EventsOfType(GetEvents(*api_, id), "succeed");
  EXPECT_EQ(transitions.size(), 1u);
  EXPECT_EQ(EventsOfType(GetEvents(*api_, id), "notification").size(), 3u);
}

TEST_F(NotificationTest, UnreachableReceiverEndsRecordedAsFailed) {
  ASSERT_TRUE(Start());
  const std::string dead = "http://127.0.0.1:" + std::to_string(PickFreePort()) + "/hook";
  const std::string id = CreateExport(*api_, {{"dataset", "items"}, {"notify", Notify(dead)}});
  ASSERT_FALSE(id.empty());
  Json task = WaitForNotifications(id);
  EXPECT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  const Json& n = task["notifications"][0];
  EXPECT_EQ(n.value("status", ""), "failed") << task.dump();
  EXPECT_EQ(n.value("attempts", 0), 5);
  EXPECT_TRUE(n["delivered_at"].is_null());
  EXPECT_TRUE(n["last_error"].is_string());
  auto events = EventsOfType(GetEvents(*api_, id), "notification");
  ASSERT_EQ(events.size(), 5u);
  for (size_t i = 0; i < events.size(); ++i) {
    const std::string detail = events[i].value("detail", "");
    EXPECT_NE(detail.find("attempt=" + std::to_string(i + 1) + "/5"), std::string::npos) << detail;
    EXPECT_NE(detail.find(i + 1 < events.size() ? "outcome=retry" : "outcome=failed"),
              std::string::npos)
        << detail;
    EXPECT_NE(detail.find("error="), std::string::npos) << detail;
  }
}

// OWASP API7:2023 (SSRF): without an allowlist, a webhook may not reach loopback, private,
// link-local or metadata addresses. Address literals are refused when the hook is registered
// (422); names and numeric tricks that only resolve to such addresses are refused at delivery,
// on the address actually resolved, and nothing is sent.
TEST_F(NotificationTest, WebhooksToInternalAddressesAreRefusedWithoutAnAllowlist) {
  ASSERT_TRUE(Start({{"webhook_allowlist", Json::array()}}));
  const std::string port = std::to_string(PickFreePort());
  for (const std::string& url :
       {receiver_.url(), std::string("http://169.254.169.254/latest/meta-data/"),
        "http://[::1]:" + port + "/hook", "http://localhost:" + port + "/",
        std::string("http://10.0.0.7/hook")}) {
    HttpResponse res =
        api_->PostJson("/v1/exports", Json{{"dataset", "items"}, {"notify", Notify(url)}});
    EXPECT_EQ(res.status, 422) << url << ": " << res.Describe();
    EXPECT_NE(res.body.find("/notify/webhook"), std::string::npos) << res.body;
  }
  // Numeric tricks are normalised before the check: "127.1" is 127.0.0.1.
  HttpResponse trick = api_->PostJson(
      "/v1/exports",
      Json{{"dataset", "items"}, {"notify", Notify("http://127.1:" + port + "/hook")}});
  EXPECT_EQ(trick.status, 422) << trick.Describe();
  // A name is resolved when delivering: this machine's own name resolves to a local address
  // (Debian puts it in /etc/hosts), so it is accepted at POST and refused on delivery.
  char host[256] = {};
  ASSERT_EQ(::gethostname(host, sizeof host - 1), 0);
  const std::string sneaky =
      "http://" + std::string(host) + ":" + std::to_string(receiver_.port()) + "/hook";
  const std::string id = CreateExport(*api_, {{"dataset", "items"}, {"notify", Notify(sneaky)}});
  ASSERT_FALSE(id.empty());
  Json task = WaitForNotifications(id);
  EXPECT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  ASSERT_EQ(task["notifications"].size(), 1u) << task.dump();
  EXPECT_EQ(task["notifications"][0].value("status", ""), "failed") << task.dump();
  EXPECT_NE(task["notifications"][0].value("last_error", "").find("not a public address"),
            std::string::npos)
      << task.dump();
  EXPECT_TRUE(receiver_.received().empty()) << "a refused webhook reached the receiver";
  // Logs show the receiver's origin, never its path (paths of hook URLs often hold tokens).
  EXPECT_EQ(server_->stderr_log().find("/hook"), std::string::npos);
}

TEST_F(NotificationTest, FailedAndCancelledExportsNotifyToo) {
  // One slow worker: the first export is Processing when cancelled, the second still Pending.
  ASSERT_TRUE(Start({{"workers", 1}, {"max_rows_per_second", 200}}, 1000));
  const std::string running = CreateExport(
      *api_,
      {{"dataset", "items"}, {"max_rows_per_file", 100}, {"notify", Notify(receiver_.url())}});
  const std::string queued = CreateExport(
      *api_, {{"dataset", "items"}, {"tag", "q"}, {"notify", Notify(receiver_.url())}});
  ASSERT_FALSE(running.empty() || queued.empty());
  ASSERT_EQ(WaitForStatus(*api_, running, {"Processing"}, seconds(10)).value("status", ""),
            "Processing");
  auto res = api_->Send("POST", "/v1/exports/" + queued + "/cancel", "", "");
  ASSERT_EQ(res.status, 202) << res.Describe();
  EXPECT_EQ(res.json.value("status", ""), "Cancelled");
  res = api_->Send("POST", "/v1/exports/" + running + "/cancel", "", "");
  ASSERT_EQ(res.status, 202) << res.Describe();
  EXPECT_EQ(WaitForTerminal(*api_, running, seconds(10)).value("status", ""), "Cancelled");

  // A permanent source error: Failed at once.
  ASSERT_NO_THROW(ExecSql(source_path(), "ALTER TABLE items RENAME TO gone"));
  const std::string failed =
      CreateExport(*api_, {{"dataset", "items"}, {"notify", Notify(receiver_.url())}});
  ASSERT_FALSE(failed.empty());
  EXPECT_EQ(WaitForTerminal(*api_, failed, seconds(15)).value("status", ""), "Failed");

  std::map<std::string, std::string> events;  // delivery id -> event header
  ASSERT_TRUE(WaitFor([&] { return receiver_.received().size() >= 3; }, seconds(15)));
  for (const std::string& id : {running, queued, failed}) {
    Json t = WaitForNotifications(id);
    EXPECT_EQ(t["notifications"][0].value("status", ""), "delivered") << t.dump();
  }
  for (const Received& r : receiver_.received()) {
    events[r.request.get_header_value("X-Exportd-Delivery")] =
        r.request.get_header_value("X-Exportd-Event");
    Json body = Json::parse(r.request.body, nullptr, false);
    EXPECT_TRUE(SignatureVerifies(kSecret, r.request));
    if (body.value("id", "") == failed) {
      EXPECT_EQ(body.value("status", ""), "Failed");
      EXPECT_TRUE(body["error"].is_object()) << r.request.body;
    }
  }
  EXPECT_EQ(receiver_.received().size(), 3u);
  EXPECT_EQ(events[queued + "-1"], "export.cancelled");
  EXPECT_EQ(events[running + "-1"], "export.cancelled");
  EXPECT_EQ(events[failed + "-1"], "export.failed");
}

TEST_F(NotificationTest, PendingDeliveriesSurviveARestart) {
  // Retries a minute apart: after the first failure the delivery waits while exportd stops.
  ASSERT_TRUE(Start({{"notification_retry_base_ms", 60000}}));
  receiver_.Script({500});
  const std::string id =
      CreateExport(*api_, {{"dataset", "items"}, {"notify", Notify(receiver_.url())}});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitFor([&] { return receiver_.received().size() == 1; }, seconds(20)));
  ASSERT_TRUE(
      WaitFor([&] { return GetTask(*api_, id)["notifications"][0].value("attempts", 0) == 1; },
              seconds(5)));
  EXPECT_EQ(server_->Stop(), 0);
  std::string error;
  ASSERT_TRUE(server_->Start(&error)) << error;
  Json task = WaitForNotifications(id);
  const Json& n = task["notifications"][0];
  EXPECT_EQ(n.value("status", ""), "delivered") << task.dump();
  EXPECT_EQ(n.value("attempts", 0), 2);
  EXPECT_EQ(receiver_.received().size(), 2u);
}

// A hook's query string (and path) may hold its credential: when the connection is refused or
// times out, neither the log, nor the task (notify, notifications[].target and last_error), nor
// the notification events may show it. libcurl's error text and exportd's own context both
// name the URL; only its origin may remain.
TEST_F(NotificationTest, WebhookSecretsStayOutOfLogsTasksAndEvents) {
  ASSERT_TRUE(Start({{"notification_attempts", 1}}));
  HangingReceiver hanging;
  const std::string closed_token = "closedPortToken4711";
  const std::string hanging_token = "hangingReceiverToken4712";
  const std::string closed_url = "http://127.0.0.1:" + std::to_string(PickFreePort()) +
                                 "/hook/pathSecret4713?token=" + closed_token;
  const std::string hanging_url = hanging.url() + "?token=" + hanging_token;
  const std::string closed_id =
      CreateExport(*api_, {{"dataset", "items"}, {"notify", Notify(closed_url)}});
  const std::string hanging_id =
      CreateExport(*api_, {{"dataset", "items"}, {"notify", Notify(hanging_url)}});
  ASSERT_FALSE(closed_id.empty());
  ASSERT_FALSE(hanging_id.empty());
  // The webhook timeout is 10 s: one attempt, then failed.
  std::string seen;
  for (const std::string& id : {closed_id, hanging_id}) {
    Json task = WaitForNotifications(id, seconds(60));
    ASSERT_EQ(task["notifications"].size(), 1u) << task.dump();
    const Json& n = task["notifications"][0];
    EXPECT_EQ(n.value("status", ""), "failed") << task.dump();
    ASSERT_TRUE(n["last_error"].is_string()) << task.dump();
    EXPECT_NE(n["last_error"].get<std::string>().find("http://127.0.0.1:"), std::string::npos)
        << task.dump();
    seen += task.dump() + "\n" + GetEvents(*api_, id).dump() + "\n";
    seen += api_->Get("/v1/exports?limit=10").body + "\n";
    seen += api_->Get("/v1/audit?task=" + id).body + "\n";
  }
  const std::string log = server_->stdout_log() + server_->stderr_log();
  EXPECT_NE(log.find("notification"), std::string::npos) << "the attempts are logged";
  for (const std::string& secret : {closed_token, hanging_token, std::string("pathSecret4713")}) {
    EXPECT_EQ(seen.find(secret), std::string::npos) << secret << " in\n" << seen;
    EXPECT_EQ(log.find(secret), std::string::npos) << secret << " in the log";
  }
}

// Five receivers that accept and never answer hold only their own slots: a healthy receiver's
// notification arrives promptly, far sooner than the 10 s webhook timeout the others wait out.
TEST_F(NotificationTest, HangingReceiversDoNotDelayAHealthyOne) {
  ASSERT_TRUE(Start({{"notification_attempts", 1}}));
  std::vector<std::unique_ptr<HangingReceiver>> hanging;
  for (int i = 0; i < 5; ++i) {
    hanging.push_back(std::make_unique<HangingReceiver>());
    ASSERT_FALSE(
        CreateExport(*api_, {{"dataset", "items"}, {"notify", Notify(hanging.back()->url())}})
            .empty());
  }
  // The exports have finished and their deliveries are hanging.
  ASSERT_TRUE(WaitFor(
      [&] {
        size_t accepted = 0;
        for (const auto& h : hanging) accepted += h->accepted();
        return accepted >= 2;
      },
      seconds(30), milliseconds(20)));
  const auto created = Clock::now();
  const std::string id =
      CreateExport(*api_, {{"dataset", "items"}, {"notify", Notify(receiver_.url())}});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(
      WaitFor([&] { return !receiver_.received().empty(); }, seconds(40), milliseconds(10)));
  // The export itself and the delivery take well under a second on an idle machine; 6 s leaves
  // room for a loaded one and still fails when a hanging receiver's 10 s timeout is waited out.
  EXPECT_LT(receiver_.received()[0].at - created, seconds(6));
}

// The links a notification sends are read hours or days later: they stay valid until the
// task's files expire (7 days by default), not for download_url_ttl_seconds (1 day), which
// still bounds the links GET returns.
TEST_F(NotificationTest, NotifiedLinksLiveAsLongAsTheFiles) {
  ASSERT_TRUE(Start());
  const std::string id =
      CreateExport(*api_, {{"dataset", "items"}, {"notify", Notify(receiver_.url())}});
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(WaitForNotifications(id).value("status", ""), "Succeeded");
  std::vector<Received> got = receiver_.received();
  ASSERT_EQ(got.size(), 1u);
  const Json body = Json::parse(got[0].request.body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << got[0].request.body;
  const std::optional<int64_t> files_expire = ParseRfc3339Millis(body.value("files_expire_at", ""));
  ASSERT_TRUE(files_expire.has_value()) << body.dump();
  ASSERT_FALSE(body["files"].empty());
  const Json& file = body["files"][0];
  const std::optional<int64_t> link_expires = ParseRfc3339Millis(file.value("expires_at", ""));
  ASSERT_TRUE(link_expires.has_value()) << file.dump();
  EXPECT_EQ(*link_expires / 1000, *files_expire / 1000) << body.dump();
  const std::string url = file.value("url", "");
  EXPECT_NE(url.find("expires=" + std::to_string(*files_expire / 1000)), std::string::npos) << url;
  EXPECT_EQ(api_->GetUrl(url).status, 200);
  const std::string manifest = body["links"].value("manifest", "");
  EXPECT_NE(manifest.find("expires=" + std::to_string(*files_expire / 1000)), std::string::npos)
      << manifest;
  // GET keeps the configured 1-day lifetime.
  const Json task = GetTask(*api_, id);
  const std::optional<int64_t> api_expires =
      ParseRfc3339Millis(task["files"][0].value("expires_at", ""));
  ASSERT_TRUE(api_expires.has_value());
  EXPECT_LE(*api_expires, (*UnixNowSeconds() + 86400 + 5) * 1000) << task.dump();
  EXPECT_LT(*api_expires, *files_expire - 86400 * 1000) << task.dump();
}

TEST_F(NotificationTest, EmailWithoutSmtpIsRefused) {
  ASSERT_TRUE(Start());
  auto res = api_->PostJson("/v1/exports",
                            {{"dataset", "items"}, {"notify", {{"email", {"a@example.org"}}}}});
  ASSERT_EQ(res.status, 422) << res.Describe();
  EXPECT_TRUE(IsProblem(res));
  ASSERT_TRUE(res.json["errors"].is_array()) << res.Describe();
  EXPECT_EQ(res.json["errors"][0].value("pointer", ""), "/notify/email") << res.Describe();
}

TEST_F(NotificationTest, EmailArrivesThroughARealSmtpServer) {
  TempDir mail_dir;
  SmtpServer smtp(mail_dir.path() + "/maildir");
  ASSERT_TRUE(smtp.WaitReady());
  ASSERT_TRUE(Start({{"smtp", {{"url", smtp.url()}, {"from", "exportd@example.org"}}}}, 250));
  const std::string id =
      CreateExport(*api_, {{"dataset", "items"},
                           {"max_rows_per_file", 100},
                           {"filter", {{"id", {{"lte", 200}}}}},
                           {"notify", {{"email", {"alice@example.org", "bob@example.org"}}}}});
  ASSERT_FALSE(id.empty());
  Json task = WaitForNotifications(id);
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  ASSERT_EQ(task["notifications"].size(), 2u);
  for (const Json& n : task["notifications"]) {
    EXPECT_EQ(n.value("channel", ""), "email");
    EXPECT_EQ(n.value("status", ""), "delivered") << task.dump();
  }
  std::vector<std::string> raw = smtp.Messages();
  ASSERT_EQ(raw.size(), 2u);
  std::set<std::string> recipients;
  for (const std::string& r : raw) {
    Mail m = ParseMail(r);
    recipients.insert(m.headers["To"]);
    EXPECT_EQ(m.headers["From"], "exportd@example.org");
    EXPECT_EQ(m.headers["Subject"], "exportd: export " + id + " of items succeeded");
    EXPECT_EQ(m.headers["MIME-Version"], "1.0");
    EXPECT_EQ(m.headers["Content-Type"], "text/plain; charset=utf-8");
    EXPECT_EQ(m.headers["Content-Transfer-Encoding"], "quoted-printable");
    EXPECT_EQ(m.headers["Message-ID"].rfind("<" + id + "-", 0), 0u) << m.headers["Message-ID"];
    // RFC 5322 date, e.g. "Sun, 22 Nov 2026 00:46:06 +0000".
    EXPECT_EQ(m.headers["Date"].size(), 31u) << m.headers["Date"];
    EXPECT_EQ(m.headers["Date"].substr(m.headers["Date"].size() - 5), "+0000");
    EXPECT_NE(m.body.find("Completed at: " + task.value("finished_at", "?")), std::string::npos)
        << m.body;
    EXPECT_NE(m.body.find("Dataset:    items"), std::string::npos) << m.body;
    EXPECT_NE(m.body.find("Rows:       200"), std::string::npos) << m.body;
    EXPECT_NE(m.body.find(R"(Filter:     [{"field":"id","op":"lte","value":200}])"),
              std::string::npos)
        << m.body;
    EXPECT_NE(m.body.find("link expires at "), std::string::npos) << m.body;
    EXPECT_NE(m.body.find("Manifest: http://"), std::string::npos) << m.body;
    // Each download link in the mail works.
    size_t pos = 0;
    int links = 0;
    while ((pos = m.body.find("    http://", pos)) != std::string::npos) {
      const size_t end = m.body.find('\n', pos);
      const std::string url = m.body.substr(pos + 4, end - pos - 4);
      EXPECT_EQ(api_->GetUrl(url).status, 200) << url;
      ++links;
      pos = end;
    }
    EXPECT_EQ(links, 2) << m.body;  // 200 rows, 100 per file
  }
  EXPECT_EQ(recipients, (std::set<std::string>{"alice@example.org", "bob@example.org"}));
}

// aiosmtpd with STARTTLS required and AUTH PLAIN/LOGIN after it. A refused login must answer
// AuthResult(success=False, handled=False), or the client waits forever.
constexpr const char* kTlsAuthSmtpScript = R"PY(
import signal, ssl, sys
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword

port, maildir, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]

def authenticate(server, session, envelope, mechanism, auth_data):
    if isinstance(auth_data, LoginPassword) and auth_data.login == b"exportd" \
            and auth_data.password == b"pw":
        return AuthResult(success=True)
    return AuthResult(success=False, handled=False)

context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
controller = Controller(Mailbox(maildir), hostname="127.0.0.1", port=port, tls_context=context,
                        require_starttls=True, authenticator=authenticate, auth_require_tls=True)
controller.start()
signal.sigwait({signal.SIGTERM, signal.SIGINT})
controller.stop()
)PY";

class TlsSmtpTest : public NotificationTest {
 protected:
  void SetUp() override {
    script_ = dir_.path() + "/smtp_tls_auth.py";
    WriteFile(script_, kTlsAuthSmtpScript);
    cert_ = dir_.path() + "/cert.pem";
    key_ = dir_.path() + "/key.pem";
    const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -keyout " + key_ + " -out " +
                            cert_ +
                            " -days 2 -subj /CN=localhost"
                            " -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }

  TempDir dir_;
  std::string script_, cert_, key_;
};

TEST_F(TlsSmtpTest, StartTlsAndAuthDeliverTheEmail) {
  SmtpServer smtp(dir_.path() + "/maildir", script_, cert_, key_);
  ASSERT_TRUE(smtp.WaitReady());
  ASSERT_TRUE(StartWithItems(50,
                             {{"notification_retry_base_ms", 50},
                              {"smtp",
                               {{"url", smtp.url()},
                                {"from", "exportd@example.org"},
                                {"username", "exportd"},
                                {"password_env", "ITEST_SMTP_PASSWORD"},
                                {"starttls", true},
                                {"ca_file", cert_}}}},
                             {{"ITEST_SMTP_PASSWORD", "pw"}}));
  const std::string id =
      CreateExport(*api_, {{"dataset", "items"}, {"notify", {{"email", {"carol@example.org"}}}}});
  ASSERT_FALSE(id.empty());
  Json task = WaitForNotifications(id);
  ASSERT_EQ(task["notifications"][0].value("status", ""), "delivered") << task.dump();
  std::vector<std::string> raw = smtp.Messages();
  ASSERT_EQ(raw.size(), 1u);
  Mail m = ParseMail(raw[0]);
  EXPECT_EQ(m.headers["To"], "carol@example.org");
  EXPECT_NE(m.body.find("Rows:       50"), std::string::npos) << m.body;
}

TEST_F(TlsSmtpTest, WrongPasswordEndsFailedWithTheReason) {
  SmtpServer smtp(dir_.path() + "/maildir", script_, cert_, key_);
  ASSERT_TRUE(smtp.WaitReady());
  ASSERT_TRUE(StartWithItems(50,
                             {{"notification_retry_base_ms", 50},
                              {"notification_attempts", 2},
                              {"smtp",
                               {{"url", smtp.url()},
                                {"from", "exportd@example.org"},
                                {"username", "exportd"},
                                {"password_env", "ITEST_SMTP_PASSWORD"},
                                {"starttls", true},
                                {"ca_file", cert_}}}},
                             {{"ITEST_SMTP_PASSWORD", "wrong"}}));
  const std::string id =
      CreateExport(*api_, {{"dataset", "items"}, {"notify", {{"email", {"carol@example.org"}}}}});
  ASSERT_FALSE(id.empty());
  Json task = WaitForNotifications(id);
  EXPECT_EQ(task.value("status", ""), "Succeeded");  // the outcome stays the export's own
  const Json& n = task["notifications"][0];
  EXPECT_EQ(n.value("status", ""), "failed") << task.dump();
  EXPECT_EQ(n.value("attempts", 0), 2);
  EXPECT_NE(n.value("last_error", "").find("permission_denied"), std::string::npos) << task.dump();
  EXPECT_TRUE(smtp.Messages().empty());
}

TEST_F(TlsSmtpTest, StartTlsIsRequiredNotOptional) {
  // A plain server that offers no STARTTLS: the send fails instead of going out in clear text.
  SmtpServer smtp(dir_.path() + "/maildir");
  ASSERT_TRUE(smtp.WaitReady());
  ASSERT_TRUE(StartWithItems(
      50, {{"notification_retry_base_ms", 50},
           {"notification_attempts", 1},
           {"smtp", {{"url", smtp.url()}, {"from", "exportd@example.org"}, {"starttls", true}}}}));
  const std::string id =
      CreateExport(*api_, {{"dataset", "items"}, {"notify", {{"email", {"carol@example.org"}}}}});
  ASSERT_FALSE(id.empty());
  Json task = WaitForNotifications(id);
  EXPECT_EQ(task["notifications"][0].value("status", ""), "failed") << task.dump();
  EXPECT_TRUE(smtp.Messages().empty());
}

}  // namespace
}  // namespace exportd::itest
