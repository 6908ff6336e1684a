#include "xep/bookmark_conversion.hpp"

#include <algorithm>

namespace parley::xep::bookmarks {

namespace {

bool isTrue(std::string_view v) { return v == "true" || v == "1"; }

}  // namespace

std::vector<Conference> fromLegacy(const xml::Element& storage) {
  std::vector<Conference> out;
  for (const xml::Element* legacy : storage.childrenNamed("conference", kLegacyNs)) {
    const std::string jid(legacy->attrOr("jid"));
    if (jid.empty()) continue;
    xml::Element conference(std::string(kNativeNs), "conference");
    if (auto name = legacy->attrOr("name"); !name.empty())
      conference.setAttr("name", std::string(name));
    if (isTrue(legacy->attrOr("autojoin"))) conference.setAttr("autojoin", "true");
    if (const auto* nick = legacy->child("nick", kLegacyNs))
      conference.addChild(std::string(kNativeNs), "nick").addText(nick->text());
    if (const auto* password = legacy->child("password", kLegacyNs))
      conference.addChild(std::string(kNativeNs), "password").addText(password->text());
    xml::Element extensions(std::string(kNativeNs), "extensions");
    bool any_extension = false;
    for (const auto& node : legacy->children()) {
      if (!node.element || node.element->ns() == kLegacyNs) continue;
      extensions.addChild(*node.element);
      any_extension = true;
    }
    if (any_extension) conference.addChild(std::move(extensions));
    std::erase_if(out, [&](const Conference& c) { return c.jid == jid; });
    out.push_back({jid, std::move(conference)});
  }
  return out;
}

xml::Element toLegacy(const std::vector<Conference>& conferences,
                      const std::vector<const xml::Element*>& urls) {
  xml::Element storage(std::string(kLegacyNs), "storage");
  for (const auto& c : conferences) {
    auto& legacy = storage.addChild(std::string(kLegacyNs), "conference");
    legacy.setAttr("jid", c.jid);
    if (auto name = c.payload.attrOr("name"); !name.empty())
      legacy.setAttr("name", std::string(name));
    legacy.setAttr("autojoin", isTrue(c.payload.attrOr("autojoin")) ? "true" : "false");
    if (const auto* nick = c.payload.child("nick", kNativeNs))
      legacy.addChild(std::string(kLegacyNs), "nick").addText(nick->text());
    if (const auto* password = c.payload.child("password", kNativeNs))
      legacy.addChild(std::string(kLegacyNs), "password").addText(password->text());
    if (const auto* extensions = c.payload.child("extensions", kNativeNs)) {
      for (const auto& node : extensions->children())
        if (node.element) legacy.addChild(*node.element);
    }
  }
  for (const auto* url : urls) storage.addChild(*url);
  return storage;
}

}  // namespace parley::xep::bookmarks
