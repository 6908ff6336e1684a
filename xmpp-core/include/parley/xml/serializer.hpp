#pragma once
// The single writer of XML: everything Parley sends goes through here. It escapes text and
// attribute values, declares namespaces with default `xmlns` (prefixes only for namespaced
// attributes; `xml:` is implicit) and produces output that parses back to an equal Element.

#include <string>
#include <string_view>

#include "parley/xml/element.hpp"

namespace parley::xml {

// Appends `el` to `out` as it appears inside a stream whose default namespace is `context_ns`
// (e.g. "jabber:client"): an element in that namespace gets no xmlns attribute.
void serialize(const Element& el, std::string& out, std::string_view context_ns = {});
std::string toString(const Element& el, std::string_view context_ns = {});

// Escaping for character data (&, <, >) and attribute values (also ' and "). Characters that XML
// 1.0 cannot carry (C0 controls other than tab/CR/LF) never reach here: the parser refuses them.
void appendEscapedText(std::string& out, std::string_view text);
void appendEscapedAttr(std::string& out, std::string_view value);

}  // namespace parley::xml
