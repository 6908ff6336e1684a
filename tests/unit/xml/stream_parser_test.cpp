// StreamParser: events, restricted XML (RFC 6120 §11.1), well-formedness, encoding and the bounds
// that keep a peer from making us buffer or recurse without limit. Every verdict must not depend
// on how the bytes were split into reads.

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "parse_support.hpp"
#include "xml/stream_parser.hpp"

using namespace parley::xml;
using namespace parley::xml::test;

namespace {

std::string stream(std::string_view body) { return std::string(kClientHeader) + std::string(body); }

ParseRun requireFails(std::string_view doc, std::string_view condition,
                      const ParserLimits& limits = {}) {
  ParseRun run = parseWhole(doc, limits);
  INFO(describe(run));
  REQUIRE_FALSE(run.ok);
  REQUIRE(run.error.condition == condition);
  REQUIRE_FALSE(run.error.text.empty());
  return run;
}

// Whole, byte by byte and at every single split point, the run must be the same.
void requireSplitIndependent(std::string_view doc, const ParserLimits& limits = {}) {
  const ParseRun whole = parseWhole(doc, limits);
  INFO("whole: " << describe(whole));
  const ParseRun bytewise = parseBytewise(doc, limits);
  INFO("bytewise: " << describe(bytewise));
  REQUIRE(sameRun(whole, bytewise));
  for (size_t cut = 0; cut <= doc.size(); ++cut) {
    const ParseRun split = parseSplit(doc, {cut}, limits);
    if (!sameRun(whole, split)) {
      FAIL("split at byte " << cut << " differs:\n" << describe(split));
    }
  }
}

}  // namespace

TEST_CASE("A client stream yields Open, each stanza, then Close", "[stream_parser]") {
  ParseRun run = parseWhole(
      "<?xml version='1.0' encoding='UTF-8'?>" +
      stream("<message to='juliet@example.com' type='chat'><body>Hi &amp; bye</body></message>\n"
             " <presence/></stream:stream>"));
  INFO(describe(run));
  REQUIRE(run.ok);
  REQUIRE(run.events.size() == 4);

  const StreamEvent& open = run.events[0];
  REQUIRE(open.kind == StreamEvent::Kind::Open);
  CHECK(open.element.is("stream", kStreamNs));
  CHECK(open.element.attrOr("to") == "example.com");
  CHECK(open.element.attrOr("version") == "1.0");
  CHECK(open.element.attrs().size() == 2);  // namespace declarations are not attributes
  CHECK(open.element.children().empty());

  const Element& message = run.events[1].element;
  REQUIRE(run.events[1].kind == StreamEvent::Kind::Stanza);
  CHECK(message.is("message", "jabber:client"));
  CHECK(message.attrOr("type") == "chat");
  CHECK(message.childText("body", "jabber:client") == "Hi & bye");

  CHECK(run.events[2].element.is("presence", "jabber:client"));
  CHECK(run.events[3].kind == StreamEvent::Kind::Close);
}

TEST_CASE("The content namespace of the stream header is reported", "[stream_parser]") {
  StreamParser parser;
  std::vector<StreamEvent> out;
  CHECK(parser.contentNamespace().empty());
  REQUIRE(parser.feed(kClientHeader, out));
  CHECK(parser.contentNamespace() == "jabber:client");
  parser.restart();
  CHECK(parser.contentNamespace().empty());
}

