// Every path of the API in one place (mirrors openapi.yaml), plus the cross-cutting parts:
// authentication, request logging, problem+json for every error, 405 with Allow.
#include "api/api_server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string_view>
#include <thread>
#include <vector>

#include "api/edge_server.h"
#include "api/handlers.h"
#include "api/http_framing.h"
#include "api/problem.h"
#include "core/log_context.h"

namespace exportd::api {
namespace {

using Clock_ = std::chrono::steady_clock;

enum class Access { kPublic, kApiKey };

using PublicHandler = void (*)(HandlerContext&, const httplib::Request&, httplib::Response&);
using AuthedHandler = void (*)(HandlerContext&, const Principal&, const httplib::Request&,
                               httplib::Response&);
// A handler that reads its request body itself (POST /v1/imports: an upload is streamed).
using StreamHandler = void (*)(HandlerContext&, const Principal&, const httplib::Request&,
                               httplib::Response&, const httplib::ContentReader&);

struct Route {
  std::string method;
  std::string pattern;
  // The path as openapi.yaml writes it ("/v1/exports/{id}"): the route label of /metrics.
  const char* path_template = "";
  PublicHandler public_handler = nullptr;
  AuthedHandler authed_handler = nullptr;
  Role needs = Role::kReader;  // for authed handlers: the least role that may call it
  // Bodies up to ApiOptions::max_export_body_bytes rather than max_body_bytes: a create-export
  // body may carry up to 100,000 record_ids.
  bool large_body = false;
  StreamHandler stream_handler = nullptr;  // instead of authed_handler; reads the body itself
};

constexpr const char* kId = "([^/]+)";
// A file of an export: "part-00001.csv", or "<partition>/part-00001.csv" when split by partition
// (a directory of core/partition_name.h's characters, never "." or ".."; anything else is 404).
constexpr const char* kFileName = "((?:[A-Za-z0-9_~][A-Za-z0-9._~-]*/)?[^/]+)";
// About 600 bodies of a 13-file export, or 50 of a 1,000-file one.
constexpr size_t kTaskBodyCacheBytes = 4 << 20;
// cpp-httplib 0.11.4 closes a keep-alive connection after 5 requests and listens with a backlog
// of 5, both baked into Debian's build: under load clients reconnect every 5 requests and the
// connections that overflow the backlog wait for a SYN retransmission, a full second. That was
// the p99 of both exportd and a bare cpp-httplib server under 64 connections.
constexpr size_t kKeepAliveMaxRequests = 100;
constexpr int kListenBacklog = 1024;

std::string FormatRate(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", value);
  return buf;
}

std::vector<Route> RouteTable() {
  const std::string exports = "/v1/exports";
  const std::string one = exports + "/" + kId;
  const std::string watermarks = std::string("/v1/datasets/") + kId + "/watermarks";
  const std::string schedules = "/v1/schedules";
  // Any segment but "preview", so that the other methods on /v1/schedules/preview are 405 there
  // rather than taken for a schedule id.
  const std::string one_schedule = schedules + "/((?!preview$)[^/]+)";
  const std::string imports = "/v1/imports";
  const std::string one_import = imports + "/" + kId;
  return {
      {"POST", imports, "/v1/imports", nullptr, nullptr, Role::kExporter, false,
       HandleCreateImport},
      {"GET", imports, "/v1/imports", nullptr, HandleListImports, Role::kReader},
      {"GET", one_import, "/v1/imports/{id}", nullptr, HandleGetImport, Role::kReader},
      {"POST", one_import + "/cancel", "/v1/imports/{id}/cancel", nullptr, HandleCancelImport,
       Role::kExporter},
      {"GET", one_import + "/events", "/v1/imports/{id}/events", nullptr, HandleListImportEvents,
       Role::kReader},
      {"POST", exports, "/v1/exports", nullptr, HandleCreateExport, Role::kExporter,
       /*large_body=*/true},
      {"GET", exports, "/v1/exports", nullptr, HandleListExports, Role::kReader},
      {"GET", one, "/v1/exports/{id}", nullptr, HandleGetExport, Role::kReader},
      {"DELETE", one, "/v1/exports/{id}", nullptr, HandleDeleteExport, Role::kExporter},
      {"POST", one + "/cancel", "/v1/exports/{id}/cancel", nullptr, HandleCancelExport,
       Role::kExporter},
      {"POST", one + "/pause", "/v1/exports/{id}/pause", nullptr, HandlePauseExport,
       Role::kExporter},
      {"POST", one + "/resume", "/v1/exports/{id}/resume", nullptr, HandleResumeExport,
       Role::kExporter},
      {"GET", one + "/events", "/v1/exports/{id}/events", nullptr, HandleListEvents, Role::kReader},
      // Public: the pre-signed link is the credential (checked by the handler).
      {"GET", one + "/files/" + kFileName, "/v1/exports/{id}/files/{name}", HandleDownload,
       nullptr},
      {"POST", schedules, "/v1/schedules", nullptr, HandleCreateSchedule, Role::kExporter},
      {"GET", schedules, "/v1/schedules", nullptr, HandleListSchedules, Role::kReader},
      // Before the routes of one schedule, so that "preview" is not taken for an id.
      {"POST", schedules + "/preview", "/v1/schedules/preview", nullptr, HandlePreviewSchedule,
       Role::kReader},
      {"GET", one_schedule, "/v1/schedules/{id}", nullptr, HandleGetSchedule, Role::kReader},
      {"PATCH", one_schedule, "/v1/schedules/{id}", nullptr, HandleUpdateSchedule, Role::kExporter},
      {"DELETE", one_schedule, "/v1/schedules/{id}", nullptr, HandleDeleteSchedule,
       Role::kExporter},
      {"POST", one_schedule + "/run", "/v1/schedules/{id}/run", nullptr, HandleRunSchedule,
       Role::kExporter},
      {"GET", "/v1/datasets", "/v1/datasets", nullptr, HandleListDatasets, Role::kReader},
      {"GET", watermarks, "/v1/datasets/{name}/watermarks", nullptr, HandleListWatermarks,
       Role::kReader},
      {"PUT", watermarks + "/" + kId, "/v1/datasets/{name}/watermarks/{partition}", nullptr,
       HandlePutWatermark, Role::kAdmin},
      {"DELETE", watermarks + "/" + kId, "/v1/datasets/{name}/watermarks/{partition}", nullptr,
       HandleDeleteWatermark, Role::kAdmin},
      // Read-only by design: events are append-only, so no other method exists here (405).
      {"GET", "/v1/audit", "/v1/audit", nullptr, HandleListAudit, Role::kAdmin},
      {"GET", "/v1/instances", "/v1/instances", nullptr, HandleListInstances, Role::kAdmin},
      {"GET", "/healthz", "/healthz", HandleHealthz, nullptr},
      {"GET", "/readyz", "/readyz", HandleReadyz, nullptr},
      {"GET", "/metrics", "/metrics", HandleMetrics, nullptr},
      {"GET", "/openapi.yaml", "/openapi.yaml", HandleOpenApi, nullptr},
      // The web dashboard: static files, no credentials (the page asks for an API key).
      {"GET", "/", "/", HandleDashboardIndex, nullptr},
      {"GET", "/ui/([A-Za-z0-9_-][A-Za-z0-9._-]*(?:/[A-Za-z0-9_-][A-Za-z0-9._-]*)*)", "/ui/{file}",
       HandleDashboardAsset, nullptr},
  };
}

// Per-request bookkeeping for the access log. cpp-httplib runs a request's pre-routing
// handler, handler and logger on one thread, one request at a time.
thread_local Clock_::time_point t_request_start;
thread_local std::string t_request_id;
// The matched route's path template (a Route::path_template); "" when no route matched.
thread_local const char* t_route = "";

// Notes the route a request matched (for /metrics) and the export it is about (for its log
// lines: /v1/exports/{id}...).
void EnterRoute(const char* path_template, const httplib::Request& req) {
  t_route = path_template;
  const std::string_view route(path_template);
  if ((route.rfind("/v1/exports/{id}", 0) == 0 || route.rfind("/v1/imports/{id}", 0) == 0) &&
      req.matches.size() > 1) {
    ThreadLogContext().task_id = req.matches[1].str();
  }
}

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

// Routes with a body take a content reader and read the body themselves (cpp-httplib would
// read it before routing): none when no length is announced (`curl -X POST url` sends no
// Content-Length), 413 beyond the cap, without reading it (the connection layer then closes
// the connection). The body is stored into the Request, a non-const local of
// cpp-httplib's connection loop, so writing it through const_cast is well-defined.
httplib::Server::HandlerWithContentReader WithBody(httplib::Server::Handler handler,
                                                   size_t max_body_bytes) {
  return [handler = std::move(handler), max_body_bytes](const httplib::Request& req,
                                                        httplib::Response& res,
                                                        const httplib::ContentReader& read) {
    bool announced = req.has_header("Content-Length") ||
                     req.get_header_value("Transfer-Encoding").find("chunked") != std::string::npos;
    // cpp-httplib refuses an announced length over its cap without calling the receiver.
    if (req.has_header("Content-Length") &&
        std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10) >
            max_body_bytes) {
      SendProblem(req, res, 413,
                  "the request body is larger than the limit of " + std::to_string(max_body_bytes) +
                      " bytes");
      return;
    }
    if (announced) {
      auto& body = const_cast<std::string&>(req.body);
      bool too_large = false;
      bool complete = read([&](const char* data, size_t len) {
        if (body.size() + len > max_body_bytes) {
          too_large = true;
          return false;
        }
        body.append(data, len);
        return true;
      });
      if (too_large || (!complete && body.size() >= max_body_bytes)) {
        SendProblem(req, res, 413,
                    "the request body is larger than the limit of " +
                        std::to_string(max_body_bytes) + " bytes");
        return;
      }
      if (!complete) {
        SendProblem(req, res, 400, "the request body could not be read");
        return;
      }
    }
    handler(req, res);
  };
}

// A request whose body length cannot be known for sure (api/http_framing.h) is refused: a
// reverse proxy in front may read it differently and take part of it for a next request.
std::optional<std::string> FramingProblem(const httplib::Request& req) {
  std::vector<std::string_view> lengths;
  std::vector<std::string_view> encodings;
  for (auto [it, end] = req.headers.equal_range("Content-Length"); it != end; ++it) {
    lengths.push_back(it->second);
  }
  for (auto [it, end] = req.headers.equal_range("Transfer-Encoding"); it != end; ++it) {
    encodings.push_back(it->second);
  }
  if (lengths.empty() && encodings.empty()) return std::nullopt;
  BodyFraming framing = FrameBody(lengths, encodings);
  if (framing.kind != BodyFraming::Kind::kInvalid) return std::nullopt;
  return framing.problem;
}

// cpp-httplib keeps only the first of query parameters that repeat exactly (same name, same
// value), so "?status=Failed&status=Failed" would pass every check for a repeated parameter.
// When the query has such repeats, its parameters are parsed again keeping every occurrence
// (the same way cpp-httplib parses them otherwise). The Request is a non-const local of
// cpp-httplib's connection loop, so writing it through const_cast is well-defined.
void KeepRepeatedParams(const httplib::Request& req) {
  const size_t q = req.target.find('?');
  if (q == std::string::npos || req.target.find('&', q) == std::string::npos) return;
  const char* query = req.target.data() + q + 1;
  std::vector<std::string> pairs;
  httplib::detail::split(query, req.target.data() + req.target.size(), '&',
                         [&](const char* b, const char* e) { pairs.emplace_back(b, e); });
  std::vector<std::string> sorted = pairs;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end()) return;
  httplib::Params params;
  for (const std::string& pair : pairs) {
    std::string key;
    std::string value;
    httplib::detail::split(pair.data(), pair.data() + pair.size(), '=',
                           [&](const char* b, const char* e) {
                             if (key.empty()) {
                               key.assign(b, e);
                             } else {
                               value.assign(b, e);
                             }
                           });
    if (!key.empty()) {
      params.emplace(httplib::detail::decode_url(key, true),
                     httplib::detail::decode_url(value, true));
    }
  }
  const_cast<httplib::Params&>(req.params) = std::move(params);
}

