// XEP-0280 Message Carbons: which messages are copied, and what a copy looks like.

#include <catch2/catch.hpp>

#include <string>

#include "parley/xml/serializer.hpp"
#include "router/carbons.hpp"
#include "support/stanzas.hpp"

using parley::testing::jidOf;
using parley::testing::parseStanza;
namespace carbons = parley::router::carbons;

TEST_CASE("carbons: what is eligible for copying (XEP-0280 §6)", "[carbons]") {
  auto [stanza, eligible] = GENERATE(table<std::string, bool>({
      {"<message type='chat'><body>hi</body></message>", true},
      {"<message type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/>"
       "</message>",
       true},  // chat states too (§10.2)
      {"<message><body>a normal message</body></message>", true},
      {"<message type='normal'><body>hi</body></message>", true},
      {"<message type='normal'><received xmlns='urn:xmpp:receipts' id='x'/></message>", false},
      {"<message type='headline'><body>news</body></message>", false},
      {"<message type='groupchat'><body>room</body></message>", false},
      {"<message type='error'><body>hi</body></message>", false},
      {"<message type='chat'><body>hi</body><private xmlns='urn:xmpp:carbons:2'/></message>",
       false},
      {"<message type='chat'><body>hi</body><no-copy xmlns='urn:xmpp:hints'/></message>", false},
      {"<message type='chat'><body>pm</body><x xmlns='http://jabber.org/protocol/muc#user'/>"
       "</message>",
       false},
      {"<message type='chat'><sent xmlns='urn:xmpp:carbons:2'/></message>", false},
      {"<message type='chat'><received xmlns='urn:xmpp:carbons:2'/></message>", false},
  }));
  INFO(stanza);
  CHECK(carbons::eligible(parseStanza(stanza)) == eligible);
}

TEST_CASE("carbons: <private/> is not passed on to the recipient", "[carbons]") {
  auto message = parseStanza(
      "<message type='chat'><body>hi</body><private xmlns='urn:xmpp:carbons:2'/></message>");
  carbons::stripPrivate(message);
  CHECK(message == parseStanza("<message type='chat'><body>hi</body></message>"));
}

TEST_CASE("carbons: a copy comes from the bare JID and forwards the original", "[carbons]") {
  const auto original = parseStanza(
      "<message from='juliet@example.org/balcony' to='romeo@example.org/garden' type='chat' "
      "id='m1'><body>Wherefore art thou?</body></message>");
  SECTION("received") {
    auto copy = carbons::wrap(carbons::Copy::Received, jidOf("romeo@example.org/home"), original);
    INFO(parley::xml::toString(copy, "jabber:client"));
    CHECK(copy ==
          parseStanza("<message from='romeo@example.org' to='romeo@example.org/home' type='chat'>"
                      "<received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>"
                      "<message xmlns='jabber:client' from='juliet@example.org/balcony' "
                      "to='romeo@example.org/garden' type='chat' id='m1'>"
                      "<body>Wherefore art thou?</body></message></forwarded></received>"
                      "</message>"));
  }
  SECTION("sent, and a normal message keeps having no type") {
    const auto normal = parseStanza(
        "<message from='romeo@example.org/home' to='juliet@example.org'><body>Here.</body>"
        "</message>");
    auto copy = carbons::wrap(carbons::Copy::Sent, jidOf("romeo@example.org/phone"), normal);
    CHECK(copy.attr("type") == nullptr);
    CHECK(copy.attrOr("from") == "romeo@example.org");
    const auto* sent = copy.child("sent", carbons::kNs);
    REQUIRE(sent != nullptr);
    const auto* forwarded = sent->child("forwarded", carbons::kForwardNs);
    REQUIRE(forwarded != nullptr);
    const auto* inner = forwarded->child("message", "jabber:client");
    REQUIRE(inner != nullptr);
    CHECK(*inner == normal);
  }
}