TEST_CASE("Namespaces are resolved, declarations dropped", "[stream_parser]") {
  SECTION("a prefixed stanza resolves to its namespace") {
    Element el = parseOneStanza(
        "<foo:message xmlns:foo='jabber:client' to='a@b'><foo:body>x</foo:body></foo:message>");
    CHECK(el.is("message", "jabber:client"));
    CHECK(el.attrs().size() == 1);
    CHECK(el.child("body", "jabber:client") != nullptr);
  }
  SECTION("xml:lang is an attribute in the xml namespace") {
    Element el = parseOneStanza("<message xml:lang='de'><body xml:lang='en'>x</body></message>");
    CHECK(el.lang() == "de");
    REQUIRE(el.attrs().size() == 1);
    CHECK(el.attrs()[0].ns == kXmlNs);
    CHECK(el.attrs()[0].name == "lang");
    CHECK(el.child("body", "jabber:client")->lang() == "en");
  }
  SECTION("prefixed attributes carry their namespace URI, unprefixed ones none") {
    Element el = parseOneStanza("<iq xmlns:p='urn:p' p:a='1' a='2' type='get'/>");
    REQUIRE(el.attr("a", "urn:p") != nullptr);
    CHECK(*el.attr("a", "urn:p") == "1");
    CHECK(el.attrOr("a") == "2");
    CHECK(el.attrs().size() == 3);
  }
  SECTION("default namespace changes and undeclaration") {
    Element el = parseOneStanza(
        "<iq type='get'><query xmlns='jabber:iq:roster'><item xmlns=''/><x/></query></iq>");
    const Element* query = el.child("query", "jabber:iq:roster");
    REQUIRE(query != nullptr);
    CHECK(query->child("item", "") != nullptr);
    CHECK(query->child("x", "jabber:iq:roster") != nullptr);
  }
  SECTION("text is merged across entities, character references and CDATA") {
    Element el = parseOneStanza("<message><body>a&lt;b<![CDATA[<c>]]>&#x41;\r\nd</body></message>");
    const Element* body = el.child("body", "jabber:client");
    REQUIRE(body != nullptr);
    REQUIRE(body->children().size() == 1);
    CHECK(body->text() == "a<b<c>A\nd");
  }
}

TEST_CASE("Restricted XML is refused", "[stream_parser][restricted]") {
  const std::string header(kClientHeader);
  auto [name, doc] = GENERATE_COPY(table<std::string, std::string>({
      {"DOCTYPE", "<?xml version='1.0'?><!DOCTYPE stream:stream>" + header},
      {"internal subset", "<!DOCTYPE s [<!ELEMENT s ANY>]><s/>"},
      {"billion laughs",
       "<!DOCTYPE lolz [<!ENTITY lol 'lol'><!ENTITY lol2 '&lol;&lol;&lol;&lol;&lol;'>"
       "<!ENTITY lol3 '&lol2;&lol2;&lol2;&lol2;&lol2;'>]><lolz>&lol3;</lolz>"},
      {"external entity", "<!DOCTYPE s [<!ENTITY xxe SYSTEM 'file:///etc/passwd'>]><s>&xxe;</s>"},
      {"comment in the prolog", "<!-- hi -->" + header},
      {"comment in a stanza", header + "<message><!-- hi --></message>"},
      {"comment between stanzas", header + "<presence/><!---->"},
      {"processing instruction in a stanza", header + "<message><?php echo 1; ?></message>"},
      {"processing instruction in the prolog", "<?xml version='1.0'?><?style x?>" + header},
      {"undefined entity in text", header + "<message><body>&foo;</body></message>"},
      {"undefined entity in an attribute", header + "<message to='&foo;'/>"},
  }));
  INFO(name);
  ParseRun run = requireFails(doc, "restricted-xml");
  // Nothing after the offending construct is looked at.
  for (const StreamEvent& e : run.events) CHECK(e.element.children().empty());
  requireSplitIndependent(doc);
}

TEST_CASE("The XML declaration and the predefined entities are allowed", "[stream_parser]") {
  ParseRun run = parseWhole("<?xml version='1.0' encoding='utf-8'?>" +
                            stream("<message a='&quot;&apos;'>&lt;&gt;&amp;&#233;</message>"));
  INFO(describe(run));
  REQUIRE(run.ok);
  REQUIRE(run.events.size() == 2);
  CHECK(run.events[1].element.attrOr("a") == "\"'");
  CHECK(run.events[1].element.text() == "<>&\xC3\xA9");
}

TEST_CASE("An encoding other than UTF-8 is unsupported", "[stream_parser]") {
  std::string doc = "<?xml version='1.0' encoding='ISO-8859-1'?>" + stream("");
  requireFails(doc, "unsupported-encoding");
  requireFails("<?xml version='1.0' encoding='UTF-16'?>" + stream(""), "unsupported-encoding");
  requireSplitIndependent(doc);

  // Expat would switch to UTF-16 on these first bytes if it saw two of them at once.
  auto start =
      GENERATE(as<std::string>{}, std::string("\xD8\x00\xD8\x00", 4), std::string("<\0s\0", 4),
               std::string("\0<\0s", 4), "\xFE\xFF\0<", "\xFF\xFE<\0");
  requireFails(start + stream(""), "unsupported-encoding");
  requireSplitIndependent(start + stream(""));
}

