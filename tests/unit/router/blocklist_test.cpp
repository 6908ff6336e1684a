// XEP-0191 blocklists as the router checks them: the JID matching rules, the <blocked/> error,
// and the in-memory cache that keeps the lists of online accounts (loading, sharing between an
// account's sessions, versions, letting go).

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>

#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "router/blocklist.hpp"
#include "router/blocklist_cache.hpp"
#include "support/stanzas.hpp"

using parley::Jid;
using parley::router::Blocklist;
using parley::router::BlocklistCache;
using parley::testing::jidOf;
using parley::testing::parseStanza;
namespace asio = boost::asio;

namespace {

constexpr const char* kOwner = "juliet@capulet.lit";

// A list as the database would hold it: addresses prepared, as the service stores them.
Blocklist listOf(std::vector<std::string> items, int64_t version = 1) {
  std::vector<std::string> prepared;
  for (const auto& item : items) prepared.push_back(jidOf(item).full());
  return Blocklist(kOwner, version, prepared);
}

std::shared_ptr<const Blocklist> sharedList(std::vector<std::string> items, int64_t version) {
  return std::make_shared<const Blocklist>(listOf(std::move(items), version));
}

// Runs one awaitable to completion on a private io_context.
template <class T>
T runSync(asio::awaitable<T> task) {
  asio::io_context io;
  auto result = asio::co_spawn(io, std::move(task), asio::use_future);
  io.run();
  return result.get();
}

// What the database holds, and what each load did.
struct FakeDatabase {
  std::map<std::string, std::shared_ptr<const Blocklist>> lists;
  int loads = 0;
  bool fail = false;
  std::function<void()> during_load;  // a change that commits while a load runs
};

asio::awaitable<std::shared_ptr<const Blocklist>> fakeLoad(FakeDatabase& db, std::string owner) {
  ++db.loads;
  if (db.fail) throw std::runtime_error("database unreachable");
  auto stored = db.lists.count(owner) ? db.lists[owner] : std::make_shared<const Blocklist>();
  if (db.during_load) db.during_load();
  co_return stored;
}

BlocklistCache cacheOn(FakeDatabase& db) {
  return BlocklistCache([&db](std::string owner) { return fakeLoad(db, std::move(owner)); });
}

}  // namespace

TEST_CASE("blocklist: which addresses an item blocks (XEP-0191 §6)", "[router][blocking]") {
  auto [item, address, blocked] = GENERATE(table<std::string, std::string, bool>({
      // user@domain/resource: only that resource
      {"romeo@montague.lit/orchard", "romeo@montague.lit/orchard", true},
      {"romeo@montague.lit/orchard", "romeo@montague.lit/garden", false},
      {"romeo@montague.lit/orchard", "romeo@montague.lit", false},
      {"romeo@montague.lit/orchard", "montague.lit", false},
      // user@domain: the account and any of its resources
      {"romeo@montague.lit", "romeo@montague.lit", true},
      {"romeo@montague.lit", "romeo@montague.lit/orchard", true},
      {"romeo@montague.lit", "benvolio@montague.lit/orchard", false},
      {"romeo@montague.lit", "montague.lit", false},
      // domain/resource: that resource at the domain, whoever's it is
      {"montague.lit/orchard", "montague.lit/orchard", true},
      {"montague.lit/orchard", "romeo@montague.lit/orchard", true},
      {"montague.lit/orchard", "romeo@montague.lit/garden", false},
      {"montague.lit/orchard", "romeo@montague.lit", false},
      {"montague.lit/orchard", "montague.lit", false},
      // domain: the domain itself and every address at it, but not other domains
      {"montague.lit", "montague.lit", true},
      {"montague.lit", "romeo@montague.lit", true},
      {"montague.lit", "romeo@montague.lit/orchard", true},
      {"montague.lit", "montague.lit/orchard", true},
      {"montague.lit", "verona.montague.lit", false},  // subdomains no longer (XEP-0191 1.3)
      {"montague.lit", "montague.lit.example", false},
      {"montague.lit", "romeo@verona.lit", false},
      // Addresses compare prepared: the node and domain case-insensitively, the resource not.
      {"Romeo@MONTAGUE.lit", "romeo@montague.lit/Orchard", true},
      {"romeo@montague.lit/Orchard", "romeo@montague.lit/orchard", false},
  }));
  INFO(item << " vs " << address);
  CHECK(listOf({item}).blocks(jidOf(address)) == blocked);
}

