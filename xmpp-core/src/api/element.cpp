#include "parley/xml/element.hpp"

#include <algorithm>
#include <utility>

namespace parley::xml {

Element::Element(std::string ns, std::string name) : ns_(std::move(ns)), name_(std::move(name)) {}

Element::Element(const Element& other) : ns_(other.ns_), name_(other.name_), attrs_(other.attrs_) {
  children_.reserve(other.children_.size());
  for (const Node& node : other.children_) {
    if (node.isText()) {
      children_.push_back(Node{nullptr, node.text});
    } else {
      children_.push_back(Node{std::make_unique<Element>(*node.element), {}});
    }
  }
}

Element& Element::operator=(const Element& other) {
  if (this != &other) {
    // Copy first: `other` may be one of our own descendants.
    Element copy(other);
    *this = std::move(copy);
  }
  return *this;
}

Element::~Element() = default;

const std::string* Element::attr(std::string_view name, std::string_view ns) const {
  for (const Attribute& a : attrs_) {
    if (a.name == name && a.ns == ns) return &a.value;
  }
  return nullptr;
}

std::string_view Element::attrOr(std::string_view name, std::string_view fallback) const {
  const std::string* value = attr(name);
  return value ? std::string_view(*value) : fallback;
}

Element& Element::setAttr(std::string_view name, std::string value, std::string_view ns) {
  for (Attribute& a : attrs_) {
    if (a.name == name && a.ns == ns) {
      a.value = std::move(value);
      return *this;
    }
  }
  attrs_.push_back(Attribute{std::string(ns), std::string(name), std::move(value)});
  return *this;
}

bool Element::removeAttr(std::string_view name, std::string_view ns) {
  auto it = std::find_if(attrs_.begin(), attrs_.end(),
                         [&](const Attribute& a) { return a.name == name && a.ns == ns; });
  if (it == attrs_.end()) return false;
  attrs_.erase(it);
  return true;
}

std::string_view Element::lang() const {
  const std::string* value = attr("lang", kXmlNs);
  return value ? std::string_view(*value) : std::string_view();
}

Element& Element::addChild(Element child) {
  children_.push_back(Node{std::make_unique<Element>(std::move(child)), {}});
  return *children_.back().element;
}

Element& Element::addChild(std::string ns, std::string name) {
  return addChild(Element(std::move(ns), std::move(name)));
}

Element& Element::addText(std::string_view text) {
  // Empty text nodes and split runs would make equal documents compare unequal.
  if (text.empty()) return *this;
  if (!children_.empty() && children_.back().isText()) {
    children_.back().text.append(text);
  } else {
    children_.push_back(Node{nullptr, std::string(text)});
  }
  return *this;
}

const Element* Element::child(std::string_view name, std::string_view ns) const {
  for (const Node& node : children_) {
    if (!node.isText() && node.element->is(name, ns)) return node.element.get();
  }
  return nullptr;
}

Element* Element::child(std::string_view name, std::string_view ns) {
  return const_cast<Element*>(std::as_const(*this).child(name, ns));
}

std::vector<const Element*> Element::childrenNamed(std::string_view name,
                                                   std::string_view ns) const {
  std::vector<const Element*> found;
  for (const Node& node : children_) {
    if (!node.isText() && node.element->is(name, ns)) found.push_back(node.element.get());
  }
  return found;
}

const Element* Element::firstChildElement() const {
  for (const Node& node : children_) {
    if (!node.isText()) return node.element.get();
  }
  return nullptr;
}

size_t Element::removeChildren(std::string_view name, std::string_view ns) {
  size_t removed = 0;
  std::vector<Node> kept;
  kept.reserve(children_.size());
  for (Node& node : children_) {
    if (!node.isText() && node.element->is(name, ns)) {
      ++removed;
      continue;
    }
    // Text on both sides of a removed element becomes one run, as if parsed that way.
    if (node.isText() && !kept.empty() && kept.back().isText()) {
      kept.back().text.append(node.text);
      continue;
    }
    kept.push_back(std::move(node));
  }
  children_ = std::move(kept);  // every node was moved into `kept`, removed or not
  return removed;
}

std::string Element::text() const {
  std::string result;
  for (const Node& node : children_) {
    if (node.isText()) result.append(node.text);
  }
  return result;
}

std::string Element::childText(std::string_view name, std::string_view ns) const {
  const Element* found = child(name, ns);
  return found ? found->text() : std::string();
}

bool Element::operator==(const Element& other) const {
  if (name_ != other.name_ || ns_ != other.ns_) return false;
  if (attrs_.size() != other.attrs_.size() || children_.size() != other.children_.size()) {
    return false;
  }
  // Attribute names are unique per element, so equal sizes plus inclusion is set equality.
  for (const Attribute& a : attrs_) {
    const std::string* value = other.attr(a.name, a.ns);
    if (value == nullptr || *value != a.value) return false;
  }
  for (size_t i = 0; i < children_.size(); ++i) {
    const Node& mine = children_[i];
    const Node& theirs = other.children_[i];
    if (mine.isText() != theirs.isText()) return false;
    if (mine.isText() ? mine.text != theirs.text : !(*mine.element == *theirs.element)) {
      return false;
    }
  }
  return true;
}

}  // namespace parley::xml
