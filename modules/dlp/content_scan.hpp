#pragma once
// What the dlp module inspects in a stanza, and what its detectors found there. A message's
// <body> and <subject> in every xml:lang, the text of its XHTML-IM body (a number may hide
// there alone), jabber:x:oob descriptions and URLs, and a presence's <status>. A correction
// (XEP-0308) is a message with a body, so it is inspected like any other.
#include <string>
#include <vector>

#include "dlp_settings.hpp"
#include "match.hpp"
#include "normalized_text.hpp"
#include "parley/xml/element.hpp"

namespace parley::modules::dlp {

struct TextField {
  const xml::Element* element;  // its text is inspected (fieldText)
  std::string where;            // "body", "subject", "xhtml", "oob", "status"
  bool redactable = false;      // text can be masked in place (body, subject, status)
};

std::vector<TextField> inspectedFields(const xml::Element& stanza);

// The text of a field: of every descendant, in document order. Inline markup adds nothing, so
// "4111<span>1111</span>..." reads as one number; block elements (p, div, br, li, ...) and an
// out-of-band link's url and desc end with a space.
std::string fieldText(const xml::Element& element);

struct Finding {
  Detector detector;
  Match match;  // in `normalized`
  std::string where;
  size_t field = 0;                    // index into the fields
  std::pair<size_t, size_t> original;  // the sender's bytes behind the match
};

// Runs every enabled detector over `text`, keeping matches at or above their minimum
// confidence.
std::vector<Finding> scanText(const TextNormalizer& normalizer, const Settings& settings,
                              const std::string& text);

// `text` with each span [first, second) replaced by its mask; spans sorted, overlaps dropped.
std::string redact(const std::string& text,
                   std::vector<std::pair<std::pair<size_t, size_t>, std::string>> spans);

}  // namespace parley::modules::dlp
