#include "e2ee_module.hpp"

#include <stdexcept>
#include <utility>

#include "detect.hpp"
#include "parley/json.hpp"

namespace parley::modules::e2ee {
namespace {

// The name an employee knows the scheme by, in the reason text.
std::string_view displayName(Scheme scheme) {
  switch (scheme) {
    case Scheme::Omemo:
      return "OMEMO";
    case Scheme::OpenPgp:
      return "OpenPGP";
    case Scheme::PgpLegacy:
      return "PGP";
    case Scheme::Otr:
      return "OTR";
    case Scheme::Other:
      return "end-to-end";
  }
  return "end-to-end";
}

std::string refusalText(Scheme scheme) {
  if (scheme == Scheme::Otr) {
    return "Off-the-Record (OTR) encryption cannot be used here: messages must stay readable for "
           "the company archive. Turn OTR off for this chat and send again.";
  }
  if (scheme == Scheme::Other) {
    return "end-to-end encryption cannot be used here: messages must stay readable for the "
           "company archive. Turn encryption off for this chat (the lock icon) and send again.";
  }
  return "end-to-end encryption (" + std::string(displayName(scheme)) +
         ") cannot be used here: messages must stay readable for the company archive. Turn "
         "encryption off for this chat (the lock icon) and send again.";
}

ComplianceEvent eventFor(const Stanza& stanza, Direction direction) {
  ComplianceEvent e;
  e.severity = Severity::Medium;
  e.actor = stanza.from.full();
  // No 'to' addresses the sender's own account.
  e.target = stanza.to.empty() ? stanza.from.bareString() : stanza.to.full();
  e.stanza_id = std::string(stanza.id());
  e.direction = direction;
  return e;
}

// Traffic between two accounts of one domain stays inside; anything else from a client may be
// another local domain or a remote one, which a module cannot tell.
Direction clientDirection(const Stanza& stanza) {
  if (stanza.to.empty() || stanza.to.domain() == stanza.from.domain()) return Direction::Local;
  return Direction::None;
}

}  // namespace

void E2eeModule::configure(const YAML::Node& config) { settings_ = parseSettings(config); }

void E2eeModule::attach(Host& host) {
  host.onStanza(HookPoint::StanzaFromClient,
                [this](Stanza& stanza) { return checkStanza(stanza, clientDirection(stanza)); });
  try {
    host.onStanza(HookPoint::StanzaFromServer,
                  [this](Stanza& stanza) { return checkStanza(stanza, Direction::Inbound); });
  } catch (const std::logic_error& e) {
    host.log(LogLevel::Info,
             std::string("encrypted messages from other servers will be refused once this "
                         "server federates (") +
                 e.what() + ")");
  }
  host.onStanza(HookPoint::PepPublish, [this](Stanza& publish) { return checkPublish(publish); });
}

Verdict E2eeModule::checkStanza(const Stanza& stanza, Direction direction) const {
  if (alwaysPasses(stanza.element)) return Verdict::pass();
  std::optional<Finding> found = findEncryption(stanza.element);
  if (!found) return Verdict::pass();

  ComplianceEvent e = eventFor(stanza, direction);
  e.detail_json = "{\"scheme\":" + jsonString(schemeName(found->scheme)) +
                  ",\"evidence\":" + jsonString(found->evidence) + "}";
  if (settings_.mode == Mode::Flag) {
    e.kind = "e2ee.unscannable";
    e.action = EventAction::Flagged;
    return Verdict::pass().withEvent(std::move(e));
  }
  e.kind = "e2ee." + std::string(schemeName(found->scheme));
  e.action = EventAction::Blocked;
  Verdict verdict = Verdict::reject(refusalText(found->scheme));
  verdict.retry_after_change = true;  // sent again without encryption, it goes through
  return std::move(verdict).withEvent(std::move(e));
}

Verdict E2eeModule::checkPublish(const Stanza& publish) const {
  if (settings_.mode == Mode::Flag) return Verdict::pass();  // keys carry no content
  if (alwaysPasses(publish.element)) return Verdict::pass();
  std::optional<KeyPublish> found = findKeyPublish(publish.element);
  if (!found) return Verdict::pass();

  ComplianceEvent e = eventFor(publish, Direction::Local);
  e.kind = "e2ee." + std::string(schemeName(found->scheme)) + "_publish";
  e.action = EventAction::Blocked;
  e.detail_json = "{\"scheme\":" + jsonString(schemeName(found->scheme)) +
                  ",\"node\":" + jsonString(found->node) + "}";
  return Verdict::reject("publishing " + std::string(displayName(found->scheme)) +
                         " encryption keys is not allowed: messages must stay readable for the "
                         "company archive, so end-to-end encryption is off on this server.")
      .withEvent(std::move(e));
}

}  // namespace parley::modules::e2ee

PARLEY_MODULE(parley::modules::e2ee::kName, parley::modules::e2ee::kClause,
              parley::modules::e2ee::kDefaultPriority, parley::modules::e2ee::E2eeModule)
