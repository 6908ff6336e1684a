#include <catch2/catch.hpp>
#include <memory>

#include "router/client_session.hpp"

namespace {

class TestSession final : public parley::router::ClientSession {
 public:
  void deliver(std::shared_ptr<const parley::xml::Element>) override {}
  void deliverBacklog(std::vector<std::shared_ptr<const parley::xml::Element>>) override {}
  void kick(std::string, std::string) override {}
};

std::shared_ptr<const parley::storage::Roster> rosterAt(int64_t version) {
  auto roster = std::make_shared<parley::storage::Roster>();
  roster->version = version;
  return roster;
}

parley::storage::RosterItem item(const std::string& contact) {
  parley::storage::RosterItem i;
  i.contact = contact;
  return i;
}

}  // namespace

TEST_CASE("cached roster: changes apply in order, a gap or a late load drops the copy",
          "[router][roster]") {
  TestSession s;
  s.setCachedRoster(rosterAt(3));
  s.updateCachedRoster(item("a@x"), 4, false);
  REQUIRE(s.cachedRoster());
  CHECK(s.cachedRoster()->version == 4);
  CHECK(s.cachedRoster()->items.size() == 1);

  s.updateCachedRoster(item("a@x"), 4, true);  // a repeat of a known version: ignored
  CHECK(s.cachedRoster()->items.size() == 1);

  s.updateCachedRoster(item("b@x"), 6, false);  // 5 was missed
  CHECK_FALSE(s.cachedRoster());

  s.setCachedRoster(rosterAt(5));  // loaded before change 6 was made: stale
  CHECK_FALSE(s.cachedRoster());
  s.setCachedRoster(rosterAt(6));
  REQUIRE(s.cachedRoster());
  s.updateCachedRoster(item("b@x"), 7, true);
  CHECK(s.cachedRoster()->version == 7);
  CHECK(s.cachedRoster()->items.empty());
}

TEST_CASE("cached roster: a change announced while the roster loads", "[router][roster]") {
  TestSession s;
  s.updateCachedRoster(item("a@x"), 9, false);  // nothing cached yet: only remembered
  s.setCachedRoster(rosterAt(8));               // the load read the roster before change 9
  CHECK_FALSE(s.cachedRoster());
}
