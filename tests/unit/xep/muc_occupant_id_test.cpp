// XEP-0421 occupant ids: stable for one (room, user), different across users and rooms, opaque,
// and the room's id replaces any a client supplied.
#include <catch2/catch.hpp>

#include "xep/muc_occupant_id.hpp"

using namespace parley;
using namespace parley::xep::muc;

TEST_CASE("an occupant id is stable per room and user and reveals neither") {
  const std::string key(32, 'k');
  const std::string id = occupantId(key, "lobby@conference.localhost", "alice@localhost");
  CHECK(id == occupantId(key, "lobby@conference.localhost", "alice@localhost"));
  CHECK(id.size() == 44);  // base64 of 32 bytes
  CHECK(id.find("alice") == std::string::npos);
  CHECK(id != occupantId(key, "lobby@conference.localhost", "bob@localhost"));
  CHECK(id != occupantId(key, "other@conference.localhost", "alice@localhost"));
  CHECK(id != occupantId(std::string(32, 'K'), "lobby@conference.localhost", "alice@localhost"));
  // The two inputs are kept apart: moving a character across the boundary changes the id.
  CHECK(occupantId(key, "ab", "c") != occupantId(key, "a", "bc"));
}

TEST_CASE("the room's occupant id replaces those a client supplied") {
  xml::Element message("jabber:client", "message");
  message.addChild(std::string(kOccupantIdNs), "occupant-id").setAttr("id", "forged");
  message.addChild(std::string(kOccupantIdNs), "occupant-id").setAttr("id", "forged-too");
  message.addChild("jabber:client", "body").addText("hi");
  stampOccupantId(message, "real");
  auto ids = message.childrenNamed("occupant-id", kOccupantIdNs);
  REQUIRE(ids.size() == 1);
  CHECK(ids[0]->attrOr("id") == "real");
  CHECK(message.child("body", "jabber:client"));
}
