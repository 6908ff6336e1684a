#include "parley/xml/serializer.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace parley::xml {
namespace {

// Attributes in this namespace are namespace declarations; the serializer writes its own, so a
// hand-built element carrying one must not produce a second, conflicting declaration.
constexpr std::string_view kXmlnsNs = "http://www.w3.org/2000/xmlns/";

// Replacement for each byte that needs one, or empty. CR, tab and LF are written as character
// references in attribute values because a parser normalises them to spaces there; CR is also
// escaped in text, where a literal one would come back as LF.
using EscapeTable = std::array<std::string_view, 256>;

constexpr EscapeTable makeTextTable() {
  EscapeTable t{};
  t['&'] = "&amp;";
  t['<'] = "&lt;";
  t['>'] = "&gt;";  // also keeps "]]>" out of character data
  t['\r'] = "&#13;";
  return t;
}

constexpr EscapeTable makeAttrTable() {
  EscapeTable t = makeTextTable();
  t['\''] = "&apos;";
  t['"'] = "&quot;";
  t['\t'] = "&#9;";
  t['\n'] = "&#10;";
  return t;
}

constexpr EscapeTable kTextEscapes = makeTextTable();
constexpr EscapeTable kAttrEscapes = makeAttrTable();

void appendEscaped(std::string& out, std::string_view in, const EscapeTable& table) {
  // Copy unescaped runs in one append each: most text needs no escaping at all.
  size_t run = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    std::string_view rep = table[static_cast<uint8_t>(in[i])];
    if (rep.empty()) continue;
    out.append(in.data() + run, i - run);
    out.append(rep);
    run = i + 1;
  }
  out.append(in.data() + run, in.size() - run);
}

void appendAttr(std::string& out, std::string_view prefix, std::string_view name,
                std::string_view value) {
  out.push_back(' ');
  if (!prefix.empty()) {
    out.append(prefix);
    out.push_back(':');
  }
  out.append(name);
  out.append("='");
  appendEscaped(out, value, kAttrEscapes);
  out.push_back('\'');
}

// `default_ns` is the default namespace in scope where `el` is written.
void write(const Element& el, std::string& out, std::string_view default_ns) {
  // The xml namespace may not be bound as a default namespace, so such an element keeps the
  // implicit xml: prefix and leaves the default namespace of its children unchanged.
  const bool xml_prefixed = el.ns() == kXmlNs;
  std::string_view child_ns = xml_prefixed ? default_ns : std::string_view(el.ns());

  out.push_back('<');
  if (xml_prefixed) out.append("xml:");
  out.append(el.name());
  if (!xml_prefixed && el.ns() != default_ns) appendAttr(out, {}, "xmlns", el.ns());

  // Prefixes are generated per element and declared where used; they never escape this tag, so
  // the same prefix may mean something else on a child.
  std::vector<std::string_view> declared;  // index i holds the URI bound to ns<i+1>
  auto prefixFor = [&](std::string_view ns) -> size_t {
    for (size_t i = 0; i < declared.size(); ++i) {
      if (declared[i] == ns) return i + 1;
    }
    declared.push_back(ns);
    out.append(" xmlns:ns");
    out.append(std::to_string(declared.size()));
    out.append("='");
    appendEscaped(out, ns, kAttrEscapes);
    out.push_back('\'');
    return declared.size();
  };

  for (const Attribute& a : el.attrs()) {
    if (a.ns.empty()) {
      appendAttr(out, {}, a.name, a.value);
    } else if (a.ns == kXmlNs) {
      appendAttr(out, "xml", a.name, a.value);
    } else if (a.ns != kXmlnsNs) {
      std::string prefix = "ns" + std::to_string(prefixFor(a.ns));
      appendAttr(out, prefix, a.name, a.value);
    }
  }

  if (el.children().empty()) {
    out.append("/>");
    return;
  }
  out.push_back('>');
  for (const Node& node : el.children()) {
    if (node.isText()) {
      appendEscaped(out, node.text, kTextEscapes);
    } else {
      write(*node.element, out, child_ns);
    }
  }
  out.append("</");
  if (xml_prefixed) out.append("xml:");
  out.append(el.name());
  out.push_back('>');
}

}  // namespace

void serialize(const Element& el, std::string& out, std::string_view context_ns) {
  write(el, out, context_ns);
}

std::string toString(const Element& el, std::string_view context_ns) {
  std::string out;
  serialize(el, out, context_ns);
  return out;
}

void appendEscapedText(std::string& out, std::string_view text) {
  appendEscaped(out, text, kTextEscapes);
}

void appendEscapedAttr(std::string& out, std::string_view value) {
  appendEscaped(out, value, kAttrEscapes);
}

}  // namespace parley::xml
