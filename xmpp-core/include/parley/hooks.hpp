#pragma once
// The points in the server where policy can act, and what a hook answers (a Verdict). Modules
// register hooks through Host (parley/host.hpp); the core runs them in priority order.

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "parley/event.hpp"
#include "parley/stanza.hpp"

namespace parley {

enum class HookPoint {
  SessionOpened,        // session.opened: a resource bound (observe)
  SessionClosed,        // session.closed (observe)
  StanzaFromClient,     // stanza.in (c2s)
  StanzaFromServer,     // stanza.in (s2s)
  PreRoute,             // stanza.route: every stanza before the router decides
  BeforeRemoteSend,     // stanza.out.s2s
  BeforeLocalDelivery,  // stanza.deliver: per local recipient session
  Decided,              // stanza.decided: observe only, every stanza with its final verdict
  StreamFeatures,       // stream.features
  DiscoInfo,            // disco.info: hide or add features
  SaslAuthenticated,    // sasl.authenticated: may refuse a login
  PepPublish,           // pep.publish: may refuse a publish
  IqNamespace,          // iq.<namespace>: a module owns a namespace
  ServerMessage,        // message.server: a message addressed to the server (a module's service)
  Timer,                // periodic jobs
  kCount,
};
std::string_view hookPointName(HookPoint point);

struct Verdict {
  enum class Kind {
    Pass,    // nothing to say
    Modify,  // the hook rewrote the stanza; the chain goes on with the new one
    Drop,    // discard silently (rare: the sender is not told)
    Reject,  // refuse: the core sends the sender a stanza error
  };
  Kind kind = Kind::Pass;
  // Reject: the RFC 6120 condition (empty: policy-violation) and the reason in words an
  // employee understands. The core prefixes the policy clause: "Blocked by the IM policy
  // (§4 File sharing): " + text.
  std::string condition;
  std::string text;
  bool retry_after_change = false;  // Reject: error type 'modify' instead of 'cancel'
  // What the core records for this decision (module, clause, id and time are filled in).
  std::optional<ComplianceEvent> event;

  static Verdict pass() { return {}; }
  static Verdict modify() { return {Kind::Modify, {}, {}, false, std::nullopt}; }
  static Verdict drop() { return {Kind::Drop, {}, {}, false, std::nullopt}; }
  static Verdict reject(std::string text, std::string condition = "policy-violation") {
    return {Kind::Reject, std::move(condition), std::move(text), false, std::nullopt};
  }
  Verdict&& withEvent(ComplianceEvent e) && {
    event = std::move(e);
    return std::move(*this);
  }
  bool stops() const { return kind == Kind::Drop || kind == Kind::Reject; }
};

}  // namespace parley
