// Presence and subscriptions (RFC 6121 §3, §4) for local accounts.

#include <algorithm>

#include "router/router.hpp"
#include "router/stanza_errors.hpp"
#include "util/log.hpp"

namespace parley::router {
namespace {

constexpr std::string_view kDelayNs = "urn:xmpp:delay";

std::optional<SubscriptionEvent> outboundEvent(std::string_view type) {
  if (type == "subscribe") return SubscriptionEvent::OutSubscribe;
  if (type == "subscribed") return SubscriptionEvent::OutSubscribed;
  if (type == "unsubscribe") return SubscriptionEvent::OutUnsubscribe;
  if (type == "unsubscribed") return SubscriptionEvent::OutUnsubscribed;
  return std::nullopt;
}

SubscriptionEvent inboundOf(SubscriptionEvent out) {
  switch (out) {
    case SubscriptionEvent::OutSubscribe:
      return SubscriptionEvent::InSubscribe;
    case SubscriptionEvent::OutSubscribed:
      return SubscriptionEvent::InSubscribed;
    case SubscriptionEvent::OutUnsubscribe:
      return SubscriptionEvent::InUnsubscribe;
    default:
      return SubscriptionEvent::InUnsubscribed;
  }
}

SubscriptionState stateOf(const storage::RosterItem& item) {
  SubscriptionState s;
  s.to = item.subscription == "to" || item.subscription == "both";
  s.from = item.subscription == "from" || item.subscription == "both";
  s.ask_out = item.ask_out;
  s.pending_in = item.pending_in;
  s.preapproved = item.preapproved;
  return s;
}

// Writes the state into the item; returns true when that made a hidden item a roster entry.
bool applyState(storage::RosterItem& item, const SubscriptionState& s) {
  item.subscription = s.subscription();
  item.ask_out = s.ask_out;
  item.pending_in = s.pending_in;
  item.preapproved = s.preapproved;
  // Any real subscription (or our own request) makes the contact a roster entry; a stranger's
  // pending request or our pre-approval alone does not (RFC 6121 §3.1.3, §3.4).
  if (!item.listed && (s.to || s.from || s.ask_out)) {
    item.listed = true;
    return true;
  }
  return false;
}

storage::RosterItem itemOrNew(std::optional<storage::RosterItem> existing,
                              const std::string& contact) {
  if (existing) return std::move(*existing);
  storage::RosterItem item;
  item.contact = contact;
  item.listed = false;
  return item;
}

int parsePriority(const xml::Element& presence) {
  std::string text = presence.childText("priority", ns::kClient);
  if (text.empty()) return 0;
  try {
    int p = std::stoi(text);
    return std::clamp(p, -128, 127);
  } catch (...) {
    return 0;
  }
}

xml::Element subscriptionStanza(std::string_view type, const std::string& from,
                                const std::string& to) {
  xml::Element p(std::string(ns::kClient), "presence");
  p.setAttr("type", std::string(type));
  p.setAttr("from", from);
  p.setAttr("to", to);
  return p;
}

struct ItemChange {
  SubscriptionOutcome outcome;
  storage::RosterItem item;
  int64_t version = 0;
  bool account_exists = true;
};

// One subscription event applied to the owner's item for the contact (database thread).
ItemChange changeRosterItem(pqxx::connection& c, const std::string& owner,
                            const std::string& contact, SubscriptionEvent event) {
  ItemChange r;
  auto update = storage::updateRosterItem(
      c, owner, contact,
      [&](const std::optional<storage::RosterItem>& before) -> std::optional<storage::RosterItem> {
        r.item = itemOrNew(before, contact);
        r.outcome = applySubscription(stateOf(r.item), event);
        r.outcome.changed |= applyState(r.item, r.outcome.state);
        if (!r.outcome.changed) return std::nullopt;
        return r.item;
      });
  if (update.version) r.version = *update.version;
  return r;
}

}  // namespace

Task<void> Router::routePresence(Stanza& stanza, const SessionPtr& session) {
  std::string_view type = stanza.type();
  // XEP-0191 §3.3: presence to an address the sender blocked is refused. Presence from a
  // blocked address is dropped without a word: here for directed presence, in
  // inboundSubscription() for subscriptions, whose sender's side goes on as usual.
  if (!stanza.to.empty() && type != "probe") {
    const std::string sender = stanza.from.bareString();
    if (co_await isBlocked(sender, stanza.to)) {
      refuseBlocked(session, stanza.element);
      co_return;
    }
  }
  if (auto event = outboundEvent(type)) {
    // A gateway (an external component) takes subscriptions to its own domain too.
    if (stanza.to.empty() || (stanza.to.node().empty() && !isComponentDomain(stanza.to.domain()))) {
      bounce(session, stanza.element, "jid-malformed",
             "A subscription request must be addressed to an account.");
      co_return;
    }
    co_await outboundSubscription(stanza, session);
    co_return;
  }
  if (type == "probe") co_return;  // probes are the server's business (RFC 6121 §4.3)
  if (!stanza.to.empty()) {
    const std::string recipient = stanza.to.bareString();
    if (co_await isBlocked(recipient, stanza.from)) co_return;
    directedPresence(stanza, session);
    co_return;
  }
  if (type.empty() || type == "unavailable") {
    const bool initial = type.empty() && !session->available();
    co_await broadcastPresence(stanza, session);
    if (type.empty() && session->available()) {
      for (const auto& listener : presence_listeners_)
        co_await listener(session, stanza.element, initial);
    }
    co_return;
  }
  if (type != "error") {
    bounce(session, stanza.element, "bad-request", "Unknown presence type.");
  }
}

void Router::directedPresence(Stanza& stanza, const SessionPtr& session) {
  std::string_view type = stanza.type();
  const bool to_component = isComponentDomain(stanza.to.domain());
  // No federation yet: presence to other domains is dropped.
  if (!to_component && !ctx_.isLocalDomain(stanza.to.domain())) return;
  if (type.empty() && session->available()) {
    session->directed_presence_targets.insert(stanza.to.full());
  } else if (type == "unavailable") {
    session->directed_presence_targets.erase(stanza.to.full());
  }
  if (to_component) {
    const std::string domain = stanza.to.domain();
    toComponent(std::make_shared<const xml::Element>(std::move(stanza.element)), domain, session);
    return;
  }
  auto shared = std::make_shared<const xml::Element>(std::move(stanza.element));
  if (!stanza.to.isBare()) {
    if (auto target = ctx_.registry().find(stanza.to)) deliver(target, shared);
    return;
  }
  for (auto& s : ctx_.registry().sessionsOf(stanza.to.bareString())) {
    if (s->available()) deliver(s, shared);
  }
}

Task<void> Router::broadcastPresence(Stanza& stanza, const SessionPtr& session) {
  bool unavailable = stanza.type() == "unavailable";
  if (unavailable) {
    if (!session->available()) co_return;
    co_await broadcastUnavailable(session, &stanza.element);
    co_return;
  }
  bool initial = !session->available();
  stanza.element.removeAttr("to");
  int priority = parsePriority(stanza.element);
  auto presence = std::make_shared<const xml::Element>(stanza.element);
  session->setPresence(presence, priority);

  const std::string owner = session->jid().bareString();
  // Initial presence reads the roster afresh (pending requests live only there); later
  // broadcasts use the session's copy, which roster pushes keep current.
  // Offline messages (XEP-0160) go to the first resource with non-negative priority; they are
  // taken in the same database job as the roster, one round trip per login instead of two.
  std::shared_ptr<const storage::Roster> cached = initial ? nullptr : session->cachedRoster();
  std::vector<storage::OfflineMessage> offline;
  if (!cached) {
    // setPresence() above comes first: a message stored from now on finds this session
    // available (see OfflineIndex).
    const bool take_offline = initial && priority >= 0 && ctx_.offlineIndex().takeMark(owner);
    auto job = [owner, take_offline](pqxx::connection& c) {
      auto roster = std::make_shared<const storage::Roster>(storage::loadRoster(c, owner));
      std::vector<storage::OfflineMessage> messages;
      if (take_offline) messages = storage::takeOffline(c, owner);
      return std::make_pair(std::move(roster), std::move(messages));
    };
    auto loaded = co_await ctx_.db().run(std::move(job));
    cached = std::move(loaded.first);
    offline = std::move(loaded.second);
    session->setCachedRoster(cached);
  }
  const storage::Roster& roster = *cached;

  // To every available resource of each contact subscribed to us, and to all our own resources
  // (the sender included, RFC 6121 §4.2.2).
  for (const auto& item : roster.items) {
    if (item.subscription != "from" && item.subscription != "both") continue;
    if (presenceToComponent(*presence, item.contact, session)) continue;
    for (auto& s : ctx_.registry().sessionsOf(item.contact)) {
      if (!s->available() || blockedEitherWay(session->jid(), s->jid())) continue;
      xml::Element copy = *presence;
      copy.setAttr("to", s->jid().full());
      deliver(s, std::move(copy));
    }
  }
  for (auto& s : ctx_.registry().sessionsOf(owner)) {
    if (!s->available()) continue;
    xml::Element copy = *presence;
    copy.setAttr("to", s->jid().full());
    deliver(s, std::move(copy));
  }
  if (!initial) co_return;

  // Initial presence: the current presence of everyone we are subscribed to (the probe answered
  // locally) and of our other resources.
  // A contact at a component is asked (RFC 6121 §4.3): only the component knows its presence.
  xml::Element probe(std::string(ns::kClient), "presence");
  probe.setAttr("type", "probe");
  probe.setAttr("from", owner);
  for (const auto& item : roster.items) {
    if (item.subscription != "to" && item.subscription != "both") continue;
    if (presenceToComponent(probe, item.contact, session)) continue;
    for (auto& s : ctx_.registry().sessionsOf(item.contact)) {
      auto their = s->presence();
      if (!their || blockedEitherWay(s->jid(), session->jid())) continue;
      xml::Element copy = *their;
      copy.setAttr("to", session->jid().full());
      deliver(session, std::move(copy));
    }
  }
  for (auto& s : ctx_.registry().sessionsOf(owner)) {
    if (s.get() == session.get()) continue;
    auto their = s->presence();
    if (!their) continue;
    xml::Element copy = *their;
    copy.setAttr("to", session->jid().full());
    deliver(session, std::move(copy));
  }
  // Subscription requests that arrived while we were away (RFC 6121 §3.1.3), unless the
  // requester has been blocked since.
  const auto blocklist = ctx_.blocklists().find(owner);  // in memory: the session is bound
  for (const auto& item : roster.items) {
    if (!item.pending_in) continue;
    auto contact = Jid::parse(item.contact);
    if (blocklist && contact && blocklist->blocks(*contact)) continue;
    deliver(session, subscriptionStanza("subscribe", item.contact, owner));
  }
  deliverOffline(session, offline);
}

void Router::deliverOffline(const SessionPtr& session,
                            const std::vector<storage::OfflineMessage>& messages) {
  const std::string domain = session->jid().domain();
  const auto blocklist = ctx_.blocklists().find(session->jid().bareString());
  std::vector<std::shared_ptr<const xml::Element>> backlog;
  backlog.reserve(messages.size());
  for (const auto& m : messages) {
    auto element = parseStoredStanza(m.stanza);
    if (!element) {
      log::error("offline message ", m.id, " for ", session->jid().bareString(),
                 " could not be parsed; skipped");
      continue;
    }
    // Stored before its sender was blocked: not delivered now (XEP-0191 §3.3).
    auto from = Jid::parse(element->attrOr("from"));
    if (blocklist && from && blocklist->blocks(*from)) {
      log::debug("offline message ", m.id, " for ", session->jid().bareString(),
                 " dropped: its sender is blocked");
      continue;
    }
    element->removeChildren("delay", kDelayNs);
    auto& delay = element->addChild(std::string(kDelayNs), "delay");
    delay.setAttr("from", domain);
    delay.setAttr("stamp", m.stored_at);
    delay.addText("Offline Storage");
    backlog.push_back(std::make_shared<const xml::Element>(std::move(*element)));
  }
  if (!backlog.empty()) deliverBacklog(session, std::move(backlog));
}

Task<void> Router::deliverOfflineIfOnline(const std::string& owner) {
  SessionPtr target;
  for (auto& s : ctx_.registry().sessionsOf(owner)) {
    if (s->available() && s->priority() >= 0) {
      target = s;
      break;
    }
  }
  if (!target || !ctx_.offlineIndex().takeMark(owner)) co_return;
  auto job = [owner](pqxx::connection& c) { return storage::takeOffline(c, owner); };
  auto messages = co_await ctx_.db().run(std::move(job));
  deliverOffline(target, messages);
}

Task<void> Router::broadcastUnavailable(const SessionPtr& session,
                                        const xml::Element* status_source) {
  xml::Element unavailable(std::string(ns::kClient), "presence");
  unavailable.setAttr("type", "unavailable");
  unavailable.setAttr("from", session->jid().full());
  if (status_source) {
    if (auto* status = status_source->child("status", ns::kClient)) unavailable.addChild(*status);
  }
  session->setPresence(nullptr, 0);
  const std::string owner = session->jid().bareString();
  storage::Roster roster;
  if (auto cached = session->cachedRoster()) {
    roster = *cached;
  } else {
    try {
      auto job = [owner](pqxx::connection& c) { return storage::loadRoster(c, owner); };
      roster = co_await ctx_.db().run(std::move(job));
    } catch (const std::exception& e) {
      log::error("roster of ", owner, " unavailable for presence broadcast: ", e.what());
    }
  }
  std::set<std::string> told;
  auto tell = [&](const SessionPtr& s) {
    if (blockedEitherWay(session->jid(), s->jid())) return;  // nothing crosses a block
    if (!told.insert(s->jid().full()).second) return;
    xml::Element copy = unavailable;
    copy.setAttr("to", s->jid().full());
    deliver(s, std::move(copy));
  };
  for (const auto& item : roster.items) {
    if (item.subscription != "from" && item.subscription != "both") continue;
    if (presenceToComponent(unavailable, item.contact, session)) continue;
    for (auto& s : ctx_.registry().sessionsOf(item.contact))
      if (s->available()) tell(s);
  }
  for (auto& s : ctx_.registry().sessionsOf(owner))
    if (s->available() || s.get() == session.get()) tell(s);
  // A copy: a subdomain service (a MUC room left on logout) runs on across co_awaits.
  const std::set<std::string> targets = session->directed_presence_targets;
  for (const auto& target : targets) {
    auto jid = Jid::parse(target);
    if (!jid) continue;
    if (presenceToComponent(unavailable, target, session)) continue;
    if (const DomainService* service = subdomainService(jid->domain())) {
      xml::Element leave = unavailable;
      leave.setAttr("to", jid->full());
      Stanza stanza{std::move(leave), session->jid(), *jid, Origin::Internal};
      co_await (*service)(stanza, session);
      continue;
    }
    if (jid->isBare()) {
      for (auto& s : ctx_.registry().sessionsOf(target)) tell(s);
    } else if (auto s = ctx_.registry().find(*jid)) {
      tell(s);
    }
  }
  session->directed_presence_targets.clear();
}

Task<void> Router::sessionClosed(SessionPtr session,
                                 std::vector<std::shared_ptr<const xml::Element>> unsent) {
  bool was_available = session->available();
  if (was_available) co_await broadcastUnavailable(session, nullptr);
  co_await redeliverUnsent(session, std::move(unsent));
  // Last activity (XEP-0012) is recorded when the account's last resource leaves.
  const std::string owner = session->jid().bareString();
  auto others = ctx_.registry().sessionsOf(owner);
  bool last = std::none_of(others.begin(), others.end(),
                           [&](const SessionPtr& s) { return s.get() != session.get(); });
  if (!last) co_return;
  storage::LastActivity activity;
  activity.logout_unix = std::time(nullptr);
  ctx_.lastActivity().record(owner, std::move(activity));
}

Task<void> Router::redeliverUnsent(SessionPtr session,
                                   std::vector<std::shared_ptr<const xml::Element>> unsent) {
  const Jid owner = session->jid().bare();
  std::vector<SessionPtr> targets;
  for (auto& s : ctx_.registry().sessionsOf(owner.full()))
    if (s.get() != session.get() && s->available() && s->priority() >= 0) targets.push_back(s);
  std::vector<std::shared_ptr<const xml::Element>> backlog;
  for (auto& stanza : unsent) {
    if (stanza->name() != "message") continue;
    std::string_view type = stanza->attrOr("type");
    if (type == "error" || type == "groupchat" || type == "headline") continue;
    if (stanza->child("body", ns::kClient) == nullptr) continue;  // chat states and the like
    Stanza again{*stanza, Jid(), owner, Origin::Internal};
    again.element.setAttr("to", again.to.full());
    if (targets.empty()) {
      co_await storeOfflineOrBounce(again, nullptr);
    } else {
      backlog.push_back(std::make_shared<const xml::Element>(std::move(again.element)));
    }
  }
  // In one go per resource: what one connection could not take must not look like a client
  // that stopped reading on the other (see ClientSession::deliverBacklog).
  if (backlog.empty()) co_return;
  for (auto& t : targets) deliverBacklog(t, backlog);
}

// ---- subscriptions ----

Task<void> Router::outboundSubscription(Stanza& stanza, const SessionPtr& session) {
  SubscriptionEvent event = *outboundEvent(stanza.type());
  const Jid owner = stanza.from.bare();
  const Jid contact = stanza.to.bare();
  const std::string owner_s = owner.full(), contact_s = contact.full();
  auto job = [=](pqxx::connection& c) { return changeRosterItem(c, owner_s, contact_s, event); };
  ItemChange change = co_await ctx_.db().run(std::move(job));
  if (change.outcome.changed) pushRosterItem(owner_s, change.item, change.version);
  if (change.outcome.route && ctx_.isLocalDomain(contact.domain())) {
    xml::Element routed = stanza.element;
    routed.setAttr("from", owner_s);  // subscription stanzas carry the bare JID (§3.1.2)
    routed.setAttr("to", contact_s);
    co_await inboundSubscription(contact, owner, inboundOf(event), routed);
  } else if (change.outcome.route && isComponentDomain(contact.domain())) {
    // The component keeps its side of the subscription itself.
    xml::Element routed = stanza.element;
    routed.setAttr("from", owner_s);
    routed.setAttr("to", contact_s);
    toComponent(std::make_shared<const xml::Element>(std::move(routed)), contact.domain(), session);
  }
  if (change.outcome.send_presence) {
    sendPresenceOfAll(owner_s, contact_s);
    // The contact sees the owner's presence from now on (e.g. PEP's last items, on_sub).
    for (const auto& listener : subscription_listeners_) co_await listener(owner_s, contact_s);
  }
  if (change.outcome.send_unavailable) sendUnavailableOfAll(owner_s, contact_s);
}

Task<void> Router::inboundSubscription(const Jid& owner, const Jid& contact,
                                       SubscriptionEvent event, const xml::Element& stanza) {
  // XEP-0191 §3.3: from a blocked contact, nothing changes and nothing is said.
  const std::string owner_s = owner.full(), contact_s = contact.full();
  if (co_await isBlocked(owner_s, contact)) co_return;
  auto job = [=](pqxx::connection& c) {
    if (!storage::accountExists(c, owner_s)) {
      ItemChange missing;
      missing.account_exists = false;
      return missing;
    }
    return changeRosterItem(c, owner_s, contact_s, event);
  };
  ItemChange change = co_await ctx_.db().run(std::move(job));
  if (!change.account_exists) {
    // §3.1.3: a request to a non-existent account is answered with 'unsubscribed'.
    if (event == SubscriptionEvent::InSubscribe) {
      xml::Element refusal = subscriptionStanza("unsubscribed", owner_s, contact_s);
      co_await inboundSubscription(contact, owner, SubscriptionEvent::InUnsubscribed, refusal);
    }
    co_return;
  }
  if (change.outcome.changed) pushRosterItem(owner_s, change.item, change.version);
  if (change.outcome.deliver) {
    auto shared = std::make_shared<const xml::Element>(stanza);
    for (auto& s : ctx_.registry().sessionsOf(owner_s)) {
      if (s->available()) deliver(s, shared);
    }
  }
  if (change.outcome.auto_subscribed) {
    xml::Element approval = subscriptionStanza("subscribed", owner_s, contact_s);
    co_await inboundSubscription(contact, owner, SubscriptionEvent::InSubscribed, approval);
  }
  if (change.outcome.send_presence) sendPresenceOfAll(owner_s, contact_s);
}

void Router::sendPresenceOfAll(const std::string& from_bare, const std::string& to_bare) {
  auto recipients = ctx_.registry().sessionsOf(to_bare);
  for (auto& s : ctx_.registry().sessionsOf(from_bare)) {
    auto presence = s->presence();
    if (!presence) continue;
    for (auto& r : recipients) {
      if (!r->available() || blockedEitherWay(s->jid(), r->jid())) continue;
      xml::Element copy = *presence;
      copy.setAttr("to", r->jid().full());
      deliver(r, std::move(copy));
    }
  }
}

void Router::sendUnavailableOfAll(const std::string& from_bare, const std::string& to_bare) {
  auto recipients = ctx_.registry().sessionsOf(to_bare);
  for (auto& s : ctx_.registry().sessionsOf(from_bare)) {
    if (!s->available()) continue;
    for (auto& r : recipients) {
      if (!r->available() || blockedEitherWay(s->jid(), r->jid())) continue;
      xml::Element p(std::string(ns::kClient), "presence");
      p.setAttr("type", "unavailable");
      p.setAttr("from", s->jid().full());
      p.setAttr("to", r->jid().full());
      deliver(r, std::move(p));
    }
  }
}

bool Router::presenceToComponent(const xml::Element& presence, const std::string& contact,
                                 const SessionPtr& session) {
  // Roster contacts are stored normalised: the domain is found without parsing (this runs for
  // every contact on every broadcast), the JID parsed only for a component's.
  std::string_view domain = contact;
  if (auto at = domain.find('@'); at != std::string_view::npos) domain.remove_prefix(at + 1);
  domain = domain.substr(0, domain.find('/'));
  if (!isComponentDomain(domain)) return false;
  auto jid = Jid::parse(contact);
  if (!jid) return false;
  xml::Element copy = presence;
  copy.setAttr("to", jid->full());
  toComponent(std::make_shared<const xml::Element>(std::move(copy)), jid->domain(), session);
  return true;
}

Task<void> Router::routePresenceFromComponent(Stanza& stanza, const SessionPtr& component) {
  // Only local accounts have presence to speak of here; presence is never bounced.
  if (stanza.to.node().empty() || !ctx_.isLocalDomain(stanza.to.domain())) co_return;
  std::string_view type = stanza.type();
  if (auto event = outboundEvent(type)) {
    // Inbound processing for the account, as if a contact's server had sent it (§3).
    xml::Element routed = stanza.element;
    routed.setAttr("from", stanza.from.bareString());
    routed.setAttr("to", stanza.to.bareString());
    const Jid owner = stanza.to.bare(), contact = stanza.from.bare();
    co_await inboundSubscription(owner, contact, inboundOf(*event), routed);
    co_return;
  }
  if (type == "probe") co_return;  // answering probes for accounts is not done for components
  const std::string recipient = stanza.to.bareString();
  if (co_await isBlocked(recipient, stanza.from)) co_return;  // XEP-0191: dropped unseen
  directedPresence(stanza, component);
}

}  // namespace parley::router
