// XEP-0402 §5.3: legacy XEP-0048 <storage/> ⇄ one urn:xmpp:bookmarks:1 conference per room.
#include <catch2/catch.hpp>

#include "parley/xml/serializer.hpp"
#include "support/stanzas.hpp"
#include "xep/bookmark_conversion.hpp"

using namespace parley;
using parley::testing::parseStanza;
namespace bookmarks = parley::xep::bookmarks;

namespace {

// A <storage/> parsed as a client sends it (inside an iq, as private XML carries it).
xml::Element legacy(std::string_view inner) {
  auto iq = parseStanza(
      "<iq type='set' id='1'><query xmlns='jabber:iq:private'><storage "
      "xmlns='storage:bookmarks'>" +
      std::string(inner) + "</storage></query></iq>");
  return *iq.firstChildElement()->firstChildElement();
}

}  // namespace

TEST_CASE("bookmarks: a legacy list becomes one native conference per room", "[xep][bookmarks]") {
  auto rooms = bookmarks::fromLegacy(
      legacy("<conference jid='council@conference.underhill.org' name='Council of Oberon' "
             "autojoin='1'><nick>Puck</nick><password>titania</password>"
             "<state xmlns='urn:example:client'>pinned</state></conference>"
             "<conference jid='tea@conference.underhill.org' autojoin='false'/>"
             "<conference name='no jid, skipped'/>"
             "<url name='Site' url='https://underhill.org/'/>"));
  REQUIRE(rooms.size() == 2);
  CHECK(rooms[0].jid == "council@conference.underhill.org");
  const auto& council = rooms[0].payload;
  CHECK(council.is("conference", "urn:xmpp:bookmarks:1"));
  CHECK(council.attrOr("name") == "Council of Oberon");
  CHECK(council.attrOr("autojoin") == "true");
  CHECK(council.childText("nick", "urn:xmpp:bookmarks:1") == "Puck");
  CHECK(council.childText("password", "urn:xmpp:bookmarks:1") == "titania");
  const auto* extensions = council.child("extensions", "urn:xmpp:bookmarks:1");
  REQUIRE(extensions);
  CHECK(extensions->childText("state", "urn:example:client") == "pinned");
  // autojoin false is the default: left out.
  CHECK(rooms[1].payload.attr("autojoin") == nullptr);
  CHECK(rooms[1].payload.child("extensions", "urn:xmpp:bookmarks:1") == nullptr);
}

TEST_CASE("bookmarks: a later duplicate of a room wins", "[xep][bookmarks]") {
  auto rooms = bookmarks::fromLegacy(legacy(
      "<conference jid='a@muc.example' name='old'/><conference jid='a@muc.example' name='new'/>"));
  REQUIRE(rooms.size() == 1);
  CHECK(rooms[0].payload.attrOr("name") == "new");
}

TEST_CASE("bookmarks: native rooms read back as the legacy list", "[xep][bookmarks]") {
  auto original = legacy(
      "<conference jid='council@conference.underhill.org' name='Council of Oberon' "
      "autojoin='true'><nick>Puck</nick><password>titania</password>"
      "<state xmlns='urn:example:client'>pinned</state></conference>"
      "<url name='Site' url='https://underhill.org/'/>");
  auto rooms = bookmarks::fromLegacy(original);
  auto back = bookmarks::toLegacy(rooms, original.childrenNamed("url", "storage:bookmarks"));
  CHECK(back.is("storage", "storage:bookmarks"));
  auto conferences = back.childrenNamed("conference", "storage:bookmarks");
  REQUIRE(conferences.size() == 1);
  const auto* c = conferences[0];
  CHECK(c->attrOr("jid") == "council@conference.underhill.org");
  CHECK(c->attrOr("name") == "Council of Oberon");
  CHECK(c->attrOr("autojoin") == "true");
  CHECK(c->childText("nick", "storage:bookmarks") == "Puck");
  CHECK(c->childText("password", "storage:bookmarks") == "titania");
  CHECK(c->childText("state", "urn:example:client") == "pinned");
  REQUIRE(back.childrenNamed("url", "storage:bookmarks").size() == 1);
  // And the round trip is stable: converting again gives the same native payloads.
  auto again = bookmarks::fromLegacy(back);
  REQUIRE(again.size() == 1);
  CHECK(xml::toString(again[0].payload) == xml::toString(rooms[0].payload));
}

TEST_CASE("bookmarks: a native room without autojoin is autojoin='false' in legacy",
          "[xep][bookmarks]") {
  xml::Element native(std::string(bookmarks::kNativeNs), "conference");
  auto back = bookmarks::toLegacy({{"quiet@muc.example", native}});
  const auto* c = back.child("conference", "storage:bookmarks");
  REQUIRE(c);
  CHECK(c->attrOr("autojoin") == "false");
  CHECK(c->attr("name") == nullptr);
  CHECK(c->child("nick", "storage:bookmarks") == nullptr);
}
