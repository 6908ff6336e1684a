#include "router/stanza_errors.hpp"

#include <string>

#include "parley/stanza.hpp"

namespace parley::router {

std::string_view errorTypeFor(std::string_view condition) {
  if (condition == "bad-request" || condition == "jid-malformed" || condition == "not-acceptable" ||
      condition == "policy-violation" || condition == "redirect" || condition == "gone")
    return "modify";
  if (condition == "forbidden" || condition == "not-authorized" ||
      condition == "registration-required" || condition == "subscription-required")
    return "auth";
  if (condition == "recipient-unavailable" || condition == "remote-server-timeout" ||
      condition == "resource-constraint")
    return "wait";
  return "cancel";
}

bool mayBounce(const xml::Element& stanza) {
  std::string_view type = stanza.attrOr("type");
  if (type == "error") return false;
  if (stanza.name() == "iq" && type == "result") return false;
  return true;
}

xml::Element makeErrorElement(std::string_view condition, std::string_view text,
                              std::string_view type) {
  xml::Element error(std::string(ns::kClient), "error");
  error.setAttr("type", std::string(type.empty() ? errorTypeFor(condition) : type));
  error.addChild(std::string(ns::kStanzas), std::string(condition));
  if (!text.empty()) {
    auto& t = error.addChild(std::string(ns::kStanzas), "text");
    t.setAttr("lang", "en", xml::kXmlNs);
    t.addText(text);
  }
  return error;
}

xml::Element makeStanzaError(const xml::Element& original, std::string_view condition,
                             std::string_view text, std::string_view type) {
  xml::Element reply(original.ns().empty() ? std::string(ns::kClient) : original.ns(),
                     original.name());
  if (auto id = original.attr("id")) reply.setAttr("id", *id);
  if (auto from = original.attr("from")) reply.setAttr("to", *from);
  if (auto to = original.attr("to")) reply.setAttr("from", *to);
  reply.setAttr("type", "error");
  // An iq error carries the request payload so the requester can tell which query failed.
  if (original.name() == "iq") {
    if (const xml::Element* payload = original.firstChildElement()) reply.addChild(*payload);
  }
  reply.addChild(makeErrorElement(condition, text, type));
  return reply;
}

}  // namespace parley::router
