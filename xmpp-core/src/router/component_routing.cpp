// XEP-0114 external components in the router: which domains are theirs, stanzas from them (the
// same policy chains as a client's, then the same routing), and stanzas to them.

#include "router/router.hpp"
#include "router/stanza_errors.hpp"
#include "util/log.hpp"

namespace parley::router {

bool Router::isComponentDomain(std::string_view domain) const {
  // Read from the configuration in force, so a reload adds or retires a component's domain.
  auto config = ctx_.config();
  for (const auto& component : config->components) {
    if (component.domain == domain) return true;
  }
  return false;
}

Task<void> Router::fromComponent(Stanza stanza, SessionPtr component) {
  if (!admitted(stanza, component)) co_return;
  if (stanza.to.domain() == component->jid().domain()) {
    // Back to where it came from would let one stanza circle for ever; the component handles
    // its own addresses itself.
    bounce(component, stanza.element, "not-allowed",
           "The server does not route a component's stanzas back to that component.");
    co_return;
  }
  co_await dispatch(stanza, component);
}

void Router::toComponent(std::shared_ptr<const xml::Element> stanza, std::string_view domain,
                         const SessionPtr& sender) {
  if (auto link = ctx_.components().find(domain)) {
    deliver(link, std::move(stanza));
    return;
  }
  if (stanza->name() == "presence") return;  // presence for an absent entity is dropped
  bounce(sender, *stanza, "service-unavailable",
         "The service at " + std::string(domain) +
             " (an external component) is not connected right now; please try again later.");
}

void Router::bounceToSender(const xml::Element& stanza, std::string_view condition,
                            std::string_view text) {
  if (!mayBounce(stanza)) return;
  auto from = Jid::parse(stanza.attrOr("from"));
  if (!from) return;
  SessionPtr sender;
  if (isComponentDomain(from->domain())) {
    sender = ctx_.components().find(from->domain());
  } else if (!from->isBare()) {
    sender = ctx_.registry().find(*from);
  }
  bounce(sender, stanza, condition, text);
}

}  // namespace parley::router
