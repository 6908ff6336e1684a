#include "net/client_state.hpp"

#include <algorithm>

#include "parley/stanza.hpp"

namespace parley::net {

namespace {

constexpr std::string_view kChatStatesNs = "http://jabber.org/protocol/chatstates";
constexpr std::string_view kPubsubEventNs = "http://jabber.org/protocol/pubsub#event";

}  // namespace

bool mayWait(const xml::Element& stanza) {
  const std::string_view type = stanza.attrOr("type");
  if (stanza.name() == "presence") {
    // Availability waits; subscription requests and answers, probes and errors do not.
    return type.empty() || type == "unavailable";
  }
  if (stanza.name() != "message" || type == "error") return false;
  // A message waits only if all it carries is a chat state or a PEP event.
  bool something_waitable = false;
  for (const auto& child : stanza.children()) {
    if (!child.element) continue;
    const xml::Element& e = *child.element;
    if (e.ns() == kChatStatesNs || e.is("event", kPubsubEventNs)) {
      something_waitable = true;
    } else if (e.name() == "thread" && e.ns() == ns::kClient) {
      continue;  // a thread id comes with chat states
    } else {
      return false;  // a body, subject, receipt, carbon, … is worth waking for
    }
  }
  return something_waitable;
}

void HeldStanzas::hold(std::string bytes, std::shared_ptr<const xml::Element> stanza) {
  if (stanza->name() == "presence") {
    // Only the newest presence of each sender matters once the client looks again.
    const std::string_view from = stanza->attrOr("from");
    std::erase_if(held_, [&](const Held& h) {
      return h.stanza->name() == "presence" && h.stanza->attrOr("from") == from;
    });
  }
  held_.push_back({std::move(bytes), std::move(stanza)});
}

}  // namespace parley::net
