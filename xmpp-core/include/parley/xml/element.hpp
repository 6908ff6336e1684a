#pragma once
// The one in-memory form of XML that Parley has: the stream parser produces it, the router, the
// services and (later) policy modules read and rewrite it, and the serializer writes it. Working
// from one parse result everywhere is what keeps parser differentials from forging stanzas.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace parley::xml {

inline constexpr std::string_view kXmlNs = "http://www.w3.org/XML/1998/namespace";

struct Attribute {
  std::string ns;  // empty for unqualified attributes (the usual case); kXmlNs for xml:lang
  std::string name;
  std::string value;
};

class Element;

// A child is either an element or a run of character data (never both). Adjacent text is merged
// on insertion so that equal documents have equal trees.
struct Node {
  std::unique_ptr<Element> element;  // null for text
  std::string text;

  bool isText() const { return element == nullptr; }
};

class Element {
 public:
  Element() = default;
  Element(std::string ns, std::string name);
  Element(const Element& other);
  Element& operator=(const Element& other);
  Element(Element&&) noexcept = default;
  Element& operator=(Element&&) noexcept = default;
  ~Element();

  const std::string& name() const { return name_; }
  const std::string& ns() const { return ns_; }
  bool is(std::string_view name, std::string_view ns) const { return name_ == name && ns_ == ns; }

  // Attributes. `ns` empty means an unqualified attribute.
  const std::vector<Attribute>& attrs() const { return attrs_; }
  const std::string* attr(std::string_view name, std::string_view ns = {}) const;
  std::string_view attrOr(std::string_view name, std::string_view fallback = {}) const;
  Element& setAttr(std::string_view name, std::string value, std::string_view ns = {});
  bool removeAttr(std::string_view name, std::string_view ns = {});
  // xml:lang, empty when absent.
  std::string_view lang() const;

  // Children.
  const std::vector<Node>& children() const { return children_; }
  Element& addChild(Element child);  // returns the stored child
  Element& addChild(std::string ns, std::string name);
  Element& addText(std::string_view text);  // returns *this; merges adjacent text
  // First child element with this name and namespace, or null.
  const Element* child(std::string_view name, std::string_view ns) const;
  Element* child(std::string_view name, std::string_view ns);
  std::vector<const Element*> childrenNamed(std::string_view name, std::string_view ns) const;
  // First child element of any name, or null (e.g. the payload of an iq).
  const Element* firstChildElement() const;
  // Removes every child element with this name and namespace; returns how many.
  size_t removeChildren(std::string_view name, std::string_view ns);
  // Concatenated direct text children.
  std::string text() const;
  // Text of the first child element named so, empty when absent.
  std::string childText(std::string_view name, std::string_view ns) const;

  // Infoset equality: names, namespaces, attributes (order-insensitive) and children in order.
  bool operator==(const Element& other) const;

 private:
  std::string ns_;
  std::string name_;
  std::vector<Attribute> attrs_;
  std::vector<Node> children_;
};

}  // namespace parley::xml
