// Element: the one in-memory XML form. Equality is infoset equality, and text runs stay merged so
// that equal documents give equal trees whatever way they were built.

#include <catch2/catch.hpp>

#include "parley/xml/element.hpp"

using namespace parley::xml;

TEST_CASE("Attributes are looked up by name and namespace", "[element]") {
  Element el("jabber:client", "message");
  el.setAttr("to", "a@b").setAttr("lang", "en", kXmlNs).setAttr("to", "c@d");
  REQUIRE(el.attrs().size() == 2);
  CHECK(*el.attr("to") == "c@d");
  CHECK(el.attr("to", "urn:other") == nullptr);
  CHECK(el.attrOr("from", "none") == "none");
  CHECK(el.lang() == "en");
  CHECK(el.removeAttr("lang", kXmlNs));
  CHECK_FALSE(el.removeAttr("lang", kXmlNs));
  CHECK(el.lang().empty());
}

TEST_CASE("Adjacent text is merged and empty text dropped", "[element]") {
  Element el("", "body");
  el.addText("a").addText("").addText("b");
  REQUIRE(el.children().size() == 1);
  CHECK(el.text() == "ab");
  el.addChild("", "br");
  el.addText("c");
  CHECK(el.children().size() == 3);
  CHECK(el.text() == "abc");

  SECTION("removing the element between two runs merges them") {
    CHECK(el.removeChildren("br", "") == 1);
    REQUIRE(el.children().size() == 1);
    Element built("", "body");
    built.addText("abc");
    CHECK(el == built);
  }
}

TEST_CASE("Child lookup", "[element]") {
  Element iq("jabber:client", "iq");
  iq.addText(" ");
  Element& query = iq.addChild("jabber:iq:roster", "query");
  query.addChild("jabber:iq:roster", "item").setAttr("jid", "a@b");
  query.addChild("jabber:iq:roster", "item").setAttr("jid", "c@d");
  query.addChild("urn:x", "item");
  CHECK(iq.firstChildElement() == &query);
  CHECK(iq.child("query", "jabber:iq:roster") == &query);
  CHECK(iq.child("query", "jabber:client") == nullptr);
  CHECK(query.childrenNamed("item", "jabber:iq:roster").size() == 2);
  CHECK(query.removeChildren("item", "jabber:iq:roster") == 2);
  CHECK(query.children().size() == 1);

  Element msg("jabber:client", "message");
  msg.addChild("jabber:client", "body").addText("hello");
  CHECK(msg.childText("body", "jabber:client") == "hello");
  CHECK(msg.childText("subject", "jabber:client").empty());
  msg.child("body", "jabber:client")->addText("!");
  CHECK(msg.childText("body", "jabber:client") == "hello!");
}

TEST_CASE("Equality is infoset equality", "[element]") {
  Element a("jabber:client", "message");
  a.setAttr("to", "x").setAttr("type", "chat");
  a.addChild("jabber:client", "body").addText("hi");
  Element b("jabber:client", "message");
  b.setAttr("type", "chat").setAttr("to", "x");
  b.addChild("jabber:client", "body").addText("hi");
  CHECK(a == b);  // attribute order does not matter

  SECTION("namespace matters") {
    b.child("body", "jabber:client")->setAttr("x", "1", "urn:a");
    Element c = a;
    c.child("body", "jabber:client")->setAttr("x", "1", "urn:b");
    CHECK_FALSE(b == c);
  }
  SECTION("child order matters") {
    a.addChild("urn:x", "x");
    a.addChild("urn:y", "y");
    b.addChild("urn:y", "y");
    b.addChild("urn:x", "x");
    CHECK_FALSE(a == b);
  }
  SECTION("text matters") {
    b.child("body", "jabber:client")->addText("!");
    CHECK_FALSE(a == b);
  }
  SECTION("attribute values matter") {
    b.setAttr("type", "normal");
    CHECK_FALSE(a == b);
  }
  SECTION("an extra attribute matters") {
    b.setAttr("id", "1");
    CHECK_FALSE(a == b);
    CHECK_FALSE(b == a);
  }
}

TEST_CASE("Copies are deep", "[element]") {
  Element a("jabber:client", "message");
  a.addChild("jabber:client", "body").addText("hi");
  Element b = a;
  b.child("body", "jabber:client")->addText("!");
  CHECK(a.childText("body", "jabber:client") == "hi");
  CHECK(b.childText("body", "jabber:client") == "hi!");

  // Assigning an element its own descendant must not read freed memory.
  Element body = *a.child("body", "jabber:client");
  a = *a.child("body", "jabber:client");
  CHECK(a == body);
}

TEST_CASE("removeChildren keeps the other children intact when nothing matches") {
  parley::xml::Element message("jabber:client", "message");
  message.addChild("jabber:client", "body").addText("hello");
  REQUIRE(message.removeChildren("delay", "urn:xmpp:delay") == 0);
  REQUIRE(message.childText("body", "jabber:client") == "hello");
  message.addChild("urn:xmpp:delay", "delay");
  REQUIRE(message.removeChildren("delay", "urn:xmpp:delay") == 1);
  REQUIRE(message.childText("body", "jabber:client") == "hello");
}
