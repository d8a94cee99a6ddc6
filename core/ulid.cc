#include "core/ulid.h"

#include <array>
#include <cstdint>
#include <mutex>
#include <random>

namespace exportd {
namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

struct Generator {
  std::mutex mu;
  std::mt19937_64 rng{std::random_device{}()};
  uint64_t last_ms = 0;
  // 80 random bits: hi holds 16, lo holds 64.
  uint16_t hi = 0;
  uint64_t lo = 0;
};

Generator& TheGenerator() {
  static Generator g;
  return g;
}

}  // namespace

std::string NewUlid(TimePoint now) {
  auto ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
  Generator& g = TheGenerator();
  uint16_t hi;
  uint64_t lo;
  {
    std::lock_guard<std::mutex> lock(g.mu);
    if (ms <= g.last_ms) {
      // Same (or an earlier) millisecond: keep the time and increment the random part so ids
      // stay strictly increasing.
      ms = g.last_ms;
      if (++g.lo == 0) ++g.hi;
    } else {
      g.last_ms = ms;
      g.lo = g.rng();
      g.hi = static_cast<uint16_t>(g.rng() & 0x7fff);  // headroom for increments
    }
    hi = g.hi;
    lo = g.lo;
  }
  // 128 bits: 48 time | 16 hi | 64 lo, encoded as 26 base32 digits (the first holds 3 bits).
  std::array<uint8_t, 16> bytes{};
  for (int i = 0; i < 6; ++i) bytes[i] = static_cast<uint8_t>(ms >> (8 * (5 - i)));
  bytes[6] = static_cast<uint8_t>(hi >> 8);
  bytes[7] = static_cast<uint8_t>(hi);
  for (int i = 0; i < 8; ++i) bytes[8 + i] = static_cast<uint8_t>(lo >> (8 * (7 - i)));
  std::string out(26, '0');
  // Bit position 0 is the most significant bit of bytes[0]; the 130-bit field starts with 2 pad
  // bits.
  for (int c = 0; c < 26; ++c) {
    int value = 0;
    for (int b = 0; b < 5; ++b) {
      int bit_index = c * 5 + b - 2;  // index into the 128 bits
      int bit = 0;
      if (bit_index >= 0) bit = (bytes[bit_index / 8] >> (7 - bit_index % 8)) & 1;
      value = (value << 1) | bit;
    }
    out[c] = kAlphabet[value];
  }
  return out;
}

bool IsUlid(std::string_view s) {
  // Every id of every request is checked: one table look-up per character.
  static constexpr std::array<bool, 256> kInAlphabet = [] {
    std::array<bool, 256> in{};
    for (const char* a = kAlphabet; *a; ++a) in[static_cast<unsigned char>(*a)] = true;
    return in;
  }();
  if (s.size() != 26) return false;
  if (s[0] > '7') return false;
  for (char ch : s) {
    if (!kInAlphabet[static_cast<unsigned char>(ch)]) return false;
  }
  return true;
}

}  // namespace exportd
