#include "storage/notify/email_message.h"

#include <cctype>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "core/time_format.h"
#include "storage/base/base64.h"

namespace exportd {
namespace {

using nlohmann::json;

bool IsPrintableAscii(std::string_view text) {
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e) return false;
  }
  return true;
}

// The length of the longest prefix of `text` (at most `max` bytes) that does not split a UTF-8
// sequence.
size_t Utf8Prefix(std::string_view text, size_t max) {
  if (text.size() <= max) return text.size();
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return n == 0 ? max : n;
}

std::string StringOr(const json& j, const char* key, std::string fallback) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return fallback;
  return it->get<std::string>();
}

std::string Outcome(TaskState state) {
  switch (state) {
    case TaskState::kSucceeded:
      return "succeeded";
    case TaskState::kFailed:
      return "failed";
    case TaskState::kCancelled:
      return "was cancelled";
    default:
      return "is " + std::string(TaskStateName(state));
  }
}

}  // namespace

Status CheckHeaderValue(std::string_view name, std::string_view value) {
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return InvalidArgument("email header " + std::string(name) +
                             (c == '\r' || c == '\n' ? " would hold a line break"
                                                     : " would hold a control character"));
    }
  }
  return Status::Ok();
}

std::string EncodeHeaderText(std::string_view text) {
  if (IsPrintableAscii(text)) return std::string(text);
  // Encoded words are at most 75 characters: 45 bytes of text make 60 of base64, plus 12 of
  // "=?UTF-8?B?" and "?=". Words are split on UTF-8 character boundaries (RFC 2047 5.3).
  std::string out;
  while (!text.empty()) {
    const size_t n = Utf8Prefix(text, 45);
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + Base64Encode(text.substr(0, n)) + "?=";
    text.remove_prefix(n);
  }
  return out;
}

std::string Rfc5322Date(TimePoint t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday % 7],
                tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

std::string QuotedPrintable(std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  size_t line = 0;  // characters on the current output line
  auto emit = [&](std::string_view piece) {
    // A soft break keeps lines at 76 characters, the '=' included.
    if (line + piece.size() > 75) {
      out += "=\r\n";
      line = 0;
    }
    out += piece;
    line += piece.size();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    if (c == '\n') {
      out += "\r\n";
      line = 0;
      continue;
    }
    const auto u = static_cast<unsigned char>(c);
    const bool at_line_end = i + 1 == text.size() || text[i + 1] == '\n' || text[i + 1] == '\r';
    // Spaces and tabs before a line end would be lost in transit: encode them.
    const bool literal =
        (u >= 33 && u <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_line_end);
    if (literal) {
      emit(std::string_view(&c, 1));
    } else {
      const char enc[3] = {'=', kHex[u >> 4], kHex[u & 0xF]};
      emit(std::string_view(enc, 3));
    }
  }
  return out;
}

std::string EmailSubject(const Task& task) {
  return "exportd: export " + task.id + " of " + task.request.dataset + " " + Outcome(task.state);
}

Result<std::string> EmailBody(const Task& task, std::string_view task_json) {
  json view = json::parse(task_json, nullptr, /*allow_exceptions=*/false);
  if (!view.is_object()) return Internal("task JSON for the email is not an object");
  std::string b;
  auto line = [&b](const std::string& text) { b += text + "\n"; };
  line("Export " + task.id + " of dataset " + task.request.dataset + " " + Outcome(task.state) +
       ".");
  line("");
  line("Completed at: " + (task.finished_at ? FormatRfc3339(*task.finished_at) : "-"));
  line("Status:       " + std::string(TaskStateName(task.state)));
  if (task.state == TaskState::kSucceeded) {
    line("Rows:         " + std::to_string(task.progress.rows));
    line("");
    const json files = view.value("files", json::array());
    line(files.empty() ? "Files: none (the export matched no rows or its files were removed)"
                       : "Files (download links):");
    for (const json& f : files) {
      if (!f.is_object()) continue;
      line("  " + StringOr(f, "name", "?") + "  (" + std::to_string(f.value("rows", 0)) +
           " rows, " + std::to_string(f.value("bytes", 0)) + " bytes)");
      line("    " + StringOr(f, "url", "(no link)"));
      line("    link expires at " + StringOr(f, "expires_at", "?"));
    }
    if (const json links = view.value("links", json::object()); links.contains("manifest")) {
      line("");
      line("Manifest: " + StringOr(links, "manifest", "?"));
    }
  }
  if (task.error) {
    line("");
    line("Error: " + task.error->code + ": " + task.error->message);
  }
  line("");
  line("Query");
  const json request = view.value("request", json::object());
  line("  Dataset:    " + task.request.dataset);
  line("  Format:     " + std::string(FormatName(task.request.format)) +
       (task.request.compression == Compression::kGzip ? " (gzip)" : ""));
  std::string fields;
  for (const std::string& f : task.request.fields) fields += (fields.empty() ? "" : ", ") + f;
  line("  Fields:     " + (fields.empty() ? std::string("all") : fields));
  const json filter = request.value("filter", json());
  line("  Filter:     " +
       (filter.is_null() || filter.empty() ? std::string("none") : filter.dump()));
  if (task.request.since) line("  Since:      " + FormatRfc3339(*task.request.since));
  if (task.request.until) line("  Until:      " + FormatRfc3339(*task.request.until));
  if (!task.request.partitions.empty()) {
    std::string parts;
    for (const std::string& p : task.request.partitions) parts += (parts.empty() ? "" : ", ") + p;
    line("  Partitions: " + parts);
  }
  line("  Rows:       " + std::to_string(task.progress.rows));
  line("  Query hash: " + task.query_hash);
  if (task.tag) line("  Tag:        " + *task.tag);
  line("");
  line("-- ");
  line("exportd");
  return b;
}

Result<std::string> BuildTaskEmail(const Task& task, std::string_view task_json,
                                   const EmailEnvelope& envelope) {
  std::string to;
  for (const std::string& address : envelope.to) to += (to.empty() ? "" : ", ") + address;
  const std::string subject = EncodeHeaderText(EmailSubject(task));
  RETURN_IF_ERROR(CheckHeaderValue("From", envelope.from));
  RETURN_IF_ERROR(CheckHeaderValue("To", to));
  RETURN_IF_ERROR(CheckHeaderValue("Message-ID", envelope.message_id));
  RETURN_IF_ERROR(CheckHeaderValue("Subject", EmailSubject(task)));
  ASSIGN_OR_RETURN(std::string body, EmailBody(task, task_json));
  std::string m;
  auto header = [&m](std::string_view name, const std::string& value) {
    m.append(name).append(": ").append(value).append("\r\n");
  };
  header("Date", Rfc5322Date(envelope.date));
  header("From", envelope.from);
  header("To", to);
  header("Subject", subject);
  header("Message-ID", envelope.message_id);
  header("MIME-Version", "1.0");
  header("Content-Type", "text/plain; charset=utf-8");
  header("Content-Transfer-Encoding", "quoted-printable");
  std::string event(TaskStateName(task.state));
  for (char& c : event) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  header("X-Exportd-Event", "export." + event);
  m += "\r\n";
  m += QuotedPrintable(body);
  if (m.size() < 2 || m.compare(m.size() - 2, 2, "\r\n") != 0) m += "\r\n";
  return m;
}

}  // namespace exportd