TEST_CASE("Malformed XML is not-well-formed", "[stream_parser][malformed]") {
  auto [name, body] = GENERATE(table<std::string, std::string>({
      {"mismatched tags", "<message><body></message>"},
      {"overlong NUL in text", "<message>\xC0\x80</message>"},
      {"overlong slash in text", "<message>\xC0\xAF</message>"},
      {"lone continuation byte", "<message>\x80</message>"},
      {"truncated 2-byte sequence in a tag name", "<mess\xC3sage/>"},
      {"truncated 3-byte sequence in a tag name", "<mess\xE2\x82sage/>"},
      {"surrogate in a tag name", "<a\xED\xA0\x80/>"},
      {"invalid byte in an attribute name", "<message a\xFF='1'/>"},
      {"malformed 4-byte sequence in an attribute value", "<message a='\xF0\x28\x8C\x28'/>"},
      {"code point above U+10FFFF", "<message>\xF4\x90\x80\x80</message>"},
      {"control character", "<message>\x01</message>"},
      {"invalid character reference", "<message>&#1;</message>"},
      {"unbound element prefix", "<foo:message/>"},
      {"unbound attribute prefix", "<message foo:a='1'/>"},
      {"duplicate attribute", "<message a='1' a='2'/>"},
      {"duplicate attribute after namespace resolution",
       "<message xmlns:p='u' xmlns:q='u' p:a='1' q:a='2'/>"},
      {"second root after close", "</stream:stream><stream:stream>"},
      {"text after close", "</stream:stream>junk"},
      {"a comment after close", "</stream:stream>\n<!---->"},
      {"an invalid name after close", "</stream:stream> oess\x0e"},
      {"misplaced XML declaration", "<?xml version='1.0'?>"},
      {"lt in attribute value", "<message a='<'/>"},
  }));
  INFO(name);
  std::string doc = stream("<presence/>" + body);
  ParseRun run = requireFails(doc, "not-well-formed");
  if (name.find("close") == std::string::npos) {
    CHECK(run.error.text.find("line 1, column") != std::string::npos);
  }
  REQUIRE(run.events.size() >= 2);
  CHECK(run.events[1].element.is("presence", "jabber:client"));
  requireSplitIndependent(doc);
}

TEST_CASE("Events completed before an error are kept; the parser stays failed", "[stream_parser]") {
  StreamParser parser;
  std::vector<StreamEvent> out;
  REQUIRE_FALSE(parser.feed(stream("<presence/><message>hi</message><iq></message>"), out));
  REQUIRE(out.size() == 3);
  CHECK(out[1].element.is("presence", "jabber:client"));
  CHECK(out[2].element.text() == "hi");
  CHECK(parser.failed());
  CHECK(parser.error().condition == "not-well-formed");
  CHECK(parser.error().text.find("mismatched tag") != std::string::npos);

  const ParseError first = parser.error();
  CHECK_FALSE(parser.feed("<presence/>", out));
  CHECK(out.size() == 3);
  CHECK(parser.error().text == first.text);
}

TEST_CASE("Restart begins a fresh stream and forgets buffered bytes", "[stream_parser]") {
  StreamParser parser;
  std::vector<StreamEvent> out;
  REQUIRE(parser.feed(stream("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/><partial a='"), out));
  REQUIRE(out.size() == 2);
  parser.restart();
  out.clear();
  // A second header (and XML declaration) is only legal on a fresh stream.
  REQUIRE(parser.feed("<?xml version='1.0'?>" + stream("<presence/>"), out));
  REQUIRE(out.size() == 2);
  CHECK(out[0].kind == StreamEvent::Kind::Open);
  CHECK(out[1].element.is("presence", "jabber:client"));

  SECTION("restart also clears a failure") {
    REQUIRE_FALSE(parser.feed("<!-- -->", out));
    parser.restart();
    CHECK_FALSE(parser.failed());
    CHECK(parser.feed(kClientHeader, out));
  }
}

