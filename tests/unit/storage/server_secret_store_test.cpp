// Server secrets against a real PostgreSQL: created once with the asked length, then the same
// value on every later call, one per name.
#include <catch2/catch.hpp>

#include "storage/server_secret_store.hpp"
#include "storage_test_support.hpp"

namespace st = parley::storage;

TEST_CASE("server secrets: created once, then stable", "[storage][secrets]") {
  TempDatabase db;
  auto c = db.connect();
  const std::string first = st::loadOrCreateServerSecret(*c, "muc-occupant-id", 32);
  CHECK(first.size() == 32);
  CHECK(st::loadOrCreateServerSecret(*c, "muc-occupant-id", 32) == first);
  auto other = db.connect();
  CHECK(st::loadOrCreateServerSecret(*other, "muc-occupant-id", 16) == first);
  const std::string second = st::loadOrCreateServerSecret(*c, "something-else", 32);
  CHECK(second != first);
}
