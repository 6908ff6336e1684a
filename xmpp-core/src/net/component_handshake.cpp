#include "net/component_handshake.hpp"

#include <openssl/evp.h>

#include <cctype>
#include <stdexcept>

#include "auth/scram.hpp"

namespace parley::net {

std::string componentHandshakeDigest(std::string_view stream_id, std::string_view secret) {
  std::string input;
  input.reserve(stream_id.size() + secret.size());
  input.append(stream_id);
  input.append(secret);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &length, EVP_sha1(), nullptr) != 1) {
    throw std::runtime_error("SHA-1 is unavailable in this OpenSSL");
  }
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

bool componentHandshakeMatches(std::string_view offered, std::string_view stream_id,
                               std::string_view secret) {
  while (!offered.empty() && std::isspace(static_cast<unsigned char>(offered.front())))
    offered.remove_prefix(1);
  while (!offered.empty() && std::isspace(static_cast<unsigned char>(offered.back())))
    offered.remove_suffix(1);
  std::string lowered(offered);
  for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return auth::constantTimeEquals(lowered, componentHandshakeDigest(stream_id, secret));
}

}  // namespace parley::net
