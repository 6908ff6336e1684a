#pragma once
// XEP-0114 §3: a component proves it knows the shared secret by sending, in <handshake/>, the
// lower-case hex SHA-1 of the stream id the server gave it followed by the secret.

#include <string>
#include <string_view>

namespace parley::net {

// hex(SHA-1(stream_id + secret)), lower case.
std::string componentHandshakeDigest(std::string_view stream_id, std::string_view secret);

// Whether `offered` (the handshake's text, surrounding whitespace and letter case ignored) is
// the digest for this stream id and secret; compared in constant time.
bool componentHandshakeMatches(std::string_view offered, std::string_view stream_id,
                               std::string_view secret);

}  // namespace parley::net
