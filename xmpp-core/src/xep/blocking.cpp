// XEP-0191 Blocking Command: the addresses a user wants no communication with. The router
// enforces the list on every stanza (Router::isBlocked, router/blocklist.hpp for the matching
// rules) from memory (router/blocklist_cache.hpp); this service reads and changes it:
// <blocklist/> (which also subscribes the session to pushes), <block/> and <unblock/> (an empty
// one unblocks everything), each change pushed to the resources that asked for the list and
// told to the contacts concerned as presence (§3.3, §3.4).
//
// What is blocked is other users' addresses: the server answering for itself (disco, ping, a
// policy module's notices) is never checked, so blocking one's own domain blocks everyone on it
// without cutting the user off from the server. Blocking is "polite" (the XEP's recommendation):
// subscriptions are left as they are and the blocked contact is told nothing but unavailable.

#include <algorithm>
#include <optional>
#include <set>

#include "router/blocklist.hpp"
#include "router/stanza_errors.hpp"
#include "storage/blocklist_store.hpp"
#include "xep/services.hpp"

namespace parley::xep {
namespace {

using router::Blocklist;
using router::IqRequest;
using router::SessionPtr;
using router::Task;

// Bounds what one account keeps in memory while online.
constexpr size_t kMaxBlocklistItems = 1000;

xml::Element itemElement(const std::string& jid) {
  xml::Element item(std::string(router::kBlockingNs), "item");
  item.setAttr("jid", jid);
  return item;
}

// The prepared addresses of a <block/> or <unblock/>, each once; nullopt when one is malformed.
std::optional<std::vector<std::string>> requestedJids(const xml::Element& command) {
  std::vector<std::string> jids;
  std::set<std::string> seen;
  for (const xml::Element* item : command.childrenNamed("item", router::kBlockingNs)) {
    auto jid = Jid::parse(item->attrOr("jid"));
    if (!jid) return std::nullopt;
    if (seen.insert(jid->full()).second) jids.push_back(jid->full());
  }
  return jids;
}

// §3.3, §3.4: the change as an iq set to every resource of the account that asked for the list.
void pushChange(IqRequest& req, const std::string& owner, const std::string& action,
                const std::vector<std::string>& jids, int64_t version) {
  for (const auto& s : req.ctx.registry().sessionsOf(owner)) {
    if (!s->blocklistRequested()) continue;
    xml::Element push(std::string(ns::kClient), "iq");
    push.setAttr("type", "set");
    push.setAttr("id", "blocklist-push-" + std::to_string(version));
    push.setAttr("to", s->jid().full());
    auto& command = push.addChild(std::string(router::kBlockingNs), action);
    for (const auto& jid : jids) command.addChild(itemElement(jid));
    req.router.deliver(s, std::move(push));
  }
}

// §3.3, §3.4: contacts allowed to see the user's presence (subscription 'from' or 'both') get
// unavailable from each available resource when the change blocked them, and its current
// presence when it unblocked them.
Task<void> tellContacts(IqRequest& req, const std::string& owner, const Blocklist& before,
                        const Blocklist& after) {
  std::vector<SessionPtr> mine;
  std::shared_ptr<const storage::Roster> roster;
  for (auto& s : req.ctx.registry().sessionsOf(owner)) {
    if (!s->available()) continue;
    if (!roster) roster = s->cachedRoster();
    mine.push_back(std::move(s));
  }
  if (mine.empty()) co_return;  // nothing was, or is, shown to anyone
  if (!roster) {
    auto job = [owner](pqxx::connection& c) {
      return std::make_shared<const storage::Roster>(storage::loadRoster(c, owner));
    };
    roster = co_await req.ctx.db().run(std::move(job));
  }
  for (const auto& item : roster->items) {
    if (item.subscription != "from" && item.subscription != "both") continue;
    const auto theirs = req.ctx.blocklists().find(item.contact);  // in memory while online
    for (const auto& contact : req.ctx.registry().sessionsOf(item.contact)) {
      const bool blocked = after.blocks(contact->jid());
      if (!contact->available() || blocked == before.blocks(contact->jid())) continue;
      for (const auto& s : mine) {
        if (theirs && theirs->blocks(s->jid())) continue;  // they blocked us: nothing crosses
        xml::Element presence(std::string(ns::kClient), "presence");
        if (blocked) {
          presence.setAttr("type", "unavailable");
        } else if (auto current = s->presence()) {
          presence = *current;
        } else {
          continue;
        }
        presence.setAttr("from", s->jid().full());
        presence.setAttr("to", contact->jid().full());
        req.router.deliver(contact, std::move(presence));
      }
    }
  }
}

Task<xml::Element> handleBlocking(IqRequest& req) {
  if (!req.fromOwner()) {
    co_return router::makeStanzaError(req.stanza.element, "forbidden",
                                      "Only the account's owner may read or change its blocklist.");
  }
  const std::string owner = req.target.full();
  const std::string& action = req.payload.name();
  if (req.stanza.type() == "get") {
    if (action != "blocklist") {
      co_return router::makeStanzaError(req.stanza.element, "bad-request",
                                        "Expected <blocklist xmlns='urn:xmpp:blocking'/>.");
    }
    // Before the list is read: a change made meanwhile is pushed rather than missed.
    if (req.session) req.session->setBlocklistRequested();
    auto list = co_await req.ctx.blocklists().get(owner);
    xml::Element reply = router::makeResult(req.stanza);
    auto& blocklist = reply.addChild(std::string(router::kBlockingNs), "blocklist");
    for (const auto& jid : list->jids()) blocklist.addChild(itemElement(jid));
    co_return reply;
  }

  if (action != "block" && action != "unblock") {
    co_return router::makeStanzaError(req.stanza.element, "bad-request",
                                      "Expected <block/> or <unblock/>.");
  }
  auto jids = requestedJids(req.payload);
  if (!jids) {
    co_return router::makeStanzaError(req.stanza.element, "jid-malformed",
                                      "Every item needs a 'jid' attribute with a valid address.");
  }
  const bool block = action == "block";
  if (block && jids->empty()) {
    co_return router::makeStanzaError(req.stanza.element, "bad-request",
                                      "A <block/> names at least one address in an <item/>.");
  }
  auto before = co_await req.ctx.blocklists().get(owner);
  if (block) {
    const auto added = std::count_if(jids->begin(), jids->end(), [&](const std::string& jid) {
      return std::find(before->jids().begin(), before->jids().end(), jid) == before->jids().end();
    });
    if (before->jids().size() + static_cast<size_t>(added) > kMaxBlocklistItems) {
      co_return router::makeStanzaError(
          req.stanza.element, "policy-violation",
          "A blocklist holds at most " + std::to_string(kMaxBlocklistItems) +
              " addresses on this server; unblock some before blocking more.");
    }
    // Before the write: a login starting meanwhile must read the list, not assume it empty.
    req.ctx.blocklists().markOwner(owner);
  }
  auto job = [owner, jids = *jids, block](pqxx::connection& c) {
    return block ? storage::blockJids(c, owner, jids) : storage::unblockJids(c, owner, jids);
  };
  auto stored = co_await req.ctx.db().run(std::move(job));
  auto after = std::make_shared<const Blocklist>(owner, stored.version, std::move(stored.jids));
  req.ctx.blocklists().offer(after);  // from here on the router enforces it
  pushChange(req, owner, action, *jids, stored.version);
  co_await tellContacts(req, owner, *before, *after);
  co_return router::makeResult(req.stanza);
}

}  // namespace

void registerBlocking(router::Router& router) {
  router.addIqService(std::string(router::kBlockingNs), {handleBlocking, false, true});
  router.addServerFeature(std::string(router::kBlockingNs));
}

}  // namespace parley::xep