TEST_CASE("Events and errors do not depend on how the input is split", "[stream_parser][split]") {
  const std::string header(kClientHeader);
  ParserLimits small;
  small.max_stanza_bytes = 120;
  auto [name, doc, limits] = GENERATE_COPY(table<std::string, std::string, ParserLimits>({
      {"a full session",
       "\xEF\xBB\xBF<?xml version='1.0' encoding='UTF-8'?>\n" + header +
           "\r\n<message to='j\xC3\xBCliet@example.com' xml:lang='fr'>"
           "<body>caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80 &#x1F600; &lt;&amp;&gt;"
           "<![CDATA[ <not> &amp; ]]></body>\r\n<x xmlns='urn:x' xmlns:p='urn:p' p:a='1\r\n2'>"
           "<y xmlns=''>\r</y></x></message>  \n\t<iq type='get' id='1'><query "
           "xmlns='jabber:iq:roster'/></iq><p:presence xmlns:p='jabber:client'/></stream:stream>"
           " \r\n",
       ParserLimits{}},
      {"malformed UTF-8 after stanzas",
       header + "<message><body>\xC3\xA9</body></message><message>\xE2\x82\xC3</message>",
       ParserLimits{}},
      {"CVE-2022-25235 style name", header + "<presence/><a\xC3\x3E>", ParserLimits{}},
      {"comment inside a stanza", header + "<presence/><message><!--x--></message>",
       ParserLimits{}},
      {"stanza over the limit",
       header + "<presence/>  <message><body>" + std::string(80, 'a') + "</body></message>", small},
      {"unclosed attribute over the limit",
       header + "<presence/><message to='" + std::string(300, 'b'), small},
      {"limit hit while a malformation follows",
       header + "<message to='" + std::string(110, 'c') + "<'/>", small},
  }));
  INFO(name);
  requireSplitIndependent(doc, limits);
}

TEST_CASE("Three-way splits of a multi-byte document agree", "[stream_parser][split]") {
  const std::string doc = stream("<m a='\xE4\xB8\xAD'>\xF0\x9F\x98\x80<![CDATA[]]]]></m><n/>");
  const ParseRun whole = parseWhole(doc);
  REQUIRE(whole.ok);
  REQUIRE(whole.events.size() == 3);
  const size_t start = kClientHeader.size() - 2;
  for (size_t i = start; i <= doc.size(); ++i) {
    for (size_t j = i; j <= doc.size(); ++j) {
      if (!sameRun(whole, parseSplit(doc, {i, j}))) FAIL("split at " << i << ", " << j);
    }
  }
}

namespace {

// A stanza of exactly `size` bytes.
std::string stanzaOfSize(size_t size) {
  const std::string open = "<message><body>", close = "</body></message>";
  return open + std::string(size - open.size() - close.size(), 'x') + close;
}

}  // namespace

TEST_CASE("Stanza size limit", "[stream_parser][limits]") {
  ParserLimits limits;
  limits.max_stanza_bytes = 200;

  SECTION("exactly at the limit passes, even after whitespace keepalives") {
    std::string doc = stream(" \n \n" + stanzaOfSize(200) + "\n\n" + stanzaOfSize(200));
    ParseRun run = parseWhole(doc, limits);
    INFO(describe(run));
    REQUIRE(run.ok);
    CHECK(run.events.size() == 3);
    requireSplitIndependent(doc, limits);
  }
  SECTION("one byte more fails") {
    std::string doc = stream(stanzaOfSize(200) + stanzaOfSize(201));
    ParseRun run = requireFails(doc, "policy-violation", limits);
    CHECK(run.error.text == "stanza exceeds 200 bytes");
    CHECK(run.events.size() == 2);
    requireSplitIndependent(doc, limits);
  }
  SECTION("an empty-element stanza one byte over fails") {
    std::string doc = stream("<presence a='" + std::string(201 - 16, 'v') + "'/>");
    REQUIRE(doc.size() - kClientHeader.size() == 201);
    requireFails(doc, "policy-violation", limits);
  }
  SECTION("the stream header is bounded by the same limit") {
    limits.max_stanza_bytes = kClientHeader.size();
    ParseRun run = parseWhole(kClientHeader, limits);
    CHECK(run.ok);
    limits.max_stanza_bytes = kClientHeader.size() - 1;
    run = requireFails(kClientHeader, "policy-violation", limits);
    CHECK(run.error.text ==
          "stream header exceeds " + std::to_string(limits.max_stanza_bytes) + " bytes");
    CHECK(run.events.empty());
  }
}

