// XEP-0114 §3: the component's <handshake/> is hex(SHA-1(stream id + secret)), lower case.
#include <catch2/catch.hpp>

#include "net/component_handshake.hpp"

using parley::net::componentHandshakeDigest;
using parley::net::componentHandshakeMatches;

TEST_CASE("handshake digest: SHA-1 of stream id then secret, lower-case hex", "[net][component]") {
  // FIPS 180 test vectors, split between the stream id and the secret.
  CHECK(componentHandshakeDigest("ab", "c") == "a9993e364706816aba3e25717850c26c9cd0d89d");
  CHECK(componentHandshakeDigest("", "") == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  CHECK(componentHandshakeDigest("abcdbcdecdefdefgefghfghighij", "hijkijkljklmklmnlmnomnopnopq") ==
        "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  // The order matters: id first, then the secret.
  CHECK(componentHandshakeDigest("c", "ab") != componentHandshakeDigest("ab", "c"));
}

TEST_CASE("handshake check: the right digest passes, anything else fails", "[net][component]") {
  const std::string digest = componentHandshakeDigest("3BF96D32", "s3cret");
  CHECK(componentHandshakeMatches(digest, "3BF96D32", "s3cret"));
  SECTION("upper case and surrounding whitespace are tolerated") {
    std::string upper = digest;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    CHECK(componentHandshakeMatches("\n  " + upper + " ", "3BF96D32", "s3cret"));
  }
  SECTION("a wrong secret, a wrong stream id, a truncated or empty digest fail") {
    CHECK_FALSE(componentHandshakeMatches(digest, "3BF96D32", "s3creT"));
    CHECK_FALSE(componentHandshakeMatches(digest, "3BF96D33", "s3cret"));
    CHECK_FALSE(componentHandshakeMatches(digest.substr(0, 39), "3BF96D32", "s3cret"));
    CHECK_FALSE(componentHandshakeMatches("", "3BF96D32", "s3cret"));
    // The secret itself is not a handshake.
    CHECK_FALSE(componentHandshakeMatches("s3cret", "3BF96D32", "s3cret"));
  }
}
