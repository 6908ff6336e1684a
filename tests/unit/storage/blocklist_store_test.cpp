// XEP-0191 blocklist storage against a real PostgreSQL (schemas/006_blocklist.sql): order,
// versions, unblocking, the start-up index, cascading deletes, and concurrent changes.

#include <catch2/catch.hpp>

#include <unistd.h>
#include <chrono>
#include <cstdlib>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "storage/blocklist_store.hpp"
#include "storage/migrations.hpp"
#include "storage/stores.hpp"
#include "storage_test_support.hpp"

namespace st = parley::storage;
using Jids = std::vector<std::string>;

namespace {

// A migrated database of this test case's own, with the two accounts the cases use.
class BlocklistDatabase : public TempDatabase {
 public:
  BlocklistDatabase() {
    auto c = connect();
    for (const char* account : {"juliet@capulet.lit", "nurse@capulet.lit"}) {
      REQUIRE(st::createAccount(*c, account, {}));
    }
  }
};

constexpr const char* kJuliet = "juliet@capulet.lit";

}  // namespace

TEST_CASE("blocklist storage: block, unblock, unblock all, with versions and order",
          "[storage][blocking]") {
  BlocklistDatabase db;
  auto c = db.connect();

  auto empty = st::loadBlocklist(*c, kJuliet);
  CHECK(empty.version == 0);
  CHECK(empty.jids.empty());

  // One command's items come back sorted; later ones after earlier ones.
  auto first = st::blockJids(*c, kJuliet, {"tybalt@capulet.lit", "romeo@montague.lit"});
  CHECK(first.version == 1);
  CHECK(first.jids == Jids{"romeo@montague.lit", "tybalt@capulet.lit"});
  std::this_thread::sleep_for(std::chrono::milliseconds(5));  // a later transaction start
  auto second = st::blockJids(*c, kJuliet, {"montague.lit", "romeo@montague.lit"});
  CHECK(second.version == 2);
  CHECK(second.jids == Jids{"romeo@montague.lit", "tybalt@capulet.lit", "montague.lit"});
  CHECK(st::loadBlocklist(*c, kJuliet).jids == second.jids);
  CHECK(st::loadBlocklist(*c, kJuliet).version == 2);

  auto unblocked = st::unblockJids(*c, kJuliet, {"tybalt@capulet.lit", "never@blocked.lit"});
  CHECK(unblocked.version == 3);
  CHECK(unblocked.jids == Jids{"romeo@montague.lit", "montague.lit"});

  auto none = st::unblockJids(*c, kJuliet, {});  // XEP-0191 §3.5: unblock all
  CHECK(none.version == 4);
  CHECK(none.jids.empty());
  CHECK(st::loadBlocklist(*c, kJuliet).version == 4);

  // Another account's list is its own.
  CHECK(st::loadBlocklist(*c, "nurse@capulet.lit").jids.empty());
}

TEST_CASE("blocklist storage: the start-up index and deleting an account", "[storage][blocking]") {
  BlocklistDatabase db;
  auto c = db.connect();
  CHECK(st::ownersWithBlocklist(*c).empty());
  st::blockJids(*c, kJuliet, {"romeo@montague.lit"});
  st::blockJids(*c, "nurse@capulet.lit", {"peter@capulet.lit"});
  st::unblockJids(*c, "nurse@capulet.lit", {});
  CHECK(st::ownersWithBlocklist(*c) == Jids{kJuliet});  // an emptied list is not listed

  REQUIRE(st::deleteAccount(*c, kJuliet));
  pqxx::nontransaction tx(*c);
  CHECK(tx.exec1("SELECT count(*) FROM blocklist_items")[0].as<int>() == 0);
  CHECK(tx.exec1("SELECT count(*) FROM blocklist_versions WHERE owner = 'juliet@capulet.lit'")[0]
            .as<int>() == 0);
}

TEST_CASE("blocklist storage: a line feed never reaches SQL", "[storage][blocking]") {
  BlocklistDatabase db;
  auto c = db.connect();
  CHECK_THROWS_AS(st::blockJids(*c, kJuliet, {"romeo@montague.lit\ntybalt@capulet.lit"}),
                  std::invalid_argument);
  CHECK_THROWS_AS(st::unblockJids(*c, kJuliet, {""}), std::invalid_argument);
  CHECK(st::loadBlocklist(*c, kJuliet).version == 0);
}

TEST_CASE("blocklist storage: concurrent changes get distinct versions in commit order",
          "[storage][blocking]") {
  BlocklistDatabase db;
  // Two connections block 30 addresses each, one per transaction: every change gets its own
  // version, and the list a change returns is exactly as big as its version says. (Catch2
  // assertions are not thread-safe: the threads only record.)
  struct Change {
    int64_t version;
    size_t size;
  };
  auto worker = [&](char who, std::vector<Change>& changes) {
    auto c = db.connect();
    for (int i = 0; i < 30; ++i) {
      auto after = st::blockJids(*c, kJuliet, {std::string(1, who) + std::to_string(i) + "@x.lit"});
      changes.push_back({after.version, after.jids.size()});
    }
  };
  std::vector<Change> a_changes, b_changes;
  std::thread a(worker, 'a', std::ref(a_changes)), b(worker, 'b', std::ref(b_changes));
  a.join();
  b.join();
  std::set<int64_t> versions;
  for (const auto* changes : {&a_changes, &b_changes}) {
    for (const auto& change : *changes) {
      CHECK(change.size == static_cast<size_t>(change.version));
      versions.insert(change.version);
    }
  }
  CHECK(versions.size() == 60);
  CHECK(*versions.begin() == 1);
  CHECK(*versions.rbegin() == 60);
  auto c = db.connect();
  CHECK(st::loadBlocklist(*c, kJuliet).jids.size() == 60);
}
