#pragma once
// Stanza errors (RFC 6120 §8.3): the one place that builds them, so every error carries the
// right type for its condition and a human-readable <text/>.

#include <string_view>

#include "parley/xml/element.hpp"

namespace parley::router {

// The error type RFC 6120 §8.3.3 gives each defined condition ("cancel", "modify", "auth",
// "wait").
std::string_view errorTypeFor(std::string_view condition);

// Error stanzas and iq results are never answered with an error (no loops, RFC 6120 §8.3.1).
bool mayBounce(const xml::Element& stanza);

// The error reply to `original`: same kind and id, 'from'/'to' swapped, type='error', and an
// <error/> with the condition and text. `type` overrides errorTypeFor(condition).
xml::Element makeStanzaError(const xml::Element& original, std::string_view condition,
                             std::string_view text, std::string_view type = {});

// An <error/> element alone (for handlers that build their own reply).
xml::Element makeErrorElement(std::string_view condition, std::string_view text,
                              std::string_view type = {});

}  // namespace parley::router
