// PEP storage against a real PostgreSQL: auto-create on publish, preconditions, replacement and
// ordering, the max_items trim, retraction, last items of several owners, and the cascade when
// the account goes.
#include <catch2/catch.hpp>

#include "storage/pep_store.hpp"
#include "storage/stores.hpp"
#include "storage_test_support.hpp"

namespace st = parley::storage;

namespace {

st::PepItem item(std::string id, std::string payload = "<p xmlns='urn:t'/>") {
  return {std::move(id), std::move(payload), "alice@example.org/desk"};
}

std::vector<std::string> ids(const std::vector<st::PepItem>& items) {
  std::vector<std::string> out;
  for (const auto& i : items) out.push_back(i.id);
  return out;
}

}  // namespace

TEST_CASE("pep: publish, preconditions, trim, retract, last items", "[storage][pep]") {
  TempDatabase db;
  auto c = db.connect();
  const std::string alice = "alice@example.org";
  const std::string bob = "bob@example.org";
  REQUIRE(st::createAccount(*c, alice, bothCreds('a')));
  REQUIRE(st::createAccount(*c, bob, bothCreds('b')));
  constexpr int kServerMax = 3;

  // First publish creates the node with the options asked for.
  st::PepNodeOptions two;
  two.max_items = std::optional<int>(2);
  auto out = st::publishPepItem(*c, alice, "n", item("i1"), two, kServerMax);
  CHECK(out.kind == st::PepPublishOutcome::Kind::Published);
  CHECK(out.created);
  CHECK(out.config.max_items == std::optional<int>(2));
  CHECK(st::loadPepNode(*c, alice, "n") == out.config);

  // A failed precondition changes nothing.
  st::PepNodeOptions open;
  open.access = st::PepAccess::Open;
  CHECK(st::publishPepItem(*c, alice, "n", item("i2"), open, kServerMax).kind ==
        st::PepPublishOutcome::Kind::PreconditionNotMet);
  CHECK(ids(st::loadPepItems(*c, alice, "n", {}, 10)) == std::vector<std::string>{"i1"});

  // Newest first; max_items 2 keeps two; republishing an id makes it the newest.
  st::publishPepItem(*c, alice, "n", item("i2"), {}, kServerMax);
  st::publishPepItem(*c, alice, "n", item("i3"), {}, kServerMax);
  CHECK(ids(st::loadPepItems(*c, alice, "n", {}, 10)) == std::vector<std::string>{"i3", "i2"});
  st::publishPepItem(*c, alice, "n", item("i2", "<p xmlns='urn:t'>new</p>"), {}, kServerMax);
  auto items = st::loadPepItems(*c, alice, "n", {}, 10);
  CHECK(ids(items) == std::vector<std::string>{"i2", "i3"});
  CHECK(items.front().payload == "<p xmlns='urn:t'>new</p>");
  CHECK(ids(st::loadPepItems(*c, alice, "n", {"i3", "nope"}, std::nullopt)) ==
        std::vector<std::string>{"i3"});

  // 'max' is bounded by the server's own limit.
  st::PepNodeOptions max;
  max.max_items = std::optional<int>();
  for (const char* id : {"a", "b", "c", "d", "e"}) {
    st::publishPepItem(*c, alice, "many", item(id), max, kServerMax);
  }
  CHECK(ids(st::loadPepItems(*c, alice, "many", {}, 10)) ==
        std::vector<std::string>{"e", "d", "c"});

  // Lowering max_items trims at once.
  st::PepNodeConfig one = *st::loadPepNode(*c, alice, "many");
  one.max_items = 1;
  CHECK(st::configurePepNode(*c, alice, "many", one, kServerMax));
  CHECK(ids(st::loadPepItems(*c, alice, "many", {}, 10)) == std::vector<std::string>{"e"});

  CHECK(st::retractPepItem(*c, alice, "n", "i3"));
  CHECK_FALSE(st::retractPepItem(*c, alice, "n", "i3"));

  // The newest item per node, for several owners at once; empty nodes give nothing.
  st::publishPepItem(*c, bob, "nick", item("x", "<nick xmlns='http://jabber.org/protocol/nick'/>"),
                     {}, kServerMax);
  CHECK(st::createPepNode(*c, bob, "empty", st::PepNodeConfig{}));
  CHECK_FALSE(st::createPepNode(*c, bob, "empty", st::PepNodeConfig{}));
  auto last = st::loadPepLastItems(*c, {alice, bob, "nobody@example.org"});
  std::vector<std::string> seen;
  for (const auto& l : last) seen.push_back(l.owner + " " + l.node + " " + l.item.id);
  CHECK(seen == std::vector<std::string>{"alice@example.org many e", "alice@example.org n i2",
                                         "bob@example.org nick x"});
  std::vector<std::string> nodes;
  for (const auto& [node, config] : st::listPepNodes(*c, bob)) nodes.push_back(node);
  CHECK(nodes == std::vector<std::string>{"empty", "nick"});

  CHECK(st::purgePepNode(*c, alice, "n"));
  CHECK(st::loadPepItems(*c, alice, "n", {}, 10).empty());
  CHECK(st::deletePepNode(*c, alice, "n"));
  CHECK_FALSE(st::loadPepNode(*c, alice, "n"));

  // Deleting the account deletes its nodes and items.
  REQUIRE(st::deleteAccount(*c, alice));
  CHECK(st::listPepNodes(*c, alice).empty());
  CHECK(st::loadPepLastItems(*c, {alice}).empty());
}
