// Room passwords are stored as salted PBKDF2 hashes: the right password matches, nothing else
// does, two hashes of one password differ, and a stored value in another form never matches.
#include <catch2/catch.hpp>

#include "xep/muc_password.hpp"

using namespace parley::xep::muc;

TEST_CASE("a room password is kept as a salted hash that only the password matches") {
  const std::string stored = hashRoomPassword("open sesame");
  CHECK(stored.rfind("pbkdf2-sha256$", 0) == 0);
  CHECK(stored.find("open sesame") == std::string::npos);
  CHECK(roomPasswordMatches(stored, "open sesame"));
  CHECK_FALSE(roomPasswordMatches(stored, "open sesame!"));
  CHECK_FALSE(roomPasswordMatches(stored, "Open sesame"));
  CHECK_FALSE(roomPasswordMatches(stored, ""));
  // Salted: the same password hashes differently each time.
  CHECK(hashRoomPassword("open sesame") != stored);
}

TEST_CASE("a stored value this code did not write matches nothing") {
  for (const char* bad : {"", "open sesame", "pbkdf2-sha256$", "pbkdf2-sha256$x$AAAA$AAAA",
                          "pbkdf2-sha256$0$AAAA$AAAA", "pbkdf2-sha256$99999999999$AAAA$AAAA",
                          "md5$1000$AAAA$AAAA", "pbkdf2-sha256$1000$!!$AAAA"}) {
    CHECK_FALSE(roomPasswordMatches(bad, "open sesame"));
    CHECK_FALSE(roomPasswordMatches(bad, ""));
  }
}
