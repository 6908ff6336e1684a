#include "scram_client.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <atomic>
#include <map>
#include <mutex>
#include <stdexcept>
#include <tuple>

namespace parley::bench {
namespace {

const EVP_MD* digestOf(ScramHash hash) {
  return hash == ScramHash::kSha1 ? EVP_sha1() : EVP_sha256();
}

std::string hmac(ScramHash hash, std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(digestOf(hash), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out,
           &len) == nullptr) {
    throw std::runtime_error("HMAC failed");
  }
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string digest(ScramHash hash, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, digestOf(hash), nullptr) != 1) {
    throw std::runtime_error("digest failed");
  }
  return std::string(reinterpret_cast<char*>(out), len);
}

struct DerivedKeys {
  std::string clientKey;
  std::string storedKey;
  std::string serverKey;
};

std::mutex cacheMutex;
std::map<std::tuple<ScramHash, std::string, std::string, unsigned>, DerivedKeys> keyCache;
std::atomic<unsigned long> pbkdf2Runs{0};

DerivedKeys derivedKeys(ScramHash hash, const std::string& password, const std::string& salt,
                        unsigned iterations) {
  auto key = std::make_tuple(hash, password, salt, iterations);
  {
    std::lock_guard lock(cacheMutex);
    if (auto it = keyCache.find(key); it != keyCache.end()) return it->second;
  }
  const int size = EVP_MD_get_size(digestOf(hash));
  std::string salted(static_cast<size_t>(size), '\0');
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), static_cast<int>(iterations), digestOf(hash),
                        size, reinterpret_cast<unsigned char*>(salted.data())) != 1) {
    throw std::runtime_error("PBKDF2 failed");
  }
  ++pbkdf2Runs;
  DerivedKeys keys;
  keys.clientKey = hmac(hash, salted, "Client Key");
  keys.storedKey = digest(hash, keys.clientKey);
  keys.serverKey = hmac(hash, salted, "Server Key");
  std::lock_guard lock(cacheMutex);
  keyCache.emplace(std::move(key), keys);
  return keys;
}

// Value of "k=" in a SCRAM attribute list.
std::optional<std::string_view> attribute(std::string_view message, char name) {
  size_t pos = 0;
  while (pos < message.size()) {
    size_t end = message.find(',', pos);
    if (end == std::string_view::npos) end = message.size();
    std::string_view item = message.substr(pos, end - pos);
    if (item.size() >= 2 && item[0] == name && item[1] == '=') return item.substr(2);
    pos = end + 1;
  }
  return std::nullopt;
}

std::string saslName(std::string_view user) {
  std::string out;
  for (char c : user) {
    if (c == '=') {
      out += "=3D";
    } else if (c == ',') {
      out += "=2C";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string base64Encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(data.data()),
                            static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(len));
  return out;
}

std::optional<std::string> base64Decode(std::string_view text) {
  std::string clean;
  for (char c : text) {
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') clean += c;
  }
  if (clean.empty() || clean == "=") return std::string();
  if (clean.size() % 4 != 0) return std::nullopt;
  std::string out(clean.size() / 4 * 3, '\0');
  int len = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(clean.data()),
                            static_cast<int>(clean.size()));
  if (len < 0) return std::nullopt;
  size_t padding = 0;
  if (clean.back() == '=') ++padding;
  if (clean.size() >= 2 && clean[clean.size() - 2] == '=') ++padding;
  out.resize(static_cast<size_t>(len) - padding);
  return out;
}

std::optional<ScramHash> scramHashFromMechanism(std::string_view mechanism) {
  if (mechanism == "SCRAM-SHA-1") return ScramHash::kSha1;
  if (mechanism == "SCRAM-SHA-256") return ScramHash::kSha256;
  return std::nullopt;
}

std::string_view mechanismName(ScramHash hash) {
  return hash == ScramHash::kSha1 ? "SCRAM-SHA-1" : "SCRAM-SHA-256";
}

ScramClient::ScramClient(ScramHash hash, std::string user, std::string password)
    : hash_(hash), user_(std::move(user)), password_(std::move(password)) {}

std::string ScramClient::clientFirst() {
  unsigned char raw[18];
  if (RAND_bytes(raw, sizeof raw) != 1) throw std::runtime_error("RAND_bytes failed");
  clientNonce_ = base64Encode(std::string_view(reinterpret_cast<char*>(raw), sizeof raw));
  clientFirstBare_ = "n=" + saslName(user_) + ",r=" + clientNonce_;
  return "n,," + clientFirstBare_;
}

std::optional<std::string> ScramClient::clientFinal(std::string_view serverFirst) {
  auto nonce = attribute(serverFirst, 'r');
  auto salt64 = attribute(serverFirst, 's');
  auto iterText = attribute(serverFirst, 'i');
  if (!nonce || !salt64 || !iterText) return std::nullopt;
  if (nonce->substr(0, clientNonce_.size()) != clientNonce_) return std::nullopt;
  auto salt = base64Decode(*salt64);
  if (!salt) return std::nullopt;
  unsigned iterations = 0;
  for (char c : *iterText) {
    if (c < '0' || c > '9') return std::nullopt;
    iterations = iterations * 10 + static_cast<unsigned>(c - '0');
  }
  if (iterations == 0) return std::nullopt;

  const DerivedKeys keys = derivedKeys(hash_, password_, *salt, iterations);
  const std::string withoutProof = "c=biws,r=" + std::string(*nonce);
  const std::string authMessage =
      clientFirstBare_ + "," + std::string(serverFirst) + "," + withoutProof;
  std::string proof = hmac(hash_, keys.storedKey, authMessage);
  for (size_t i = 0; i < proof.size(); ++i) proof[i] ^= keys.clientKey[i];
  expectedServerSignature_ = base64Encode(hmac(hash_, keys.serverKey, authMessage));
  return withoutProof + ",p=" + base64Encode(proof);
}

bool ScramClient::verifyServerFinal(std::string_view serverFinal) const {
  auto verifier = attribute(serverFinal, 'v');
  return verifier && *verifier == expectedServerSignature_;
}

unsigned long ScramClient::pbkdf2Count() { return pbkdf2Runs.load(); }

}  // namespace parley::bench
