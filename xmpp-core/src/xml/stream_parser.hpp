#pragma once
// Incremental parser for one XML stream (RFC 6120 §4, §11): Expat with namespaces, restricted XML
// enforced (no DOCTYPE, entities, comments or processing instructions), and bounds on stanza
// bytes, nesting depth, attribute count and name length so that no peer can make us buffer or
// recurse without limit. Expat 2.5 (Debian 12) lacks the newer amplification defences, so these
// bounds are the primary defence, not a second line.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "parley/xml/element.hpp"

namespace parley::xml {

inline constexpr std::string_view kStreamNs = "http://etherx.jabber.org/streams";

struct ParserLimits {
  size_t max_stanza_bytes = 8192;  // one top-level element, and separately the stream header
  unsigned max_depth = 32;         // element nesting inside one stanza (the stanza is depth 1)
  unsigned max_attributes = 64;    // per element, namespace declarations included
  size_t max_name_bytes = 256;     // local name of an element or attribute
  size_t max_namespace_bytes = 1024;
};

struct StreamEvent {
  enum class Kind {
    Open,    // the stream header; `element` holds its name, namespace and attributes (no children)
    Stanza,  // one complete top-level element (a stanza or a negotiation element)
    Close,   // </stream:stream>
  };
  Kind kind;
  Element element;
};

// The RFC 6120 §4.9.3 stream error condition (element name, e.g. "restricted-xml",
// "not-well-formed", "policy-violation", "unsupported-encoding") and a human-readable text.
struct ParseError {
  std::string condition;
  std::string text;
};

class StreamParser {
 public:
  explicit StreamParser(ParserLimits limits = {});
  ~StreamParser();
  StreamParser(const StreamParser&) = delete;
  StreamParser& operator=(const StreamParser&) = delete;

  // Parses `bytes`, appending every event completed by them to `out`. Returns false once the
  // stream is broken; error() then says why. Events completed before the error stay in `out`
  // (they were accepted and must be processed). After false, further calls return false.
  bool feed(std::string_view bytes, std::vector<StreamEvent>& out);

  // Starts a fresh stream (RFC 6120 §4.3.3 restart after STARTTLS or SASL success). Bytes fed
  // before the restart are forgotten, and so is a previous failure.
  void restart();

  // The default namespace declared on the stream header (RFC 6120 §4.8.2 content namespace, e.g.
  // "jabber:client"), empty before the header or when it declares none. Namespace declarations
  // are not attributes of the Open event's element, so this is where the session finds it.
  const std::string& contentNamespace() const;

  void setLimits(const ParserLimits& limits);

  // Elements inside the stream (not the header) in namespace `from` are built as if they were in
  // `to`. An XEP-0114 component stream (jabber:component:accept) then yields the same
  // jabber:client stanzas as a client stream, so nothing past the session knows the difference.
  void mapNamespace(std::string from, std::string to);

  // Between stanzas, frees the Expat parser (about 10 KiB) until more bytes arrive; the next
  // feed() resumes transparently. Returns false (and keeps the parser) while a stanza or the
  // stream header is partly received, before the header, after the close, or after an error.
  bool hibernate();
  const ParserLimits& limits() const { return limits_; }
  const ParseError& error() const { return error_; }
  bool failed() const { return failed_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  ParserLimits limits_;
  ParseError error_;
  bool failed_ = false;
  std::string mapped_from_, mapped_to_;
};

}  // namespace parley::xml