// Authenticates the caller, applies the rate limit and checks its role: the principal, or
// nullopt after answering the request.
std::optional<Principal> Admit(HandlerContext& ctx, const httplib::Request& req,
                               httplib::Response& res, Role needs) {
  HandlerContext* c = &ctx;
  Result<Caller> caller = Authenticate(*c, req);
  if (!caller.ok()) {
    SendStatus(req, res, caller.status());
    return std::nullopt;
  }
  if (!caller->principal.admin) {
    if (std::optional<std::chrono::milliseconds> wait = c->limiter->Take(caller->principal.id)) {
      const int64_t seconds = std::max<int64_t>(1, (wait->count() + 999) / 1000);
      res.set_header("Retry-After", std::to_string(seconds));
      SendStatus(
          req, res,
          Status(StatusCode::kResourceExhausted,
                 "rate limit: at most " + FormatRate(c->options.rate_limit_per_second) +
                     " requests per second (bursts of " + FormatRate(c->options.rate_limit_burst) +
                     ") per principal; retry after " + std::to_string(seconds) + " s"));
      return std::nullopt;
    }
  }
  if (!RoleAllows(caller->role, needs)) {
    const Status refused(StatusCode::kPermissionDenied,
                         "this API key has the role '" + std::string(RoleName(caller->role)) +
                             "'; " + req.method + " here needs '" + std::string(RoleName(needs)) +
                             "' or more");
    RecordRoleRefusal(*c, caller->principal, req, refused.message());
    SendStatus(req, res, refused);
    return std::nullopt;
  }
  return caller->principal;
}

}  // namespace

