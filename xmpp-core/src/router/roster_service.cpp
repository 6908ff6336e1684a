// jabber:iq:roster (RFC 6121 §2): get with versioning, set, remove, and pushes.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <set>

#include "router/roster_service.hpp"
#include "router/router.hpp"
#include "router/stanza_errors.hpp"

namespace parley::router {
namespace {

constexpr std::string_view kRosterNs = "jabber:iq:roster";

Task<xml::Element> handleRoster(IqRequest& req) {
  if (!req.fromOwner()) {
    co_return makeStanzaError(req.stanza.element, "forbidden",
                              "Only the account's owner may read or change its roster.");
  }
  const std::string owner = req.target.full();
  if (req.stanza.type() == "get") {
    if (req.session) req.session->setRosterRequested();
    std::string client_ver(req.payload.attrOr("ver"));
    auto job = [owner](pqxx::connection& c) { return storage::loadRoster(c, owner); };
    storage::Roster roster = co_await req.ctx.db().run(std::move(job));
    xml::Element reply = makeResult(req.stanza);
    std::string ver = std::to_string(roster.version);
    // §2.6.3: an unchanged roster is answered with an empty result; pushes follow as usual.
    if (!client_ver.empty() && client_ver == ver) co_return reply;
    auto& query = reply.addChild(std::string(kRosterNs), "query");
    query.setAttr("ver", ver);
    for (const auto& item : roster.items) {
      if (item.listed) query.addChild(Router::rosterItemElement(item));
    }
    co_return reply;
  }

  // set: exactly one item (§2.3.3).
  auto items = req.payload.childrenNamed("item", kRosterNs);
  if (items.size() != 1) {
    co_return makeStanzaError(req.stanza.element, "bad-request",
                              "A roster set must contain exactly one item.");
  }
  const xml::Element& in = *items.front();
  auto contact = Jid::parse(in.attrOr("jid"));
  if (!contact) {
    co_return makeStanzaError(req.stanza.element, "jid-malformed",
                              "The roster item's jid is not a valid address.");
  }
  const std::string contact_s = contact->bare().full();
  if (in.attrOr("subscription") == "remove") {
    auto job = [owner, contact_s](pqxx::connection& c) {
      auto item = storage::loadRosterItem(c, owner, contact_s);
      auto version = storage::deleteRosterItem(c, owner, contact_s);
      return std::make_pair(item, version);
    };
    auto removed = co_await req.ctx.db().run(std::move(job));
    if (!removed.first || !removed.second) {
      co_return makeStanzaError(req.stanza.element, "item-not-found",
                                "That contact is not in your roster.");
    }
    const storage::RosterItem& item = *removed.first;
    req.router.pushRosterItem(owner, item, *removed.second, /*removed=*/true);
    // §2.5.2: removing an item cancels the subscriptions both ways.
    if (item.subscription == "to" || item.subscription == "both" || item.ask_out) {
      req.router.notifyRemovedContact(owner, contact_s, "unsubscribe");
    }
    if (item.subscription == "from" || item.subscription == "both" || item.pending_in) {
      req.router.notifyRemovedContact(owner, contact_s, "unsubscribed");
    }
    co_return makeResult(req.stanza);
  }
  std::vector<std::string> groups;
  std::set<std::string> seen;
  for (const xml::Element* g : in.childrenNamed("group", kRosterNs)) {
    std::string name = g->text();
    if (name.empty() || !seen.insert(name).second) {
      co_return makeStanzaError(req.stanza.element, "bad-request",
                                "Roster groups must be non-empty and listed once each.");
    }
    groups.push_back(std::move(name));
  }
  std::string name(in.attrOr("name"));
  auto job = [owner, contact_s, name, groups](pqxx::connection& c) {
    storage::RosterItem item;
    auto update = storage::updateRosterItem(
        c, owner, contact_s, [&](const std::optional<storage::RosterItem>& before) {
          item = before.value_or(storage::RosterItem{});
          item.contact = contact_s;
          item.name = name;
          item.groups = groups;
          item.listed = true;  // the client's own set, whatever the subscription state
          return std::optional<storage::RosterItem>(item);
        });
    return std::make_pair(item, update.version.value_or(0));
  };
  auto saved = co_await req.ctx.db().run(std::move(job));
  req.router.pushRosterItem(owner, saved.first, saved.second);
  co_return makeResult(req.stanza);
}

}  // namespace

void registerRosterService(Router& router) {
  router.addIqService(std::string(kRosterNs), IqService{handleRoster, false, true});
}

xml::Element Router::rosterItemElement(const storage::RosterItem& item, bool removed) {
  xml::Element el(std::string(kRosterNs), "item");
  el.setAttr("jid", item.contact);
  if (removed) {
    el.setAttr("subscription", "remove");
    return el;
  }
  if (!item.name.empty()) el.setAttr("name", item.name);
  el.setAttr("subscription", item.subscription);
  if (item.ask_out) el.setAttr("ask", "subscribe");
  if (item.preapproved) el.setAttr("approved", "true");
  for (const auto& g : item.groups) el.addChild(std::string(kRosterNs), "group").addText(g);
  return el;
}

void Router::pushRosterItem(const std::string& owner, const storage::RosterItem& item,
                            int64_t version, bool removed) {
  for (auto& s : ctx_.registry().sessionsOf(owner)) {
    s->updateCachedRoster(item, version, removed);
    // Unlisted items (a request from someone not in the roster) are the server's business
    // until the user acts on them; clients see them as subscription requests, not items.
    if (!item.listed || !s->rosterRequested()) continue;
    xml::Element push(std::string(ns::kClient), "iq");
    push.setAttr("type", "set");
    push.setAttr("id", "push" + std::to_string(version));
    push.setAttr("to", s->jid().full());
    auto& query = push.addChild(std::string(kRosterNs), "query");
    query.setAttr("ver", std::to_string(version));
    query.addChild(rosterItemElement(item, removed));
    deliver(s, std::move(push));
  }
}

void Router::notifyRemovedContact(const std::string& owner, const std::string& contact,
                                  std::string_view type) {
  // Processed as if the owner had sent it, so both rosters stay consistent.
  xml::Element p(std::string(ns::kClient), "presence");
  p.setAttr("type", std::string(type));
  p.setAttr("from", owner);
  p.setAttr("to", contact);
  auto owner_jid = Jid::parse(owner);
  auto contact_jid = Jid::parse(contact);
  if (!owner_jid || !contact_jid || !ctx_.isLocalDomain(contact_jid->domain())) return;
  SubscriptionEvent event =
      type == "unsubscribe" ? SubscriptionEvent::InUnsubscribe : SubscriptionEvent::InUnsubscribed;
  boost::asio::co_spawn(
      ctx_.io().get_executor(),
      [this, contact_jid = *contact_jid, owner_jid = *owner_jid, event, p]() -> Task<void> {
        co_await inboundSubscription(contact_jid, owner_jid, event, p);
        if (event == SubscriptionEvent::InUnsubscribed)
          sendUnavailableOfAll(owner_jid.full(), contact_jid.full());
      },
      boost::asio::detached);
}

}  // namespace parley::router
