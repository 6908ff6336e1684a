#include "router/login_cache.hpp"

#include <catch2/catch.hpp>

using parley::auth::ScramHash;
using parley::router::LoginCache;
using parley::storage::StoredLogin;

namespace {

StoredLogin loginWithSalt(const std::string& salt) {
  StoredLogin login;
  login.creds.salt = salt;
  return login;
}

}  // namespace

TEST_CASE("LoginCache: off until enabled, keyed by account and hash", "[router][login_cache]") {
  LoginCache cache(10);
  cache.insert("a@x", ScramHash::Sha256, loginWithSalt("s"), cache.generation());
  CHECK_FALSE(cache.find("a@x", ScramHash::Sha256));  // off: nothing kept

  cache.setEnabled(true);
  cache.insert("a@x", ScramHash::Sha256, loginWithSalt("s256"), cache.generation());
  auto hit = cache.find("a@x", ScramHash::Sha256);
  REQUIRE(hit);
  CHECK(hit->creds.salt == "s256");
  CHECK_FALSE(cache.find("a@x", ScramHash::Sha1));
  CHECK_FALSE(cache.find("b@x", ScramHash::Sha256));

  cache.setEnabled(false);  // the change channel is down: forget everything
  CHECK_FALSE(cache.find("a@x", ScramHash::Sha256));
}

TEST_CASE("LoginCache: a change during a read keeps the read value out", "[router][login_cache]") {
  LoginCache cache(10);
  cache.setEnabled(true);
  uint64_t before = cache.generation();
  cache.forget("someone@x");  // a notification arrives while the database is read
  cache.insert("a@x", ScramHash::Sha1, loginWithSalt("old"), before);
  CHECK_FALSE(cache.find("a@x", ScramHash::Sha1));

  cache.insert("a@x", ScramHash::Sha1, loginWithSalt("new"), cache.generation());
  cache.insert("a@x", ScramHash::Sha256, loginWithSalt("new256"), cache.generation());
  cache.forget("a@x");  // both hashes of the account go
  CHECK_FALSE(cache.find("a@x", ScramHash::Sha1));
  CHECK_FALSE(cache.find("a@x", ScramHash::Sha256));

  cache.insert("a@x", ScramHash::Sha1, loginWithSalt("again"), cache.generation());
  cache.forgetAll();
  CHECK_FALSE(cache.find("a@x", ScramHash::Sha1));
}

TEST_CASE("LoginCache: bounded", "[router][login_cache]") {
  LoginCache cache(3);
  cache.setEnabled(true);
  for (int i = 0; i < 3; ++i) {
    cache.insert("u" + std::to_string(i) + "@x", ScramHash::Sha1, loginWithSalt("s"),
                 cache.generation());
  }
  CHECK(cache.find("u2@x", ScramHash::Sha1));
  cache.insert("u3@x", ScramHash::Sha1, loginWithSalt("s"), cache.generation());  // full: reset
  CHECK_FALSE(cache.find("u0@x", ScramHash::Sha1));
  CHECK(cache.find("u3@x", ScramHash::Sha1));
}