TEST_CASE("A giant unclosed attribute is stopped at the limit, not buffered",
          "[stream_parser][limits]") {
  StreamParser parser;  // default 8 KiB
  std::vector<StreamEvent> out;
  REQUIRE(parser.feed(stream("<presence/>"), out));

  SECTION("fed in reads of 1 KiB") {
    REQUIRE(parser.feed("<message to='", out));
    const std::string chunk(1024, 'a');
    size_t fed = 13;
    while (parser.feed(chunk, out)) {
      fed += chunk.size();
      REQUIRE(fed < 1024 * 1024);
    }
    CHECK(fed <= 8192);  // the read that crossed 8192 bytes failed
    CHECK(fed > 8192 - 1024);
  }
  SECTION("fed as a single 1 MiB read") {
    CHECK_FALSE(parser.feed("<message to='" + std::string(1024 * 1024, 'a'), out));
  }
  SECTION("inside a stanza's text") {
    CHECK_FALSE(parser.feed("<message><body>" + std::string(1024 * 1024, 'a'), out));
  }
  CHECK(parser.error().condition == "policy-violation");
  CHECK(parser.error().text == "stanza exceeds 8192 bytes");
  CHECK(out.size() == 2);
}

TEST_CASE("An unclosed giant stream header is stopped", "[stream_parser][limits]") {
  requireFails("<stream:stream xmlns:stream='http://etherx.jabber.org/streams' to='" +
                   std::string(100000, 'a'),
               "policy-violation");
}

TEST_CASE("Raised limits apply to the following bytes", "[stream_parser][limits]") {
  const std::string big = stanzaOfSize(20000);
  StreamParser parser;
  std::vector<StreamEvent> out;
  REQUIRE(parser.feed(stream("<auth/>"), out));
  ParserLimits raised;
  raised.max_stanza_bytes = 256 * 1024;
  parser.setLimits(raised);
  CHECK(parser.feed(big, out));
  CHECK(out.size() == 3);

  StreamParser unraised;
  CHECK_FALSE(unraised.feed(stream(big), out));
  CHECK(unraised.error().text == "stanza exceeds 8192 bytes");
}

TEST_CASE("Nesting depth limit", "[stream_parser][limits]") {
  ParserLimits limits;
  limits.max_depth = 3;
  ParseRun ok = parseWhole(stream("<a><b><c/></b></a>"), limits);
  CHECK(ok.ok);
  ParseRun deep = requireFails(stream("<a><b><c><d/></c></b></a>"), "policy-violation", limits);
  CHECK(deep.error.text == "stanza nesting exceeds 3 levels");
  CHECK(deep.events.size() == 1);

  // The default limit holds against a deep, cheap document.
  std::string many;
  for (int i = 0; i < 1000; ++i) many += "<a>";
  requireFails(stream(many), "policy-violation");
}

TEST_CASE("Attribute count limit includes namespace declarations", "[stream_parser][limits]") {
  ParserLimits limits;
  limits.max_attributes = 4;
  CHECK(parseWhole(stream("<m a='1' b='2' c='3' d='4'/>"), limits).ok);
  ParseRun run =
      requireFails(stream("<m a='1' b='2' c='3' d='4' e='5'/>"), "policy-violation", limits);
  CHECK(run.error.text == "element has more than 4 attributes");
  CHECK(parseWhole(stream("<m xmlns='urn:m' xmlns:p='urn:p' a='1' p:b='2'/>"), limits).ok);
  requireFails(stream("<m xmlns='urn:m' xmlns:p='urn:p' xmlns:q='urn:q' a='1' p:b='2'/>"),
               "policy-violation", limits);
  // Declarations counted for one element do not leak into the next.
  CHECK(parseWhole(stream("<m xmlns:p='urn:p' xmlns:q='urn:q'><n a='1' b='2' c='3' d='4'/></m>"),
                   limits)
            .ok);
}

