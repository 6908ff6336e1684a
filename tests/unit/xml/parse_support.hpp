#pragma once
// Helpers shared by the XML tests: run a document through a StreamParser split in a given way, and
// compare whole runs (events, verdict, error) so that split-independence is one equality.

#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parley/xml/serializer.hpp"
#include "xml/stream_parser.hpp"

namespace parley::xml::test {

inline constexpr std::string_view kClientHeader =
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
    "to='example.com' version='1.0'>";

struct ParseRun {
  std::vector<StreamEvent> events;
  bool ok = true;
  ParseError error;
};

// Feeds `doc` in pieces ending at each of `cuts` (ascending offsets) and then the rest.
inline ParseRun parseSplit(std::string_view doc, const std::vector<size_t>& cuts,
                           const ParserLimits& limits = {}) {
  StreamParser parser(limits);
  ParseRun run;
  size_t pos = 0;
  for (size_t cut : cuts) {
    run.ok = parser.feed(doc.substr(pos, cut - pos), run.events) && run.ok;
    pos = cut;
  }
  run.ok = parser.feed(doc.substr(pos), run.events) && run.ok;
  run.error = parser.error();
  return run;
}

inline ParseRun parseWhole(std::string_view doc, const ParserLimits& limits = {}) {
  return parseSplit(doc, {}, limits);
}

inline ParseRun parseBytewise(std::string_view doc, const ParserLimits& limits = {}) {
  std::vector<size_t> cuts;
  for (size_t i = 1; i < doc.size(); ++i) cuts.push_back(i);
  return parseSplit(doc, cuts, limits);
}

inline const char* kindName(StreamEvent::Kind kind) {
  switch (kind) {
    case StreamEvent::Kind::Open:
      return "Open";
    case StreamEvent::Kind::Stanza:
      return "Stanza";
    case StreamEvent::Kind::Close:
      return "Close";
  }
  return "?";
}

// Readable form for failure messages.
inline std::string describe(const ParseRun& run) {
  std::ostringstream s;
  for (const StreamEvent& e : run.events) {
    s << kindName(e.kind) << ' ' << toString(e.element) << '\n';
  }
  s << (run.ok ? "ok" : "failed: " + run.error.condition + ": " + run.error.text);
  return s.str();
}

inline bool sameRun(const ParseRun& a, const ParseRun& b) {
  if (a.ok != b.ok || a.error.condition != b.error.condition || a.error.text != b.error.text ||
      a.events.size() != b.events.size()) {
    return false;
  }
  for (size_t i = 0; i < a.events.size(); ++i) {
    if (a.events[i].kind != b.events[i].kind || !(a.events[i].element == b.events[i].element)) {
      return false;
    }
  }
  return true;
}

// Element of the only stanza in `stanza` parsed inside a jabber:client stream header.
inline Element parseOneStanza(std::string_view stanza) {
  std::string doc(kClientHeader);
  doc += stanza;
  ParseRun run = parseWhole(doc);
  if (!run.ok || run.events.size() != 2 || run.events[1].kind != StreamEvent::Kind::Stanza) {
    throw std::runtime_error("expected one stanza from " + std::string(stanza) + ": " +
                             describe(run));
  }
  return std::move(run.events[1].element);
}

}  // namespace parley::xml::test
