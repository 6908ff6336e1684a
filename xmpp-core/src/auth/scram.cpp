#include "auth/scram.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stringprep.h>

#include <climits>
#include <cstdint>
#include <cstring>
#include <stdexcept>

#include "util/utf8.hpp"

namespace parley::auth {
namespace {

const EVP_MD* evpMd(ScramHash hash) { return hash == ScramHash::Sha1 ? EVP_sha1() : EVP_sha256(); }

size_t hashSize(ScramHash hash) { return hash == ScramHash::Sha1 ? 20 : 32; }

int base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

SaslFailure malformed(std::string text = {}) { return {"malformed-request", std::move(text)}; }
SaslFailure notAuthorized(std::string text = {}) { return {"not-authorized", std::move(text)}; }

// saslname (RFC 5802 §7): ',' and '=' appear only as "=2C" and "=3D"; any other '=' is an
// encoding error. Also refuses empty names and invalid UTF-8.
std::optional<std::string> unescapeSaslname(std::string_view in) {
  if (in.empty()) return std::nullopt;
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == ',') return std::nullopt;
    if (in[i] != '=') {
      out.push_back(in[i]);
      continue;
    }
    const std::string_view esc = in.substr(i + 1, 2);
    if (esc == "2C") {
      out.push_back(',');
    } else if (esc == "3D") {
      out.push_back('=');
    } else {
      return std::nullopt;
    }
    i += 2;
  }
  if (!util::isValidUtf8(out)) return std::nullopt;
  return out;
}

// printable = %x21-2B / %x2D-7E (everything visible but ',').
bool isNonce(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < 0x21 || c > 0x7E || c == ',') return false;
  }
  return true;
}

// cb-name = 1*(ALPHA / DIGIT / "." / "-")
bool isCbName(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Splits off the text up to the next ',' (or the end); `rest` is left after that ','.
std::string_view nextField(std::string_view& rest, bool& had_comma) {
  const size_t comma = rest.find(',');
  had_comma = comma != std::string_view::npos;
  const std::string_view field = rest.substr(0, comma);
  rest = had_comma ? rest.substr(comma + 1) : std::string_view{};
  return field;
}

// An "x=value" attribute with the expected name; returns the value.
std::optional<std::string_view> attribute(std::string_view field, char name) {
  if (field.size() < 2 || field[0] != name || field[1] != '=') return std::nullopt;
  return field.substr(2);
}

// Extensions after the mandatory attributes: each must at least look like "x=...".
bool validExtensions(std::string_view rest) {
  while (!rest.empty()) {
    bool comma = false;
    const std::string_view field = nextField(rest, comma);
    if (field.size() < 2 || field[1] != '=' ||
        !((field[0] >= 'a' && field[0] <= 'z') || (field[0] >= 'A' && field[0] <= 'Z'))) {
      return false;
    }
    if (comma && rest.empty()) return false;
  }
  return true;
}

}  // namespace

