#pragma once
// Stanzas for module unit tests, written as XML the way clients send them and handed over the
// way the core hands them to a hook: parsed by the core's stream parser inside a jabber:client
// stream, 'from' stamped and 'to' parsed.

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "parley/stanza.hpp"
#include "xml/stream_parser.hpp"

namespace parley::testing {

// One stanza. Larger than the server's default stanza limit, so that tests of big payloads
// (OMEMO bundles) are about the module, not the parser.
inline xml::Element parseStanza(std::string_view stanza) {
  std::string doc =
      "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
      "to='example.org' version='1.0'>";
  doc += stanza;
  xml::StreamParser parser(xml::ParserLimits{65536, 32, 64, 256, 1024});
  std::vector<xml::StreamEvent> events;
  const bool ok = parser.feed(doc, events);
  INFO(stanza << "\n" << parser.error().condition << ": " << parser.error().text);
  REQUIRE(ok);
  REQUIRE(events.size() == 2);
  return std::move(events[1].element);
}

inline Jid jidOf(std::string_view text) {
  auto parsed = Jid::parse(text);
  INFO(text);
  REQUIRE(parsed);
  return *parsed;
}

// 'from' and 'to' must be valid JIDs when present; absent they stay empty.
inline Stanza stanzaOf(std::string_view text, Origin origin = Origin::Client) {
  Stanza s;
  s.element = parseStanza(text);
  s.origin = origin;
  if (const std::string* from = s.element.attr("from")) s.from = jidOf(*from);
  if (const std::string* to = s.element.attr("to")) s.to = jidOf(*to);
  return s;
}

}  // namespace parley::testing
