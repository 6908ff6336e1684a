#include <catch2/catch.hpp>

#include "parley/xml/serializer.hpp"
#include "router/router.hpp"

TEST_CASE("offline storage text parses back to the same stanza") {
  const std::string text =
      "<message type='chat' to='carol@localhost' id='x1' xml:lang='en' "
      "from='alice@localhost/x'><body>hello there</body><active "
      "xmlns='http://jabber.org/protocol/chatstates'/></message>";
  auto parsed = parley::router::parseStoredStanza(text);
  REQUIRE(parsed.has_value());
  REQUIRE(parsed->name() == "message");
  REQUIRE(parsed->childText("body", "jabber:client") == "hello there");
  REQUIRE(parley::xml::toString(*parsed, "jabber:client") == text);
}

TEST_CASE("a corrupt stored stanza is reported, not half-parsed") {
  REQUIRE_FALSE(parley::router::parseStoredStanza("<message><body>unterminated").has_value());
}