TEST_CASE("blocklist: the owner's own addresses are never blocked", "[router][blocking]") {
  // XEP-0191 §5: one of a user's resources is never blocked from another, whatever the list.
  const Blocklist list = listOf({"capulet.lit", "juliet@capulet.lit", "capulet.lit/balcony"});
  CHECK_FALSE(list.blocks(jidOf("juliet@capulet.lit")));
  CHECK_FALSE(list.blocks(jidOf("juliet@capulet.lit/balcony")));
  CHECK(list.blocks(jidOf("nurse@capulet.lit")));
  CHECK(list.blocks(jidOf("capulet.lit")));
}

TEST_CASE("blocklist: an empty list blocks nothing", "[router][blocking]") {
  CHECK_FALSE(Blocklist().blocks(jidOf("romeo@montague.lit/orchard")));
  CHECK_FALSE(listOf({}).blocks(jidOf("montague.lit")));
  CHECK(listOf({}).empty());
}

TEST_CASE("blocklist: the items keep the order they were given", "[router][blocking]") {
  const Blocklist list = listOf({"b@x.lit", "a@x.lit", "x.lit"}, 7);
  CHECK(list.jids() == std::vector<std::string>{"b@x.lit", "a@x.lit", "x.lit"});
  CHECK(list.version() == 7);
  CHECK(list.owner() == kOwner);
}

TEST_CASE("blocklist: no prepared address contains a line feed", "[router][blocking]") {
  // storage/blocklist_store.cpp passes a change's addresses one per line; this is why it may.
  for (const char* text : {"ro\nmeo@montague.lit", "romeo@monta\ngue.lit",
                           "romeo@montague.lit/o\nr", "montague.lit/\n"}) {
    INFO(text);
    CHECK_FALSE(Jid::parse(text));
  }
}

TEST_CASE("blocklist: a stanza to a blocked address is refused with <blocked/> (§3.3)",
          "[router][blocking]") {
  using parley::router::kBlockingErrorsNs;
  SECTION("message") {
    auto error = parley::router::makeBlockedError(
        parseStanza("<message from='juliet@capulet.lit/balcony' to='romeo@montague.lit' "
                    "id='m1' type='chat'><body>Can you hear me now?</body></message>"));
    CHECK(error.name() == "message");
    CHECK(error.attrOr("type") == "error");
    CHECK(error.attrOr("id") == "m1");
    CHECK(error.attrOr("from") == "romeo@montague.lit");
    CHECK(error.attrOr("to") == "juliet@capulet.lit/balcony");
    const auto* err = error.child("error", parley::ns::kClient);
    REQUIRE(err);
    CHECK(err->attrOr("type") == "cancel");
    std::vector<std::string> children;
    for (const auto& node : err->children()) {
      if (!node.isText()) children.push_back(node.element->ns() + " " + node.element->name());
    }
    // The defined condition, the text, then the application condition (RFC 6120 §8.3.2).
    CHECK(children == std::vector<std::string>{
                          "urn:ietf:params:xml:ns:xmpp-stanzas not-acceptable",
                          "urn:ietf:params:xml:ns:xmpp-stanzas text",
                          std::string(kBlockingErrorsNs) + " blocked",
                      });
  }
  SECTION("iq: the error carries the request's payload") {
    auto error = parley::router::makeBlockedError(
        parseStanza("<iq from='juliet@capulet.lit/balcony' to='romeo@montague.lit' id='v1' "
                    "type='get'><vCard xmlns='vcard-temp'/></iq>"));
    CHECK(error.attrOr("type") == "error");
    CHECK(error.child("vCard", "vcard-temp"));
    CHECK(error.child("error", parley::ns::kClient)->child("blocked", kBlockingErrorsNs));
  }
}

