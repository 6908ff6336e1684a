// StreamParser::hibernate(): an idle stream gives its Expat parser back and resumes unchanged.

#include <catch2/catch.hpp>

#include "parley/xml/serializer.hpp"
#include "xml/stream_parser.hpp"

using namespace parley::xml;

namespace {

std::vector<std::string> describe(const std::vector<StreamEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) {
    switch (e.kind) {
      case StreamEvent::Kind::Open:
        out.push_back("open " + e.element.name());
        break;
      case StreamEvent::Kind::Stanza:
        out.push_back("stanza " + toString(e.element, "jabber:client"));
        break;
      case StreamEvent::Kind::Close:
        out.push_back("close");
        break;
    }
  }
  return out;
}

const char* kHeader =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:x='urn:example:x' "
    "xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";

}  // namespace

TEST_CASE("a hibernated parser resumes with the header's namespaces and root name", "[hibernate]") {
  const std::vector<std::string> pieces = {
      kHeader,
      "<message to='a@b'><body>one</body></message>",
      "<x:message to='a@b'><body>prefixed from the header</body></x:message>",
      "  ",
      "<iq type='get' id='1'><query xmlns='jabber:iq:roster'/></iq>",
      "</stream:stream>",
  };
  StreamParser plain, sleepy;
  std::vector<StreamEvent> a, b;
  for (const auto& piece : pieces) {
    REQUIRE(plain.feed(piece, a));
    REQUIRE(sleepy.feed(piece, b));
    sleepy.hibernate();
  }
  REQUIRE(describe(b) == describe(a));
  REQUIRE(describe(b).size() == 5);  // open, 3 stanzas, close
  REQUIRE(sleepy.contentNamespace() == "jabber:client");
}

TEST_CASE("hibernate refuses while a stanza is partly received", "[hibernate]") {
  StreamParser p;
  std::vector<StreamEvent> out;
  REQUIRE_FALSE(p.hibernate());  // no header yet
  REQUIRE(p.feed(kHeader, out));
  REQUIRE(p.hibernate());
  REQUIRE(p.feed("<message to='a@b'><bo", out));
  REQUIRE_FALSE(p.hibernate());
  REQUIRE(p.feed("dy>split</body></message>", out));
  REQUIRE(out.size() == 2);
  REQUIRE(out[1].element.childText("body", "jabber:client") == "split");
}

TEST_CASE("limits and errors still apply after waking", "[hibernate]") {
  ParserLimits limits;
  limits.max_stanza_bytes = 4096;
  StreamParser p(limits);
  std::vector<StreamEvent> out;
  REQUIRE(p.feed(kHeader, out));
  REQUIRE(p.hibernate());
  REQUIRE_FALSE(p.feed("<message><!-- no --></message>", out));
  REQUIRE(p.error().condition == "restricted-xml");

  StreamParser q(limits);
  REQUIRE(q.feed(kHeader, out));
  REQUIRE(q.hibernate());
  REQUIRE_FALSE(q.feed("<message><body>" + std::string(5000, 'a') + "</body></message>", out));
  REQUIRE(q.error().condition == "policy-violation");
}

TEST_CASE("a restart forgets the recorded header", "[hibernate]") {
  StreamParser p;
  std::vector<StreamEvent> out;
  REQUIRE(p.feed(kHeader, out));
  p.restart();
  REQUIRE_FALSE(p.hibernate());
  REQUIRE(
      p.feed("<stream:stream xmlns='jabber:client' "
             "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>",
             out));
  REQUIRE(p.hibernate());
  REQUIRE(p.feed("<presence/>", out));
  REQUIRE(out.back().kind == StreamEvent::Kind::Stanza);
}