struct ApiServer::Impl {
  Impl(ApiDependencies deps, ApiOptions options) {
    ctx.deps = std::move(deps);
    ctx.options = std::move(options);
    ctx.limiter = std::make_unique<RateLimiter>(ctx.options.rate_limit_per_second,
                                                ctx.options.rate_limit_burst);
    ctx.task_bodies = std::make_unique<TaskBodyCache>(kTaskBodyCacheBytes);
    if (ctx.deps.metrics == nullptr) {
      own_metrics = std::make_unique<Metrics>();
      ctx.deps.metrics = own_metrics.get();
    }
    ctx.metrics = ctx.deps.metrics;
    EdgeOptions edge;
    edge.header_timeout = ctx.options.header_timeout;
    edge.max_connections_per_client = ctx.options.max_connections_per_client;
    edge.tls_cert_file = ctx.options.tls_cert_file;
    edge.tls_key_file = ctx.options.tls_key_file;
    server = MakeEdgeServer(edge);
  }

  void Register();

  std::unique_ptr<Metrics> own_metrics;  // when the dependencies bring none
  HandlerContext ctx;
  // An httplib::SSLServer when TLS is configured. Never null.
  std::unique_ptr<httplib::Server> server;
  int bound_port = 0;
  // The listening socket, recorded when cpp-httplib creates it (set_socket_options).
  socket_t listen_socket = INVALID_SOCKET;
};

