// SCRAM-SHA-1 / SCRAM-SHA-256 client side (RFC 5802, RFC 7677) for the load generator, with a
// process-wide cache of the keys derived from the salted password so PBKDF2 runs once per
// (mechanism, password, salt, iterations) instead of once per login.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace parley::bench {

std::string base64Encode(std::string_view data);
std::optional<std::string> base64Decode(std::string_view text);

enum class ScramHash { kSha1, kSha256 };

std::optional<ScramHash> scramHashFromMechanism(std::string_view mechanism);
std::string_view mechanismName(ScramHash hash);

class ScramClient {
 public:
  ScramClient(ScramHash hash, std::string user, std::string password);

  // client-first-message (with the "n,," GS2 header), sent in <auth/>.
  std::string clientFirst();
  // Consumes server-first-message, returns client-final-message; nullopt if malformed.
  std::optional<std::string> clientFinal(std::string_view serverFirst);
  // Checks server-final-message ("v=..."); true when the server proved it knows the key.
  bool verifyServerFinal(std::string_view serverFinal) const;

  // Number of PBKDF2 computations this process has done (cache misses), for reporting.
  static unsigned long pbkdf2Count();

 private:
  ScramHash hash_;
  std::string user_;
  std::string password_;
  std::string clientNonce_;
  std::string clientFirstBare_;
  std::string expectedServerSignature_;
};

}  // namespace parley::bench