TEST_CASE("blocklist cache: an account that never blocked anyone costs no load",
          "[router][blocking]") {
  FakeDatabase db;
  BlocklistCache cache = cacheOn(db);
  runSync(cache.attach(kOwner));
  CHECK(db.loads == 0);
  auto list = cache.find(kOwner);
  REQUIRE(list);
  CHECK(list->empty());
  // Offline, too: known empty without asking.
  REQUIRE(cache.find("nurse@capulet.lit"));
  CHECK(runSync(cache.get("nurse@capulet.lit"))->empty());
  CHECK(db.loads == 0);
}

TEST_CASE("blocklist cache: loaded once at the first session, shared, let go at the last",
          "[router][blocking]") {
  FakeDatabase db;
  db.lists[kOwner] = sharedList({"romeo@montague.lit"}, 3);
  BlocklistCache cache = cacheOn(db);
  cache.markOwners({kOwner});
  CHECK_FALSE(cache.find(kOwner));  // offline with a stored list: only the database knows

  runSync(cache.attach(kOwner));
  runSync(cache.attach(kOwner));  // the second resource
  CHECK(db.loads == 1);
  auto list = cache.find(kOwner);
  REQUIRE(list);
  CHECK(list->blocks(jidOf("romeo@montague.lit/orchard")));

  cache.detach(kOwner);
  CHECK(cache.find(kOwner) == list);  // one resource is still online
  cache.detach(kOwner);
  CHECK_FALSE(cache.find(kOwner));

  // Read for an offline account, but not kept.
  CHECK(runSync(cache.get(kOwner))->version() == 3);
  CHECK(db.loads == 2);
  CHECK_FALSE(cache.find(kOwner));
}

TEST_CASE("blocklist cache: the newest version wins, whatever order changes arrive in",
          "[router][blocking]") {
  FakeDatabase db;
  BlocklistCache cache = cacheOn(db);
  runSync(cache.attach(kOwner));

  SECTION("a first block replaces the empty list") {
    cache.markOwner(kOwner);
    cache.offer(sharedList({"romeo@montague.lit"}, 1));
    CHECK(cache.find(kOwner)->version() == 1);
  }
  SECTION("a change that finished late does not undo a newer one") {
    cache.offer(sharedList({"romeo@montague.lit", "tybalt@capulet.lit"}, 5));
    cache.offer(sharedList({"romeo@montague.lit"}, 4));
    CHECK(cache.find(kOwner)->version() == 5);
    CHECK(cache.find(kOwner)->blocks(jidOf("tybalt@capulet.lit")));
  }
  SECTION("nothing is kept for an account without a session") {
    cache.detach(kOwner);
    cache.markOwner(kOwner);
    cache.offer(sharedList({"romeo@montague.lit"}, 9));
    CHECK_FALSE(cache.find(kOwner));
  }
}

TEST_CASE("blocklist cache: a change committed while the login reads the list is kept",
          "[router][blocking]") {
  FakeDatabase db;
  db.lists[kOwner] = sharedList({"romeo@montague.lit"}, 1);
  BlocklistCache cache = cacheOn(db);
  cache.markOwner(kOwner);
  // The load read version 1; meanwhile another resource's unblock committed version 2.
  db.during_load = [&] { cache.offer(sharedList({}, 2)); };
  runSync(cache.attach(kOwner));
  REQUIRE(cache.find(kOwner));
  CHECK(cache.find(kOwner)->version() == 2);
  CHECK_FALSE(cache.find(kOwner)->blocks(jidOf("romeo@montague.lit")));
}

TEST_CASE("blocklist cache: a login whose list cannot be read is not counted",
          "[router][blocking]") {
  FakeDatabase db;
  db.fail = true;
  BlocklistCache cache = cacheOn(db);
  cache.markOwner(kOwner);
  CHECK_THROWS_WITH(runSync(cache.attach(kOwner)), "database unreachable");
  cache.offer(sharedList({"romeo@montague.lit"}, 1));
  CHECK_FALSE(cache.find(kOwner));  // no session holds it
}
