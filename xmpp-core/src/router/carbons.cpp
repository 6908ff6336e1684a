#include "router/carbons.hpp"

#include <string>

#include "parley/stanza.hpp"

namespace parley::router::carbons {
namespace {
constexpr std::string_view kMucUserNs = "http://jabber.org/protocol/muc#user";
}  // namespace

bool eligible(const xml::Element& message) {
  const std::string_view type = message.attrOr("type");
  const bool chat = type == "chat";
  const bool normal = type.empty() || type == "normal";
  if (!chat && !(normal && message.child("body", ns::kClient))) return false;
  if (message.child("private", kNs) || message.child("no-copy", kHintsNs)) return false;
  if (message.child("sent", kNs) || message.child("received", kNs)) return false;
  return message.child("x", kMucUserNs) == nullptr;
}

void stripPrivate(xml::Element& message) { message.removeChildren("private", kNs); }

xml::Element wrap(Copy copy, const Jid& to, const xml::Element& original) {
  xml::Element message(std::string(ns::kClient), "message");
  message.setAttr("from", to.bareString());
  message.setAttr("to", to.full());
  if (auto type = original.attr("type")) message.setAttr("type", *type);
  xml::Element& direction =
      message.addChild(std::string(kNs), copy == Copy::Sent ? "sent" : "received");
  xml::Element& forwarded = direction.addChild(std::string(kForwardNs), "forwarded");
  forwarded.addChild(original);
  return message;
}

}  // namespace parley::router::carbons
