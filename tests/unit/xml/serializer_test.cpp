// Serializer: namespaces declared only where they change, prefixes only for namespaced
// attributes, and escaping that survives a re-parse (including attribute-value normalisation).

#include <catch2/catch.hpp>

#include "parley/xml/serializer.hpp"

using namespace parley::xml;

TEST_CASE("Namespaces are declared where they change", "[serializer]") {
  Element msg("jabber:client", "message");
  msg.setAttr("to", "juliet@example.com");
  msg.addChild("jabber:client", "body").addText("hi");
  Element& x = msg.addChild("urn:x", "x");
  x.addChild("urn:x", "y");
  x.addChild("", "z");

  CHECK(toString(msg, "jabber:client") ==
        "<message to='juliet@example.com'><body>hi</body><x xmlns='urn:x'><y/><z xmlns=''/></x>"
        "</message>");
  CHECK(toString(msg) ==
        "<message xmlns='jabber:client' to='juliet@example.com'><body>hi</body><x xmlns='urn:x'>"
        "<y/><z xmlns=''/></x></message>");

  std::string out = "prefix";
  serialize(Element("", "a"), out);
  CHECK(out == "prefix<a/>");
}

TEST_CASE("Namespaced attributes get generated prefixes", "[serializer]") {
  Element el("urn:e", "e");
  el.setAttr("a", "1", "urn:p").setAttr("b", "2", "urn:q").setAttr("c", "3", "urn:p");
  el.setAttr("lang", "fr", kXmlNs).setAttr("d", "4");
  CHECK(toString(el, "urn:e") ==
        "<e xmlns:ns1='urn:p' ns1:a='1' xmlns:ns2='urn:q' ns2:b='2' ns1:c='3' xml:lang='fr' "
        "d='4'/>");
  Element inner("urn:e", "i");
  inner.setAttr("a", "5", "urn:q");
  el.addChild(inner);
  // The child declares its own prefix rather than relying on its parent's.
  CHECK(toString(el, "urn:e").find("<i xmlns:ns1='urn:q' ns1:a='5'/>") != std::string::npos);
}

TEST_CASE("An element in the xml namespace keeps the xml prefix", "[serializer]") {
  Element el("jabber:client", "m");
  el.addChild(std::string(kXmlNs), "odd").addChild("jabber:client", "c");
  CHECK(toString(el, "jabber:client") == "<m><xml:odd><c/></xml:odd></m>");
}

TEST_CASE("Text and attribute escaping", "[serializer]") {
  std::string text;
  appendEscapedText(text, "a&b<c>d]]>e'\"\t\n\r");
  CHECK(text == "a&amp;b&lt;c&gt;d]]&gt;e'\"\t\n&#13;");

  std::string attr;
  appendEscapedAttr(attr, "a&b<c>d'e\"f\tg\nh\ri");
  CHECK(attr == "a&amp;b&lt;c&gt;d&apos;e&quot;f&#9;g&#10;h&#13;i");

  std::string plain;
  appendEscapedText(plain, "caf\xC3\xA9 \xF0\x9F\x98\x80");
  CHECK(plain == "caf\xC3\xA9 \xF0\x9F\x98\x80");

  Element el("", "m");
  el.setAttr("v", "it's");
  el.addText("1 < 2");
  CHECK(toString(el) == "<m v='it&apos;s'>1 &lt; 2</m>");
}