void ApiServer::Impl::Register() {
  HandlerContext* c = &ctx;
  std::map<std::string, std::set<std::string>> methods_by_pattern;
  std::map<std::string, const char*> template_by_pattern;
  for (const Route& route : RouteTable()) {
    methods_by_pattern[route.pattern].insert(route.method);
    template_by_pattern[route.pattern] = route.path_template;
    const char* path_template = route.path_template;
    httplib::Server::Handler handler;
    if (route.stream_handler != nullptr) {
      StreamHandler h = route.stream_handler;
      const Role needs = route.needs;
      server->Post(route.pattern,
                   [c, h, needs, path_template](const httplib::Request& req, httplib::Response& res,
                                                const httplib::ContentReader& read) {
                     EnterRoute(path_template, req);
                     std::optional<Principal> who = Admit(*c, req, res, needs);
                     if (who) h(*c, *who, req, res, read);
                   });
      continue;
    }
    if (route.authed_handler != nullptr) {
      AuthedHandler h = route.authed_handler;
      const Role needs = route.needs;
      handler = [c, h, needs, path_template](const httplib::Request& req, httplib::Response& res) {
        EnterRoute(path_template, req);
        std::optional<Principal> who = Admit(*c, req, res, needs);
        if (who) h(*c, *who, req, res);
      };
    } else {
      PublicHandler h = route.public_handler;
      handler = [c, h, path_template](const httplib::Request& req, httplib::Response& res) {
        EnterRoute(path_template, req);
        h(*c, req, res);
      };
    }
    if (route.method == "GET") server->Get(route.pattern, handler);
    if (route.method == "POST") {
      server->Post(route.pattern,
                   WithBody(handler, route.large_body ? ctx.options.max_export_body_bytes
                                                      : ctx.options.max_body_bytes));
    }
    if (route.method == "DELETE")
      server->Delete(route.pattern, WithBody(handler, ctx.options.max_body_bytes));
    if (route.method == "PUT")
      server->Put(route.pattern, WithBody(handler, ctx.options.max_body_bytes));
    if (route.method == "PATCH")
      server->Patch(route.pattern, WithBody(handler, ctx.options.max_body_bytes));
  }
  // Every other method on a known path: 405 with the methods that exist. Methods that may
  // carry a body get content-reader handlers that never read it: cpp-httplib would otherwise
  // read (or wait for) the body before routing, and answer 400 or 413 instead of 405. The
  // connection layer closes a connection whose request body was left unread.
  for (const auto& [pattern, methods] : methods_by_pattern) {
    std::string allow;
    for (const std::string& m : methods) allow += (allow.empty() ? "" : ", ") + m;
    if (methods.count("GET")) allow += ", HEAD";
    auto not_allowed = [allow, path_template = template_by_pattern[pattern]](
                           const httplib::Request& req, httplib::Response& res) {
      t_route = path_template;
      res.set_header("Allow", allow);
      SendProblem(req, res, 405, req.method + " is not allowed here; use " + allow);
    };
    const httplib::Server::HandlerWithContentReader not_allowed_unread =
        [not_allowed](const httplib::Request& req, httplib::Response& res,
                      const httplib::ContentReader&) { not_allowed(req, res); };
    if (!methods.count("GET")) server->Get(pattern, not_allowed);
    if (!methods.count("POST")) server->Post(pattern, not_allowed_unread);
    if (!methods.count("DELETE")) server->Delete(pattern, not_allowed_unread);
    if (!methods.count("PUT")) server->Put(pattern, not_allowed_unread);
    if (!methods.count("PATCH")) server->Patch(pattern, not_allowed_unread);
    server->Options(pattern, not_allowed);
  }
  // Unknown paths: 404 without reading a body, for the same reason.
  const httplib::Server::HandlerWithContentReader no_route =
      [](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader&) {
        SendProblem(req, res, 404, "no route for " + req.method + " " + req.path);
      };
  server->Post(".*", no_route);
  server->Put(".*", no_route);
  server->Patch(".*", no_route);
  server->Delete(".*", no_route);

  const size_t body_cap = std::max(ctx.options.max_body_bytes, ctx.options.max_export_body_bytes);
  server->set_pre_routing_handler([body_cap](const httplib::Request& req, httplib::Response& res) {
    t_request_start = Clock_::now();
    t_route = "";
    std::string given = req.get_header_value("X-Request-Id");
    bool usable = !given.empty() && given.size() <= 64;
    for (char ch : given)
      usable = usable && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_');
    t_request_id = usable ? given : NewRequestId();
    ThreadLogContext().request_id = t_request_id;
    ThreadLogContext().task_id.clear();
    res.set_header("X-Request-Id", t_request_id);
    // Every answer: no content sniffing, and nothing an intermediary may store (task JSON,
    // links and problems are per principal). Downloads replace the Cache-Control.
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Cache-Control", "no-store");
    if (std::optional<std::string> problem = FramingProblem(req)) {
      SendProblem(req, res, 400, *problem);
      return httplib::Server::HandlerResponse::Handled;
    }
    KeepRepeatedParams(req);
    // cpp-httplib's cap lets an import's upload through; every other request keeps the
    // smaller caps, checked here before any body is read.
    if (!(req.method == "POST" && req.path == "/v1/imports") && req.has_header("Content-Length") &&
        std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10) > body_cap) {
      SendProblem(
          req, res, 413,
          "the request body is larger than the limit of " + std::to_string(body_cap) + " bytes");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Called for every response with status >= 400; fills in a problem body where a handler (or
  // cpp-httplib itself: 404 no route, 413 too large, 400 unparsable) left none.
  server->set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty() || res.content_length_ > 0)
          return httplib::Server::HandlerResponse::Unhandled;
        std::string detail;
        switch (res.status) {
          case 404:
            detail = "no route for " + req.method + " " + req.path;
            break;
          case 413:
            detail = "the request body is larger than the limit of 1 MiB";
            break;
          default:
            detail = "the request could not be processed";
            break;
        }
        SendProblem(req, res, res.status, detail);
        return httplib::Server::HandlerResponse::Handled;
      }));
  server->set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown exception";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        spdlog::error("{} {}: unhandled exception: {}", req.method, req.path, what);
        SendProblem(req, res, 500, "internal error");
      });
  server->set_logger([c](const httplib::Request& req, const httplib::Response& res) {
    double seconds = std::chrono::duration<double>(Clock_::now() - t_request_start).count();
    c->metrics->RecordRequest(req.method, t_route, res.status, seconds);
    spdlog::info("{} {} {} {:.1f}ms id={}", req.method, req.path, res.status, seconds * 1000.0,
                 t_request_id);
    ThreadLogContext().request_id.clear();
    ThreadLogContext().task_id.clear();
  });
}