std::string hmac(ScramHash hash, std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  static const unsigned char kEmpty = 0;
  const auto* key_ptr = key.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(key.data());
  const auto* data_ptr =
      data.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(data.data());
  if (HMAC(evpMd(hash), key_ptr, static_cast<int>(key.size()), data_ptr, data.size(), out, &len) ==
      nullptr) {
    throw std::runtime_error("HMAC failed");
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string digest(ScramHash hash, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, evpMd(hash), nullptr) != 1) {
    throw std::runtime_error("EVP_Digest failed");
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string base64Encode(std::string_view raw) {
  if (raw.empty()) return {};
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
  const int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(raw.data()),
                                  static_cast<int>(raw.size()));
  out.resize(static_cast<size_t>(len));
  return out;
}

std::optional<std::string> base64Decode(std::string_view text) {
  // EVP_DecodeBlock skips surrounding whitespace and ignores padding in its result, so the input
  // is validated here first: canonical RFC 4648 base64, padded, no whitespace, zero pad bits.
  if (text.empty()) return std::string();
  if (text.size() % 4 != 0) return std::nullopt;
  size_t padding = 0;
  if (text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
  const size_t data_chars = text.size() - padding;
  for (size_t i = 0; i < data_chars; ++i) {
    if (base64Value(text[i]) < 0) return std::nullopt;
  }
  // Bits of the last data character that fall into the padding must be zero, otherwise two
  // different texts would decode to the same bytes.
  if (padding == 2 && (base64Value(text[data_chars - 1]) & 0x0F) != 0) return std::nullopt;
  if (padding == 1 && (base64Value(text[data_chars - 1]) & 0x03) != 0) return std::nullopt;

  std::string out(text.size() / 4 * 3, '\0');
  const int len = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
  if (len < 0 || static_cast<size_t>(len) != out.size()) return std::nullopt;
  out.resize(out.size() - padding);
  return out;
}

std::string randomBytes(size_t n) {
  std::string out(n, '\0');
  if (n != 0 &&
      RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return out;
}

bool constantTimeEquals(std::string_view a, std::string_view b) {
  // Lengths are public (they follow from the hash function), only the contents are compared in
  // constant time.
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<std::string> saslprep(std::string_view text) {
  if (!util::isValidUtf8(text)) return std::nullopt;
  // stringprep() works in place and reports TOO_SMALL_BUFFER when mappings grow the text; grow
  // and retry. Unassigned code points are allowed (RFC 5802 treats names as query strings).
  size_t cap = text.size() + 16;
  for (int attempt = 0; attempt < 6; ++attempt) {
    std::string buf(cap, '\0');
    std::memcpy(buf.data(), text.data(), text.size());
    const int rc =
        stringprep(buf.data(), cap, static_cast<Stringprep_profile_flags>(0), stringprep_saslprep);
    if (rc == STRINGPREP_OK) {
      buf.resize(std::strlen(buf.c_str()));
      return buf;
    }
    if (rc != STRINGPREP_TOO_SMALL_BUFFER) return std::nullopt;
    cap *= 4;
  }
  return std::nullopt;
}

std::string saltedPassword(ScramHash hash, std::string_view password, std::string_view salt,
                           uint32_t iterations) {
  if (iterations == 0 || iterations > static_cast<uint32_t>(INT_MAX)) {
    throw std::invalid_argument("SCRAM iteration count out of range");
  }
  std::string out(hashSize(hash), '\0');
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), static_cast<int>(iterations), evpMd(hash),
                        static_cast<int>(out.size()),
                        reinterpret_cast<unsigned char*>(out.data())) != 1) {
    throw std::runtime_error("PBKDF2 failed");
  }
  return out;
}

ScramCredentials deriveCredentials(ScramHash hash, std::string_view password, std::string_view salt,
                                   uint32_t iterations) {
  std::string salted = saltedPassword(hash, password, salt, iterations);
  std::string client_key = hmac(hash, salted, "Client Key");
  ScramCredentials creds;
  creds.hash = hash;
  creds.salt = std::string(salt);
  creds.iterations = iterations;
  creds.stored_key = digest(hash, client_key);
  creds.server_key = hmac(hash, salted, "Server Key");
  // The salted password and ClientKey are password equivalents; don't leave them in freed memory.
  OPENSSL_cleanse(salted.data(), salted.size());
  OPENSSL_cleanse(client_key.data(), client_key.size());
  return creds;
}

ScramServer::ScramServer(ScramHash hash, bool plus, bool server_offers_plus)
    : hash_(hash), plus_(plus), server_offers_plus_(server_offers_plus) {}

std::variant<ScramClientFirst, SaslFailure> ScramServer::parseClientFirst(
    std::string_view message) {
  ScramClientFirst first;
  std::string_view rest = message;
  bool comma = false;

  // gs2-cbind-flag
  const std::string_view flag = nextField(rest, comma);
  if (!comma) return malformed();
  if (flag == "n" || flag == "y") {
    first.cb_flag = flag[0];
  } else if (auto name = attribute(flag, 'p')) {
    if (!isCbName(*name)) return malformed();
    first.cb_flag = 'p';
    first.cb_name = std::string(*name);
  } else {
    return malformed();
  }
  // The flag must agree with the mechanism: binding data on plain SCRAM, or a -PLUS mechanism
  // without binding, is a confused (or tampered) client.
  if (first.cb_flag == 'p' && !plus_) return malformed("channel binding on non-PLUS mechanism");
  if (first.cb_flag != 'p' && plus_) return malformed("PLUS mechanism without channel binding");
  // 'y': the client supports binding but believes we don't. We do, so someone removed the -PLUS
  // mechanisms from our feature list (RFC 5802 §6).
  if (first.cb_flag == 'y' && server_offers_plus_) {
    return notAuthorized("channel binding downgrade detected");
  }
  // The session decides which binding types the connection supports; names nobody defines are
  // refused here.
  if (first.cb_flag == 'p' && first.cb_name != "tls-exporter" &&
      first.cb_name != "tls-server-end-point" && first.cb_name != "tls-unique") {
    return malformed("unsupported channel binding type");
  }

  // [authzid]
  const std::string_view authz = nextField(rest, comma);
  if (!comma) return malformed();
  if (!authz.empty()) {
    const auto value = attribute(authz, 'a');
    if (!value) return malformed();
    auto unescaped = unescapeSaslname(*value);
    if (!unescaped) return malformed("invalid authzid encoding");
    first.authzid = std::move(*unescaped);
  }
  first.gs2_header = std::string(message.substr(0, message.size() - rest.size()));
  first.bare = std::string(rest);

  // client-first-message-bare: [reserved-mext ","] username "," nonce ["," extensions]
  const std::string_view user_field = nextField(rest, comma);
  if (user_field.starts_with("m=")) return malformed("extensions-not-supported");
  const auto user = attribute(user_field, 'n');
  if (!user || !comma) return malformed();
  auto unescaped_user = unescapeSaslname(*user);
  if (!unescaped_user) return malformed("invalid-username-encoding");
  auto prepped_user = saslprep(*unescaped_user);
  if (!prepped_user || prepped_user->empty()) return malformed("invalid-username-encoding");
  first.username = std::move(*prepped_user);

  const std::string_view nonce_field = nextField(rest, comma);
  const auto nonce = attribute(nonce_field, 'r');
  if (!nonce || !isNonce(*nonce)) return malformed();
  first.client_nonce = std::string(*nonce);
  if (comma && (rest.empty() || !validExtensions(rest))) return malformed();

  first_ = first;
  return first;
}

std::string ScramServer::serverFirst(const ScramClientFirst& first, const ScramCredentials& creds,
                                     std::string_view server_nonce) {
  first_ = first;
  creds_ = creds;
  nonce_ = first.client_nonce;
  // 18 random bytes give 24 base64 characters without padding: 144 bits of unpredictability.
  nonce_ += server_nonce.empty() ? base64Encode(randomBytes(18)) : std::string(server_nonce);
  server_first_ =
      "r=" + nonce_ + ",s=" + base64Encode(creds.salt) + ",i=" + std::to_string(creds.iterations);
  return server_first_;
}

std::variant<std::string, SaslFailure> ScramServer::clientFinal(std::string_view message,
                                                                std::string_view cb_data) {
  // One exchange, one verification: clear the state whatever the outcome so that a second
  // client-final cannot be checked against the same nonce.
  const std::string server_first = std::move(server_first_);
  const std::string nonce = std::move(nonce_);
  server_first_.clear();
  nonce_.clear();
  const ScramCredentials creds = std::move(creds_);
  creds_ = {};
  if (server_first.empty()) return malformed("unexpected client-final-message");
  if (creds.stored_key.size() != hashSize(hash_) || creds.server_key.size() != hashSize(hash_)) {
    return notAuthorized();
  }

  // The proof is the last attribute; everything before it is signed.
  const size_t proof_at = message.rfind(",p=");
  if (proof_at == std::string_view::npos) return malformed();
  const std::string_view without_proof = message.substr(0, proof_at);
  const auto proof = base64Decode(message.substr(proof_at + 3));
  if (!proof) return malformed("invalid proof encoding");

  std::string_view rest = without_proof;
  bool comma = false;
  const auto cbind = attribute(nextField(rest, comma), 'c');
  if (!cbind || !comma) return malformed();
  const auto nonce_field = attribute(nextField(rest, comma), 'r');
  if (!nonce_field) return malformed();
  if (comma && (rest.empty() || !validExtensions(rest))) return malformed();

  const auto cbind_input = base64Decode(*cbind);
  if (!cbind_input) return malformed("invalid channel binding encoding");
  // With 'p' the header must be followed by the connection's binding data; without binding data
  // (the session could not obtain it) nothing can be verified.
  std::string expected = first_.gs2_header;
  if (first_.cb_flag == 'p') {
    if (cb_data.empty()) return notAuthorized("channel binding unavailable");
    expected += cb_data;
  }
  if (!constantTimeEquals(*cbind_input, expected)) {
    return notAuthorized("channel binding mismatch");
  }
  if (!constantTimeEquals(*nonce_field, nonce)) return notAuthorized("nonce mismatch");
  if (proof->size() != hashSize(hash_)) return notAuthorized();

  const std::string auth_message =
      first_.bare + "," + server_first + "," + std::string(without_proof);
  const std::string client_signature = hmac(hash_, creds.stored_key, auth_message);
  std::string client_key(proof->size(), '\0');
  for (size_t i = 0; i < client_key.size(); ++i) {
    client_key[i] = static_cast<char>((*proof)[i] ^ client_signature[i]);
  }
  const bool ok = constantTimeEquals(digest(hash_, client_key), creds.stored_key);
  OPENSSL_cleanse(client_key.data(), client_key.size());
  if (!ok) return notAuthorized();
  return "v=" + base64Encode(hmac(hash_, creds.server_key, auth_message));
}

}  // namespace parley::auth
