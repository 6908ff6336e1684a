// Parse → serialize → parse must give an equal tree: the router forwards what it parsed, so any
// difference here is a difference between what we checked and what the recipient sees.

#include <catch2/catch.hpp>

#include "parley/xml/serializer.hpp"
#include "parse_support.hpp"

using namespace parley::xml;
using namespace parley::xml::test;

namespace {

// Serializes every stanza of `doc` and parses the result inside a fresh header.
void requireRoundTrip(const std::string& stanzas) {
  const ParseRun first = parseWhole(std::string(kClientHeader) + stanzas);
  INFO(describe(first));
  REQUIRE(first.ok);
  REQUIRE(first.events.size() >= 2);

  for (std::string_view context : {std::string_view("jabber:client"), std::string_view()}) {
    std::string again(kClientHeader);
    for (size_t i = 1; i < first.events.size(); ++i) {
      // Without a context every element declares its namespace, which must also parse back.
      serialize(first.events[i].element, again, context);
    }
    INFO("re-serialized: " << again);
    const ParseRun second = parseWhole(again);
    INFO(describe(second));
    REQUIRE(second.ok);
    REQUIRE(second.events.size() == first.events.size());
    for (size_t i = 1; i < first.events.size(); ++i) {
      CHECK(second.events[i].element == first.events[i].element);
    }
  }
}

}  // namespace

TEST_CASE("Tricky stanzas round-trip", "[round_trip]") {
  auto stanzas = GENERATE(values<std::string>({
      "<message to='a@b' type='chat'><body>plain</body></message>",
      // nested default namespace changes and undeclaration
      "<iq type='result'><query xmlns='jabber:iq:roster'><item jid='x@y'><group>G</group>"
      "</item><x xmlns='urn:x'><y xmlns=''><z xmlns='jabber:client'/></y></x></query></iq>",
      // prefixed elements and attributes, several prefixes for one namespace
      "<foo:message xmlns:foo='jabber:client' xmlns:p='urn:p' xmlns:q='urn:q' p:a='1' q:b='2'>"
      "<p:x q:c='3' p:d='4'/><foo:body>b</foo:body></foo:message>",
      // xml:lang at several levels and an element in the xml namespace
      "<message xml:lang='en'><body xml:lang='de-CH'>x</body><xml:odd/></message>",
      // special characters in text and attributes, including what normalisation would eat
      "<message a='&apos;&quot;&lt;&gt;&amp;' b='tab&#9;lf&#10;cr&#13;' c=\"'\">"
      "<body>&lt;b&gt; &amp;amp; ]]&gt; ]] &#13; \" '</body></message>",
      // literal CR, CRLF and tabs in text and attributes (normalised once on the first parse)
      "<message a='x\ty\r\nz'>\r\n\tline\rtwo\r\n</message>",
      // unicode, including characters outside the BMP written both ways
      "<message><body>caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80 &#x1F600; "
      "&#x10FFFF; \xEF\xBF\xBD</body></message>",
      // CDATA sections merge into text and come back escaped
      "<message><body><![CDATA[<html> & ]]]]><![CDATA[>]]> tail<![CDATA[]]></body></message>",
      // mixed content
      "<message><html xmlns='http://jabber.org/protocol/xhtml-im'><body "
      "xmlns='http://www.w3.org/1999/xhtml'>a <b>bold</b> and <i>it</i>!</body></html></message>",
      // empty elements, empty attribute values, whitespace-only text
      "<presence><show/><status></status><priority a=''>  </priority></presence>",
      // the stream namespace inside a stanza
      "<stream:error><not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
      "</stream:error>",
  }));
  INFO(stanzas);
  requireRoundTrip(stanzas);
}

TEST_CASE("Text outside the BMP survives exactly", "[round_trip]") {
  Element el = parseOneStanza(
      "<message><body>\xF0\x9F\x98\x80&#x1F601;&#128514;\xF0\x90\x8D\x88</body></message>");
  const std::string expected = "\xF0\x9F\x98\x80\xF0\x9F\x98\x81\xF0\x9F\x98\x82\xF0\x90\x8D\x88";
  CHECK(el.childText("body", "jabber:client") == expected);
  Element again = parseOneStanza(toString(el, "jabber:client"));
  CHECK(again.childText("body", "jabber:client") == expected);
  CHECK(again == el);
}

TEST_CASE("Built elements with every special character round-trip", "[round_trip]") {
  Element el("jabber:client", "message");
  std::string all;
  for (int c = 0x09; c < 0x80; ++c) {
    if (c == 0x09 || c == 0x0A || c == 0x0D || c >= 0x20) all.push_back(static_cast<char>(c));
  }
  el.setAttr("v", all).setAttr("w", all, "urn:w").setAttr("lang", all, kXmlNs);
  el.addChild("urn:c", "c").addText(all);
  el.addText(all);
  CHECK(parseOneStanza(toString(el, "jabber:client")) == el);
  CHECK(parseOneStanza(toString(el)) == el);
}