ApiServer::ApiServer(ApiDependencies deps, ApiOptions options)
    : impl_(std::make_unique<Impl>(std::move(deps), std::move(options))) {
  const ApiOptions& o = impl_->ctx.options;
  int threads = std::max(1, o.threads);
  impl_->server->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  impl_->server->set_tcp_nodelay(true);
  // cpp-httplib's own cap must let the largest route's body through; WithBody applies each
  // route's limit.
  // An import's upload is streamed by its handler, which applies its own limit.
  impl_->server->set_payload_max_length(std::max<uint64_t>(
      std::max(o.max_body_bytes, o.max_export_body_bytes), o.max_import_upload_bytes));
  impl_->server->set_read_timeout(o.read_timeout);
  impl_->server->set_write_timeout(o.write_timeout);
  impl_->server->set_keep_alive_timeout(5);
  impl_->server->set_keep_alive_max_count(kKeepAliveMaxRequests);
  // Replaces cpp-httplib's default options, which set SO_REUSEPORT: with it a second server
  // binds a port already in use without an error. SO_REUSEADDR alone lets a restart take the
  // port over from connections in TIME_WAIT, and nothing more.
  impl_->server->set_socket_options([impl = impl_.get()](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    impl->listen_socket = sock;
  });
  impl_->Register();
}

