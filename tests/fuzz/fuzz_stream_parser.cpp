// libFuzzer target for the XML stream parser. For any input: the parser must not crash, the
// verdict must not depend on where the input is split, and every stanza it accepts must
// serialize to XML that parses back to an equal tree.
//
// Not wired into CMake (needs clang). Build by hand from the repository root:
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Ixmpp-core/src \
//     tests/fuzz/fuzz_stream_parser.cpp xmpp-core/src/xml/*.cpp -lexpat -o fuzz_stream_parser

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "parley/xml/serializer.hpp"
#include "xml/stream_parser.hpp"

using namespace parley::xml;

namespace {

constexpr std::string_view kHeader =
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";

struct Run {
  std::vector<StreamEvent> events;
  bool ok = true;
  ParseError error;
};

Run parse(std::string_view doc, size_t cut, const ParserLimits& limits) {
  StreamParser parser(limits);
  Run run;
  run.ok = parser.feed(doc.substr(0, cut), run.events);
  run.ok = parser.feed(doc.substr(cut), run.events) && run.ok;
  run.error = parser.error();
  return run;
}

bool same(const Run& a, const Run& b) {
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // The first byte picks a split point and whether the stream header is supplied, so the corpus
  // need not repeat it.
  const uint8_t control = data[0];
  std::string doc;
  if (control & 1) doc = kHeader;
  doc.append(reinterpret_cast<const char*>(data + 1), size - 1);
  ParserLimits limits;
  limits.max_stanza_bytes = 512;
  limits.max_depth = 8;

  const Run whole = parse(doc, doc.size(), limits);
  const Run split = parse(doc, doc.size() * (control >> 1) / 127, limits);
  if (!same(whole, split)) std::abort();

  for (const StreamEvent& event : whole.events) {
    if (event.kind != StreamEvent::Kind::Stanza) continue;
    std::string again(kHeader);
    serialize(event.element, again, "jabber:client");
    ParserLimits roomy;
    roomy.max_stanza_bytes = 1 << 20;  // escaping may grow the stanza
    StreamParser reparser(roomy);
    std::vector<StreamEvent> out;
    if (!reparser.feed(again, out) || out.size() != 2 || !(out[1].element == event.element)) {
      std::abort();
    }
  }
  return 0;
}
