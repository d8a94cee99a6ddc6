#include "storage/sqlite/schedule_codec.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "core/time_format.h"
#include "storage/sqlite/request_record.h"

namespace exportd {
namespace {

using nlohmann::json;

// Version of the stored layout. Decode accepts this and older versions.
constexpr int kCodecVersion = 1;

// The stored spellings of CatchUp (not the API's, though they agree today).
constexpr std::pair<CatchUp, std::string_view> kCatchUps[] = {
    {CatchUp::kLatest, "latest"}, {CatchUp::kAll, "all"}, {CatchUp::kNone, "none"}};

std::string_view StoredCatchUp(CatchUp catch_up) {
  for (const auto& [value, name] : kCatchUps) {
    if (value == catch_up) return name;
  }
  return "latest";
}

std::optional<CatchUp> ParseStoredCatchUp(std::string_view name) {
  for (const auto& [value, spelled] : kCatchUps) {
    if (spelled == name) return value;
  }
  return std::nullopt;
}

json OptString(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }

// Throws json::exception (type_error) for members of the wrong type or missing ones (at()).
void DecodeBody(const json& j, Schedule& s) {
  const int version = j.at("v").get<int>();
  if (version < 1 || version > kCodecVersion) {
    throw std::runtime_error("unsupported schedule record version " + std::to_string(version));
  }
  s.name = j.at("name").get<std::string>();
  s.cron = j.at("cron").get<std::string>();
  s.time_zone = j.at("time_zone").get<std::string>();
  s.enabled = j.at("enabled").get<bool>();
  const std::string catch_up = j.at("catch_up").get<std::string>();
  std::optional<CatchUp> parsed = ParseStoredCatchUp(catch_up);
  if (!parsed) throw std::runtime_error("unknown catch_up '" + catch_up + "'");
  s.catch_up = *parsed;
  s.enabled_at = FromUnixMillis(j.at("enabled_at").get<int64_t>());

  const json& t = j.at("template");
  Result<ExportRequest> request = DecodeRequestRecord(t.at("request"));
  if (!request.ok()) throw std::runtime_error(request.status().message());
  ScheduleTemplate& out = s.request;
  out.request = std::move(*request);
  out.tag.reset();
  if (!t.at("tag").is_null()) out.tag = t.at("tag").get<std::string>();
  out.notify = Notify{};
  const json& notify = t.at("notify");
  if (!notify.at("webhook").is_null()) out.notify.webhook = notify.at("webhook").get<std::string>();
  out.notify.email = notify.at("email").get<std::vector<std::string>>();
  out.retention.reset();
  if (!t.at("retention_s").is_null()) {
    out.retention = std::chrono::seconds(t.at("retention_s").get<int64_t>());
  }
  out.escape_formulas.reset();
  if (!t.at("escape_formulas").is_null()) out.escape_formulas = t.at("escape_formulas").get<bool>();
}

}  // namespace

std::string EncodeScheduleBody(const Schedule& s) {
  const ScheduleTemplate& t = s.request;
  json templ = {
      {"request", EncodeRequestRecord(t.request)},
      {"tag", OptString(t.tag)},
      {"notify", json{{"webhook", OptString(t.notify.webhook)}, {"email", t.notify.email}}},
      {"retention_s", t.retention ? json(t.retention->count()) : json(nullptr)},
      {"escape_formulas", t.escape_formulas ? json(*t.escape_formulas) : json(nullptr)}};
  json j = {{"v", kCodecVersion},
            {"name", s.name},
            {"cron", s.cron},
            {"time_zone", s.time_zone},
            {"enabled", s.enabled},
            {"catch_up", StoredCatchUp(s.catch_up)},
            {"enabled_at", ToUnixMillis(s.enabled_at)},
            {"template", std::move(templ)}};
  // Invalid UTF-8 is replaced rather than thrown: the record must always be storable.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Status DecodeScheduleBody(std::string_view text, Schedule& schedule) {
  try {
    DecodeBody(json::parse(text), schedule);
    return Status::Ok();
  } catch (const std::exception& e) {
    return DataLoss(std::string("stored schedule: ") + e.what());
  }
}

}  // namespace exportd