ApiServer::~ApiServer() { Stop(); }

Status ApiServer::Bind() {
  const ApiOptions& o = impl_->ctx.options;
  // SSLServer reports an unreadable or mismatched certificate/key only through is_valid().
  if (!impl_->server->is_valid()) {
    return InvalidArgument("cannot use TLS certificate " + o.tls_cert_file + " with key " +
                           o.tls_key_file + " (unreadable, not PEM, or not a matching pair)");
  }
  if (o.port == 0) {
    int port = impl_->server->bind_to_any_port(o.host);
    if (port <= 0) return Unavailable("cannot bind " + o.host + ":0");
    impl_->bound_port = port;
    return RaiseBacklog();
  }
  if (!impl_->server->bind_to_port(o.host, o.port)) {
    return Unavailable("cannot listen on " + o.host + ":" + std::to_string(o.port) +
                       " (address in use or not available)");
  }
  impl_->bound_port = o.port;
  return RaiseBacklog();
}

Status ApiServer::RaiseBacklog() {
  // listen() again on a listening socket only sets its backlog (POSIX; Linux caps it at
  // net.core.somaxconn).
  if (impl_->listen_socket == INVALID_SOCKET ||
      ::listen(impl_->listen_socket, kListenBacklog) != 0) {
    return Unavailable("cannot set the listen backlog of " + impl_->ctx.options.host + ":" +
                       std::to_string(impl_->bound_port));
  }
  return Status::Ok();
}

void ApiServer::Serve() { impl_->server->listen_after_bind(); }

void ApiServer::Stop() {
  if (impl_->server->is_running()) impl_->server->stop();
}

int ApiServer::port() const { return impl_->bound_port; }

}  // namespace exportd::api
