#include "core/partition_name.h"

#include <cstdint>

#include "core/text.h"

namespace exportd {
namespace {

constexpr std::string_view kNullDir = "~NULL";
constexpr std::string_view kEmptyDir = "~EMPTY";
constexpr std::string_view kShortenedMark = "~~";
constexpr size_t kHashDigits = 16;
constexpr char kHexDigits[] = "0123456789ABCDEF";

// Whether byte `i` of `value` stands for itself in the encoding.
bool Kept(std::string_view value, size_t i) {
  const char c = value[i];
  if (IsAsciiAlnum(c) || c == '_') return true;
  if (c == '-') return i > 0;
  if (c == '.') return i > 0 && i + 1 < value.size() && value[i - 1] != '.';
  return false;
}

uint64_t Fnv1a64(std::string_view value) {
  uint64_t hash = 14695981039346656037ULL;
  for (const char c : value) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return hash;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;  // lowercase is not the encoding's
}

}  // namespace

std::string PartitionDirName(const std::optional<std::string>& partition) {
  if (!partition) return std::string(kNullDir);
  const std::string_view value = *partition;
  if (value.empty()) return std::string(kEmptyDir);
  std::string out;
  out.reserve(value.size());
  // Where the encoding of each byte ends, so that a shortened name keeps whole bytes.
  size_t last_fit = 0;
  constexpr size_t kPrefixLimit = kMaxPartitionDirLength - kShortenedMark.size() - kHashDigits;
  for (size_t i = 0; i < value.size(); ++i) {
    if (Kept(value, i)) {
      out.push_back(value[i]);
    } else {
      const auto byte = static_cast<unsigned char>(value[i]);
      out.push_back('~');
      out.push_back(kHexDigits[byte >> 4]);
      out.push_back(kHexDigits[byte & 0xF]);
    }
    if (out.size() <= kPrefixLimit) last_fit = out.size();
  }
  if (out.size() <= kMaxPartitionDirLength) return out;
  out.resize(last_fit);
  out.append(kShortenedMark);
  uint64_t hash = Fnv1a64(value);
  char digits[kHashDigits];
  for (size_t i = kHashDigits; i-- > 0; hash >>= 4) digits[i] = kHexDigits[hash & 0xF];
  out.append(digits, kHashDigits);
  return out;
}

Result<std::optional<std::string>> ParsePartitionDirName(std::string_view dir) {
  if (dir == kNullDir) return std::optional<std::string>();
  if (dir == kEmptyDir) return std::optional<std::string>(std::string());
  if (!IsPartitionDirName(dir)) {
    return InvalidArgument(
        std::string("'").append(dir).append("' is not a partition directory name"));
  }
  if (dir.find(kShortenedMark) != std::string_view::npos) {
    return FailedPrecondition(std::string("partition directory '")
                                  .append(dir)
                                  .append("' is shortened; the manifest names its partition"));
  }
  std::string value;
  value.reserve(dir.size());
  for (size_t i = 0; i < dir.size(); ++i) {
    if (dir[i] != '~') {
      value.push_back(dir[i]);
      continue;
    }
    const int high = i + 2 < dir.size() ? HexValue(dir[i + 1]) : -1;
    const int low = high >= 0 ? HexValue(dir[i + 2]) : -1;
    if (low < 0) {
      return InvalidArgument(
          std::string("'").append(dir).append("' has a '~' without two hex digits"));
    }
    value.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  // One encoding per value: "~41" for "A" would name the same partition as "A".
  if (PartitionDirName(value) != dir) {
    return InvalidArgument(
        std::string("'").append(dir).append("' is not the canonical encoding of its value"));
  }
  return std::optional<std::string>(std::move(value));
}

bool IsPartitionDirName(std::string_view dir) {
  if (dir.empty() || dir.size() > kMaxPartitionDirLength) return false;
  if (dir.front() == '.' || dir.front() == '-' || dir.back() == '.') return false;
  if (dir.find("..") != std::string_view::npos) return false;
  for (const char c : dir) {
    if (!IsAsciiAlnum(c) && c != '.' && c != '_' && c != '-' && c != '~') return false;
  }
  return true;
}

std::string SeriesPartName(const std::optional<std::string>& partition,
                           std::string_view part_name) {
  std::string name = PartitionDirName(partition);
  name.push_back('/');
  name.append(part_name);
  return name;
}

}  // namespace exportd
