#pragma once
// SCRAM (RFC 5802, RFC 7677) for the server side, with channel binding (RFC 5929
// tls-server-end-point, RFC 9266 tls-exporter). The server never sees or keeps a password: it
// stores salt, iteration count, StoredKey and ServerKey per hash function.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace parley::auth {

enum class ScramHash { Sha1, Sha256 };

struct ScramCredentials {
  ScramHash hash = ScramHash::Sha256;
  std::string salt;  // raw bytes
  uint32_t iterations = 4096;
  std::string stored_key;  // raw bytes, H(ClientKey)
  std::string server_key;  // raw bytes, HMAC(SaltedPassword, "Server Key")
};

// Derives the stored form from a password (PBKDF2; slow by design, never on an io thread).
// `password` must already be SASLprep'ed by the caller (saslprep() below).
ScramCredentials deriveCredentials(ScramHash hash, std::string_view password, std::string_view salt,
                                   uint32_t iterations);
std::string saltedPassword(ScramHash hash, std::string_view password, std::string_view salt,
                           uint32_t iterations);
// RFC 4013 SASLprep of a password or username; nullopt when prohibited characters appear.
std::optional<std::string> saslprep(std::string_view text);

// Crypto helpers shared by the server exchange, the tests and the load generator's client side.
std::string hmac(ScramHash hash, std::string_view key, std::string_view data);
std::string digest(ScramHash hash, std::string_view data);
std::string base64Encode(std::string_view raw);
std::optional<std::string> base64Decode(std::string_view text);  // nullopt when not valid base64
std::string randomBytes(size_t n);                               // from OpenSSL's CSPRNG
bool constantTimeEquals(std::string_view a, std::string_view b);

// A SASL failure: the RFC 6120 §6.5 condition element name and an optional text.
struct SaslFailure {
  std::string condition;  // "not-authorized", "malformed-request", "invalid-authzid", ...
  std::string text;
};

// What the client's first message asked for.
struct ScramClientFirst {
  char cb_flag = 'n';    // 'n' no binding, 'y' client could bind but thinks server can't, 'p'
  std::string cb_name;   // with 'p': "tls-exporter" or "tls-server-end-point"
  std::string authzid;   // "a=" value, unescaped; empty when absent
  std::string username;  // unescaped (=2C, =3D) and SASLprep'ed
  std::string client_nonce;
  std::string gs2_header;  // verbatim, needed for the channel-binding check
  std::string bare;        // client-first-message-bare, verbatim
};

// The server side of one exchange. Usage: parseClientFirst → (look up credentials, async) →
// serverFirst → clientFinal. `plus` says whether this mechanism is the -PLUS variant;
// `server_offers_plus` whether the server advertised any -PLUS mechanism (for the 'y' downgrade
// check).
class ScramServer {
 public:
  ScramServer(ScramHash hash, bool plus, bool server_offers_plus);

  std::variant<ScramClientFirst, SaslFailure> parseClientFirst(std::string_view message);

  // Builds server-first-message with a fresh nonce (or `server_nonce` when given, for tests).
  std::string serverFirst(const ScramClientFirst& first, const ScramCredentials& creds,
                          std::string_view server_nonce = {});

  // Verifies client-final-message. `cb_data` is the channel-binding data of the TLS connection for
  // the type named in client-first (empty when not bound). Returns server-final-message ("v=...")
  // on success.
  std::variant<std::string, SaslFailure> clientFinal(std::string_view message,
                                                     std::string_view cb_data);

 private:
  ScramHash hash_;
  bool plus_;
  bool server_offers_plus_;
  ScramClientFirst first_;
  ScramCredentials creds_;
  std::string server_first_;
  std::string nonce_;  // client nonce + server nonce
};

}  // namespace parley::auth
