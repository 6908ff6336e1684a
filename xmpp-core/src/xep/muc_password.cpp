#include "xep/muc_password.hpp"

#include <charconv>
#include <vector>

#include "auth/scram.hpp"

namespace parley::xep::muc {

namespace {

constexpr std::string_view kScheme = "pbkdf2-sha256";
// About 20 ms of one database-pool thread per check: a password join is rare, a guess costly.
constexpr uint32_t kIterations = 100000;
constexpr uint32_t kMaxIterations = 10000000;  // refuse a stored value that would stall a thread
constexpr size_t kSaltBytes = 16;

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == sep) {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

}  // namespace

std::string hashRoomPassword(std::string_view password) {
  const std::string salt = auth::randomBytes(kSaltBytes);
  const std::string key =
      auth::saltedPassword(auth::ScramHash::Sha256, password, salt, kIterations);
  return std::string(kScheme) + "$" + std::to_string(kIterations) + "$" + auth::base64Encode(salt) +
         "$" + auth::base64Encode(key);
}

bool roomPasswordMatches(std::string_view stored, std::string_view password) {
  const auto parts = split(stored, '$');
  if (parts.size() != 4 || parts[0] != kScheme) return false;
  uint32_t iterations = 0;
  auto [end, ec] = std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), iterations);
  if (ec != std::errc() || end != parts[1].data() + parts[1].size() || iterations == 0 ||
      iterations > kMaxIterations) {
    return false;
  }
  auto salt = auth::base64Decode(parts[2]);
  auto key = auth::base64Decode(parts[3]);
  if (!salt || !key || key->empty()) return false;
  const std::string derived =
      auth::saltedPassword(auth::ScramHash::Sha256, password, *salt, iterations);
  return auth::constantTimeEquals(derived, *key);
}

}  // namespace parley::xep::muc