TEST_CASE("Name and namespace length limits", "[stream_parser][limits]") {
  ParserLimits limits;
  limits.max_name_bytes = 10;
  limits.max_namespace_bytes = 40;
  CHECK(parseWhole(stream("<abcdefghij abcdefghij='1'/>"), limits).ok);
  ParseRun run = requireFails(stream("<abcdefghijk/>"), "policy-violation", limits);
  CHECK(run.error.text == "element name exceeds 10 bytes");
  run = requireFails(stream("<m abcdefghijk='1'/>"), "policy-violation", limits);
  CHECK(run.error.text == "attribute name exceeds 10 bytes");
  // The prefix is not part of the local name.
  CHECK(parseWhole(stream("<longprefix:abcdefghij xmlns:longprefix='urn:p'/>"), limits).ok);

  const std::string uri40 = "urn:" + std::string(36, 'u');
  CHECK(parseWhole(stream("<m xmlns='" + uri40 + "'/>"), limits).ok);
  run = requireFails(stream("<m xmlns:p='" + uri40 + "u'/>"), "policy-violation", limits);
  CHECK(run.error.text == "namespace URI exceeds 40 bytes");
}

TEST_CASE("Events are delivered as soon as their last byte arrives", "[stream_parser]") {
  const std::string doc = stream("<presence/>");
  // Any split of the header: the Open event must come with the final '>' and not wait for more
  // input (Debian's Expat would otherwise defer reparsing a partial token).
  for (size_t cut = 1; cut < kClientHeader.size(); ++cut) {
    StreamParser parser;
    std::vector<StreamEvent> out;
    REQUIRE(parser.feed(std::string_view(doc).substr(0, cut), out));
    REQUIRE(out.empty());
    REQUIRE(parser.feed(std::string_view(doc).substr(cut, kClientHeader.size() - cut), out));
    REQUIRE(out.size() == 1);
  }

  SECTION("a long tag trickled a byte at a time completes on its last byte") {
    StreamParser parser;
    std::vector<StreamEvent> out;
    REQUIRE(parser.feed(kClientHeader, out));
    const std::string tag = "<message to='" + std::string(4000, 'a') + "'";
    for (char c : tag) REQUIRE(parser.feed(std::string_view(&c, 1), out));
    CHECK(out.size() == 1);
    REQUIRE(parser.feed("/", out));
    CHECK(out.size() == 1);
    REQUIRE(parser.feed(">", out));
    REQUIRE(out.size() == 2);
    CHECK(out[1].element.attrOr("to").size() == 4000);
  }
}

TEST_CASE("Trickling a large start tag costs linear time", "[stream_parser][limits]") {
  ParserLimits limits;
  limits.max_stanza_bytes = 256 * 1024;
  StreamParser parser(limits);
  std::vector<StreamEvent> out;
  REQUIRE(parser.feed(stream("<message to='"), out));
  const auto start = std::chrono::steady_clock::now();
  // Rescanning the partial tag on each of these reads would scan about 20 GB.
  const char byte = 'a';
  for (size_t i = 0; i < 200 * 1024; ++i) REQUIRE(parser.feed(std::string_view(&byte, 1), out));
  REQUIRE(parser.feed("'/>", out));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(out.size() == 2);
  CHECK(elapsed < std::chrono::seconds(5));
  // Held bytes still count towards the limit.
  const std::string more(60 * 1024, 'b');
  REQUIRE(parser.feed("<message to='", out));
  for (int i = 0; i < 4; ++i) REQUIRE(parser.feed(more, out));
  CHECK_FALSE(parser.feed(more, out));
  CHECK(parser.error().text == "stanza exceeds 262144 bytes");
}

TEST_CASE("A mapped namespace reads a component stream as jabber:client", "[stream_parser]") {
  StreamParser parser;
  parser.mapNamespace("jabber:component:accept", "jabber:client");
  std::vector<StreamEvent> events;
  REQUIRE(
      parser.feed("<stream:stream xmlns='jabber:component:accept' "
                  "xmlns:stream='http://etherx.jabber.org/streams' to='echo.example.org'>"
                  "<message from='a@echo.example.org' to='b@example.org'><body>hi</body>"
                  "<x xmlns='urn:example'><y/></x></message>",
                  events));
  REQUIRE(events.size() == 2);
  // The header keeps its own namespace; the session checks it there.
  CHECK(events[0].element.ns() == kStreamNs);
  CHECK(parser.contentNamespace() == "jabber:component:accept");
  const Element& message = events[1].element;
  CHECK(message.is("message", "jabber:client"));
  CHECK(message.child("body", "jabber:client") != nullptr);
  const Element* x = message.child("x", "urn:example");
  REQUIRE(x != nullptr);
  CHECK(x->child("y", "urn:example") != nullptr);  // other namespaces are left alone
}
