// XEP-0163 Personal Eventing Protocol: a pubsub service on every account's bare JID. The owner
// publishes (nodes are created on first publish, with XEP-0060 publish-options as
// preconditions); contacts read items as the node's access model allows and are notified of
// new items when their client asked for that node with "+notify" in its XEP-0115 caps. This
// carries avatars (XEP-0084), bookmarks (XEP-0402), nicknames (XEP-0172), OMEMO device lists
// and XEP-0223 private storage (whitelist nodes). Every publish passes the pep.publish hook
// chain first, so a policy module can refuse it (e.g. encryption keys).
//
// Other core services keep legacy formats in step through xep/pep_service.hpp (listeners told
// of each publish, publishes on the owner's behalf, views of a node answered from elsewhere).
//
// Not offered: explicit subscriptions (notifications follow presence subscriptions and +notify,
// as XEP-0163 specifies) and collection nodes.

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <charconv>
#include <map>

#include "events/uuid.hpp"
#include "parley/xml/serializer.hpp"
#include "router/stanza_errors.hpp"
#include "storage/pep_store.hpp"
#include "util/log.hpp"
#include "xep/caps.hpp"
#include "xep/data_form.hpp"
#include "xep/pep_config.hpp"
#include "xep/pep_service.hpp"
#include "xep/services.hpp"

namespace parley::xep {
namespace {

using router::IqRequest;
using router::SessionPtr;
using router::Task;
using storage::PepAccess;
using storage::PepNodeConfig;

constexpr std::string_view kPubsubNs = "http://jabber.org/protocol/pubsub";
constexpr std::string_view kOwnerNs = "http://jabber.org/protocol/pubsub#owner";
constexpr std::string_view kEventNs = "http://jabber.org/protocol/pubsub#event";
constexpr std::string_view kErrorsNs = "http://jabber.org/protocol/pubsub#errors";
constexpr std::string_view kInfoNs = "http://jabber.org/protocol/disco#info";
using pep::kServerMaxItems;

std::vector<pep::PublishListener>& publishListeners() {
  static std::vector<pep::PublishListener> listeners;
  return listeners;
}

std::map<std::string, pep::ItemsView>& itemsViews() {
  static std::map<std::string, pep::ItemsView> views;
  return views;
}

caps::Cache& capsCache() {
  static caps::Cache cache;
  return cache;
}

// An error with a pubsub#errors condition inside (XEP-0060 §7, §6.5).
xml::Element pubsubError(const IqRequest& req, std::string_view condition, std::string_view app,
                         std::string_view text, std::string_view feature = {}) {
  xml::Element reply = router::makeStanzaError(req.stanza.element, condition, text);
  if (auto* error = reply.child("error", reply.ns())) {
    auto& a = error->addChild(std::string(kErrorsNs), std::string(app));
    if (!feature.empty()) a.setAttr("feature", std::string(feature));
  }
  return reply;
}

bool subscribedTo(const storage::RosterItem& item) {
  return item.subscription == "to" || item.subscription == "both";
}
bool subscribedFrom(const storage::RosterItem& item) {
  return item.subscription == "from" || item.subscription == "both";
}

// Who is told of a change to `owner`'s node: the owner's own resources and, unless the node is
// private, the available resources of contacts who see the owner's presence; in both cases
// only clients that asked for the node (+notify).
std::vector<SessionPtr> recipients(router::Router& router, const std::string& owner,
                                   const std::string& node, const PepNodeConfig& config,
                                   const storage::Roster& roster) {
  std::vector<SessionPtr> out;
  auto& registry = router.ctx().registry();
  for (auto& s : registry.sessionsOf(owner))
    if (s->available() && s->wantsNotify(node)) out.push_back(s);
  if (config.access == PepAccess::Whitelist) return out;
  for (const auto& item : roster.items) {
    if (!subscribedFrom(item)) continue;
    for (auto& s : registry.sessionsOf(item.contact))
      if (s->available() && s->wantsNotify(node)) out.push_back(s);
  }
  return out;
}

// <message type='headline' from=owner><event><…/></event></message> to each recipient.
void notify(router::Router& router, const std::string& owner,
            const std::vector<SessionPtr>& targets, const xml::Element& event_child) {
  if (targets.empty()) return;
  xml::Element message(std::string(ns::kClient), "message");
  message.setAttr("from", owner);
  message.setAttr("type", "headline");
  message.addChild(std::string(kEventNs), "event").addChild(event_child);
  for (const auto& s : targets) {
    xml::Element copy = message;
    copy.setAttr("to", s->jid().full());
    copy.setAttr("id", events::randomUuid());
    router.deliver(s, std::move(copy));
  }
}

// <items node=…><item id=… publisher=…>payload</item></items>, or nullopt when the stored payload
// no longer parses (logged; never happens for what the server stored itself).
std::optional<xml::Element> itemsElement(const std::string& node,
                                         const std::vector<storage::PepItem>& items,
                                         std::string_view ns = kEventNs) {
  xml::Element out{std::string(ns), "items"};
  out.setAttr("node", node);
  for (const auto& item : items) {
    auto payload = router::parseStoredStanza(item.payload);
    if (!payload) {
      log::error("PEP item ", item.id, " of node ", node, " does not parse; skipped");
      continue;
    }
    auto& e = out.addChild(std::string(ns), "item");
    e.setAttr("id", item.id);
    if (ns == kEventNs && !item.publisher.empty()) e.setAttr("publisher", item.publisher);
    e.addChild(std::move(*payload));
  }
  return out;
}

// XEP-0060 §6.1.6 access models: may a reader who is not the owner see the node's items?
bool othersMayRead(const PepNodeConfig& config, bool subscribed) {
  return config.access == PepAccess::Open || (config.access == PepAccess::Presence && subscribed);
}

// The owner's roster: the session's copy when it has one, else from the database.
std::shared_ptr<const storage::Roster> cachedRosterOf(const IqRequest& req) {
  return req.session ? req.session->cachedRoster() : nullptr;
}

// ---- publish / retract (the owner) ----

Task<xml::Element> publish(IqRequest& req, const xml::Element& action) {
  const std::string node(action.attrOr("node"));
  if (node.empty())
    co_return pubsubError(req, "bad-request", "nodeid-required", "A publish needs a node.");
  auto items = action.childrenNamed("item", kPubsubNs);
  if (items.size() != 1) {
    co_return pubsubError(req, "bad-request", "invalid-payload",
                          "Publish exactly one item at a time.");
  }
  const xml::Element* payload = items.front()->firstChildElement();
  if (!payload) {
    co_return pubsubError(req, "bad-request", "payload-required",
                          "A PEP item must carry its payload.");
  }
  int payload_elements = 0;
  for (const auto& child : items.front()->children())
    if (!child.isText()) ++payload_elements;
  if (payload_elements != 1) {
    co_return pubsubError(req, "bad-request", "invalid-payload",
                          "A PEP item carries exactly one payload element.");
  }
  storage::PepNodeOptions options;
  if (const auto* po = req.payload.child("publish-options", kPubsubNs)) {
    if (const auto* form = po->child("x", kDataFormsNs)) {
      auto parsed = pep::parseOptionsForm(*form);
      if (auto* error = std::get_if<std::string>(&parsed)) {
        co_return pubsubError(req, "conflict", "precondition-not-met", *error);
      }
      options = std::get<storage::PepNodeOptions>(parsed);
    }
  }
  // pep.publish: a policy module may refuse (e.g. encryption key publishing).
  const Verdict verdict = req.ctx.modules().runStanza(HookPoint::PepPublish, req.stanza);
  if (verdict.kind == Verdict::Kind::Reject) {
    co_return router::makeStanzaError(req.stanza.element, verdict.condition, verdict.text,
                                      verdict.retry_after_change ? "modify" : "cancel");
  }
  if (verdict.kind == Verdict::Kind::Drop) {
    co_return router::makeStanzaError(req.stanza.element, "not-allowed",
                                      "This publish was not accepted.");
  }
  storage::PepItem item;
  item.id = std::string(items.front()->attrOr("id"));
  if (item.id.empty()) item.id = events::randomUuid();
  item.payload = xml::toString(*payload);
  item.publisher = req.stanza.from.full();
  const std::string owner = req.target.bareString();
  auto roster = cachedRosterOf(req);
  const bool load_roster = !roster;
  auto job = [owner, node, item, options, load_roster](pqxx::connection& c) {
    auto outcome = storage::publishPepItem(c, owner, node, item, options, kServerMaxItems);
    std::shared_ptr<const storage::Roster> loaded;
    if (load_roster && outcome.kind == storage::PepPublishOutcome::Kind::Published)
      loaded = std::make_shared<const storage::Roster>(storage::loadRoster(c, owner));
    return std::make_pair(outcome, loaded);
  };
  auto [outcome, loaded] = co_await req.ctx.db().run(std::move(job));
  if (outcome.kind == storage::PepPublishOutcome::Kind::PreconditionNotMet) {
    co_return pubsubError(req, "conflict", "precondition-not-met",
                          "Node '" + node +
                              "' exists with a different configuration than publish-options "
                              "ask for.");
  }
  if (!roster) roster = loaded;
  xml::Element reply = router::makeResult(req.stanza);
  auto& published =
      reply.addChild(std::string(kPubsubNs), "pubsub").addChild(std::string(kPubsubNs), "publish");
  published.setAttr("node", node);
  published.addChild(std::string(kPubsubNs), "item").setAttr("id", item.id);

  if (auto event = itemsElement(node, {item})) {
    notify(req.router, owner, recipients(req.router, owner, node, outcome.config, *roster), *event);
  }
  for (const auto& listener : publishListeners()) {
    try {
      co_await listener(req.router, owner, node, item);
    } catch (const std::exception& e) {
      // The publish itself stands; only the copy in another format is missing.
      log::error("PEP publish on ", owner, " node ", node, ": conversion failed: ", e.what());
    }
  }
  co_return reply;
}

Task<xml::Element> retract(IqRequest& req, const xml::Element& action) {
  const std::string node(action.attrOr("node"));
  const auto* item = action.child("item", kPubsubNs);
  const std::string id(item ? item->attrOr("id") : "");
  if (node.empty())
    co_return pubsubError(req, "bad-request", "nodeid-required", "A retract needs a node.");
  if (id.empty())
    co_return pubsubError(req, "bad-request", "item-required", "A retract needs an item id.");
  const std::string owner = req.target.bareString();
  auto roster = cachedRosterOf(req);
  const bool load_roster = !roster;
  auto job = [owner, node, id, load_roster](pqxx::connection& c) {
    auto config = storage::loadPepNode(c, owner, node);
    bool removed = config && storage::retractPepItem(c, owner, node, id);
    std::shared_ptr<const storage::Roster> loaded;
    if (removed && load_roster)
      loaded = std::make_shared<const storage::Roster>(storage::loadRoster(c, owner));
    return std::make_tuple(config, removed, loaded);
  };
  auto [config, removed, loaded] = co_await req.ctx.db().run(std::move(job));
  if (!config)
    co_return router::makeStanzaError(req.stanza.element, "item-not-found",
                                      "There is no node '" + node + "'.");
  if (!removed)
    co_return router::makeStanzaError(req.stanza.element, "item-not-found",
                                      "Node '" + node + "' has no item '" + id + "'.");
  if (!roster) roster = loaded;
  const std::string_view flag = action.attrOr("notify");
  if (config->notify_retract && (flag == "true" || flag == "1")) {
    xml::Element items(std::string(kEventNs), "items");
    items.setAttr("node", node);
    items.addChild(std::string(kEventNs), "retract").setAttr("id", id);
    notify(req.router, owner, recipients(req.router, owner, node, *config, *roster), items);
  }
  co_return router::makeResult(req.stanza);
}

Task<xml::Element> create(IqRequest& req, const xml::Element& action) {
  const std::string node(action.attrOr("node"));
  if (node.empty()) {
    co_return pubsubError(req, "not-acceptable", "nodeid-required",
                          "Instant nodes are not offered: name the node to create.");
  }
  storage::PepNodeOptions options;
  if (const auto* configure = req.payload.child("configure", kPubsubNs)) {
    if (const auto* form = configure->child("x", kDataFormsNs)) {
      auto parsed = pep::parseOptionsForm(*form);
      if (auto* error = std::get_if<std::string>(&parsed))
        co_return router::makeStanzaError(req.stanza.element, "not-acceptable", *error);
      options = std::get<storage::PepNodeOptions>(parsed);
    }
  }
  const std::string owner = req.target.bareString();
  const PepNodeConfig config = options.applyTo(PepNodeConfig{});
  auto job = [owner, node, config](pqxx::connection& c) {
    return storage::createPepNode(c, owner, node, config);
  };
  if (!co_await req.ctx.db().run(std::move(job))) {
    co_return router::makeStanzaError(req.stanza.element, "conflict",
                                      "Node '" + node + "' already exists.");
  }
  co_return router::makeResult(req.stanza);
}

// ---- items (anyone the access model lets in) ----

Task<xml::Element> items(IqRequest& req, const xml::Element& action) {
  const std::string node(action.attrOr("node"));
  if (node.empty())
    co_return pubsubError(req, "bad-request", "nodeid-required", "Name the node to read.");
  std::vector<std::string> ids;
  for (const auto* item : action.childrenNamed("item", kPubsubNs))
    if (auto id = item->attrOr("id"); !id.empty()) ids.emplace_back(id);
  std::optional<int> max;
  if (auto m = action.attrOr("max_items"); !m.empty()) {
    int n = 0;
    auto [end, ec] = std::from_chars(m.data(), m.data() + m.size(), n);
    if (ec != std::errc() || end != m.data() + m.size() || n < 1) {
      co_return router::makeStanzaError(req.stanza.element, "bad-request",
                                        "max_items must be a positive number.");
    }
    max = n;
  }
  const std::string owner = req.target.bareString();
  const std::string requester = req.stanza.from.bareString();
  const bool is_owner = req.fromOwner();
  if (auto view = itemsViews().find(node); is_owner && view != itemsViews().end()) {
    auto shown = co_await view->second(req.router, owner);
    if (shown) {
      xml::Element reply = router::makeResult(req.stanza);
      auto element = itemsElement(node, *shown, kPubsubNs);
      reply.addChild(std::string(kPubsubNs), "pubsub").addChild(std::move(*element));
      co_return reply;
    }
  }
  struct Read {
    std::optional<PepNodeConfig> config;
    bool subscribed = false;
    std::vector<storage::PepItem> items;
  };
  auto job = [owner, requester, node, ids, max, is_owner](pqxx::connection& c) {
    Read r;
    r.config = storage::loadPepNode(c, owner, node);
    if (!r.config) return r;
    if (!is_owner && r.config->access == PepAccess::Presence) {
      auto item = storage::loadRosterItem(c, owner, requester);
      r.subscribed = item && subscribedFrom(*item);
    }
    if (is_owner || othersMayRead(*r.config, r.subscribed))
      r.items = storage::loadPepItems(c, owner, node, ids, max.value_or(kServerMaxItems));
    return r;
  };
  Read read = co_await req.ctx.db().run(std::move(job));
  if (!read.config) {
    co_return router::makeStanzaError(req.stanza.element, "item-not-found",
                                      "There is no node '" + node + "'.");
  }
  if (!is_owner && read.config->access == PepAccess::Whitelist) {
    co_return pubsubError(req, "not-allowed", "closed-node",
                          "Node '" + node + "' is private to its owner.");
  }
  if (!is_owner && read.config->access == PepAccess::Presence && !read.subscribed) {
    co_return pubsubError(
        req, "not-authorized", "presence-subscription-required",
        "Node '" + node + "' is shown only to contacts who see " + owner + "'s presence.");
  }
  xml::Element reply = router::makeResult(req.stanza);
  auto element = itemsElement(node, read.items, kPubsubNs);
  reply.addChild(std::string(kPubsubNs), "pubsub").addChild(std::move(*element));
  co_return reply;
}

Task<xml::Element> handlePubsub(IqRequest& req) {
  const xml::Element* action = req.payload.firstChildElement();
  if (!action) {
    co_return router::makeStanzaError(req.stanza.element, "bad-request",
                                      "<pubsub/> must name an action.");
  }
  const bool set = req.stanza.type() == "set";
  const std::string& name = action->name();
  if (!set && name == "items") co_return co_await items(req, *action);
  if (!set && (name == "subscriptions" || name == "affiliations")) {
    // No explicit subscriptions or affiliations besides ownership (XEP-0163 §4).
    xml::Element reply = router::makeResult(req.stanza);
    reply.addChild(std::string(kPubsubNs), "pubsub").addChild(std::string(kPubsubNs), name);
    co_return reply;
  }
  if (set && (name == "publish" || name == "retract" || name == "create")) {
    if (!req.fromOwner()) {
      co_return router::makeStanzaError(req.stanza.element, "forbidden",
                                        "Only the account's owner may change its PEP nodes.");
    }
    if (name == "publish") co_return co_await publish(req, *action);
    if (name == "retract") co_return co_await retract(req, *action);
    co_return co_await create(req, *action);
  }
  if (name == "subscribe" || name == "unsubscribe" || name == "options") {
    co_return pubsubError(req, "feature-not-implemented", "unsupported",
                          "Personal eventing notifications follow presence subscriptions: "
                          "announce '<node>+notify' in your client's capabilities instead.",
                          name == "options" ? "subscription-options" : "subscribe");
  }
  co_return pubsubError(req, "feature-not-implemented", "unsupported",
                        "This PEP service does not offer '" + name + "'.", name);
}

// ---- owner operations (pubsub#owner) ----

Task<xml::Element> handleOwner(IqRequest& req) {
  const xml::Element* action = req.payload.firstChildElement();
  if (!action) {
    co_return router::makeStanzaError(req.stanza.element, "bad-request",
                                      "<pubsub/> must name an action.");
  }
  if (!req.fromOwner()) {
    co_return router::makeStanzaError(req.stanza.element, "forbidden",
                                      "Only the account's owner may manage its PEP nodes.");
  }
  const bool set = req.stanza.type() == "set";
  const std::string& name = action->name();
  const std::string node(action->attrOr("node"));
  const std::string owner = req.target.bareString();
  if (name == "default" && !set) {
    xml::Element reply = router::makeResult(req.stanza);
    reply.addChild(std::string(kOwnerNs), "pubsub")
        .addChild(std::string(kOwnerNs), "default")
        .addChild(pep::configForm(PepNodeConfig{}));
    co_return reply;
  }
  if (node.empty()) co_return pubsubError(req, "bad-request", "nodeid-required", "Name the node.");
  if (name == "configure" && !set) {
    auto job = [owner, node](pqxx::connection& c) { return storage::loadPepNode(c, owner, node); };
    auto config = co_await req.ctx.db().run(std::move(job));
    if (!config) {
      co_return router::makeStanzaError(req.stanza.element, "item-not-found",
                                        "There is no node '" + node + "'.");
    }
    xml::Element reply = router::makeResult(req.stanza);
    auto& configure = reply.addChild(std::string(kOwnerNs), "pubsub")
                          .addChild(std::string(kOwnerNs), "configure");
    configure.setAttr("node", node);
    configure.addChild(pep::configForm(*config));
    co_return reply;
  }
  if (name == "configure" && set) {
    const auto* form = action->child("x", kDataFormsNs);
    if (!form || form->attrOr("type") == "cancel") co_return router::makeResult(req.stanza);
    auto parsed = pep::parseOptionsForm(*form);
    if (auto* error = std::get_if<std::string>(&parsed))
      co_return router::makeStanzaError(req.stanza.element, "not-acceptable", *error);
    storage::PepNodeOptions options = std::get<storage::PepNodeOptions>(parsed);
    auto job = [owner, node, options](pqxx::connection& c) {
      auto current = storage::loadPepNode(c, owner, node);
      if (!current) return false;
      return storage::configurePepNode(c, owner, node, options.applyTo(*current), kServerMaxItems);
    };
    if (!co_await req.ctx.db().run(std::move(job))) {
      co_return router::makeStanzaError(req.stanza.element, "item-not-found",
                                        "There is no node '" + node + "'.");
    }
    co_return router::makeResult(req.stanza);
  }
  if ((name == "delete" || name == "purge") && set) {
    const bool del = name == "delete";
    auto roster = cachedRosterOf(req);
    const bool load_roster = !roster;
    auto job = [owner, node, del, load_roster](pqxx::connection& c) {
      auto config = storage::loadPepNode(c, owner, node);
      bool done = config && (del ? storage::deletePepNode(c, owner, node)
                                 : storage::purgePepNode(c, owner, node));
      std::shared_ptr<const storage::Roster> loaded;
      if (done && load_roster)
        loaded = std::make_shared<const storage::Roster>(storage::loadRoster(c, owner));
      return std::make_tuple(config, done, loaded);
    };
    auto [config, done, loaded] = co_await req.ctx.db().run(std::move(job));
    if (!done) {
      co_return router::makeStanzaError(req.stanza.element, "item-not-found",
                                        "There is no node '" + node + "'.");
    }
    if (!roster) roster = loaded;
    xml::Element event(std::string(kEventNs), name);
    event.setAttr("node", node);
    notify(req.router, owner, recipients(req.router, owner, node, *config, *roster), event);
    co_return router::makeResult(req.stanza);
  }
  co_return pubsubError(req, "feature-not-implemented", "unsupported",
                        "This PEP service does not offer '" + name + "'.", name);
}

// ---- disco on the account (XEP-0060 §5.2, §5.3) ----

// The owner's nodes `requester` may read: all of them for the owner, the open ones for anyone,
// the presence ones for contacts who see the owner's presence.
Task<std::vector<std::pair<std::string, PepNodeConfig>>> readableNodes(IqRequest& req) {
  const std::string owner = req.target.bareString();
  const std::string requester = req.stanza.from.bareString();
  const bool is_owner = req.fromOwner();
  auto job = [owner, requester, is_owner](pqxx::connection& c) {
    auto nodes = storage::listPepNodes(c, owner);
    if (is_owner) return nodes;
    bool subscribed = false;
    bool any_presence = std::any_of(nodes.begin(), nodes.end(), [](const auto& n) {
      return n.second.access == PepAccess::Presence;
    });
    if (any_presence) {
      auto item = storage::loadRosterItem(c, owner, requester);
      subscribed = item && subscribedFrom(*item);
    }
    std::erase_if(nodes,
                  [subscribed](const auto& n) { return !othersMayRead(n.second, subscribed); });
    return nodes;
  };
  co_return co_await req.ctx.db().run(std::move(job));
}

Task<std::vector<router::DiscoItem>> accountItems(IqRequest& req) {
  auto nodes = co_await readableNodes(req);
  std::vector<router::DiscoItem> out;
  const std::string owner = req.target.bareString();
  for (const auto& [node, config] : nodes) out.push_back({owner, node, ""});
  co_return out;
}

// A readable node is a leaf (no collections here); anything else does not exist for this
// requester, so a stranger cannot probe which private nodes an account has.
Task<std::optional<router::DiscoNode>> accountNodeInfo(IqRequest& req, std::string node) {
  auto nodes = co_await readableNodes(req);
  for (const auto& [name, config] : nodes) {
    if (name != node) continue;
    router::DiscoNode info;
    info.identities.push_back({"pubsub", "leaf", ""});
    info.features.push_back(std::string(kPubsubNs));
    co_return info;
  }
  co_return std::nullopt;
}

// ---- caps and last items at login ----

// Sends `session` the newest item of each of these nodes of its own account and of the
// contacts it is subscribed to, as their access models allow (XEP-0163 §4.3.4).
Task<void> sendLastItems(router::Router& router, SessionPtr session, std::set<std::string> nodes) {
  const std::string self = session->jid().bareString();
  auto roster = session->cachedRoster();
  const bool load_roster = !roster;
  std::vector<std::string> owners{self};
  if (roster) {
    for (const auto& item : roster->items)
      if (subscribedTo(item)) owners.push_back(item.contact);
  }
  auto job = [self, owners, load_roster](pqxx::connection& c) mutable {
    std::shared_ptr<const storage::Roster> loaded;
    if (load_roster) {
      loaded = std::make_shared<const storage::Roster>(storage::loadRoster(c, self));
      for (const auto& item : loaded->items)
        if (subscribedTo(item)) owners.push_back(item.contact);
    }
    return storage::loadPepLastItems(c, owners);
  };
  auto last = co_await router.ctx().db().run(std::move(job));
  for (const auto& l : last) {
    if (!nodes.count(l.node) || l.config.send_last != storage::PepSendLast::OnSubAndPresence)
      continue;
    if (l.owner != self && l.config.access == PepAccess::Whitelist) continue;
    if (!session->available()) co_return;
    auto event = itemsElement(l.node, {l.item});
    if (event) notify(router, l.owner, {session}, *event);
  }
}

// A coroutine's parameters live in its frame (a lambda's captures would not outlive the spawn).
Task<void> sendLastItemsLogged(router::Router& router, SessionPtr session,
                               std::set<std::string> nodes) {
  try {
    co_await sendLastItems(router, session, std::move(nodes));
  } catch (const std::exception& e) {
    log::warn("PEP last items for ", session->jid().full(), " not sent: ", e.what());
  }
}

// XEP-0163 §4.3.3 (send_last_published_item on_sub): a new subscriber's online clients get the
// newest item of each of the owner's nodes they asked for and may see.
Task<void> onSubscribed(router::Router& router, std::string owner, std::string subscriber) {
  std::vector<SessionPtr> sessions;
  for (auto& s : router.ctx().registry().sessionsOf(subscriber))
    if (s->available() && s->clientFeatures()) sessions.push_back(s);
  if (sessions.empty()) co_return;
  auto job = [owner](pqxx::connection& c) { return storage::loadPepLastItems(c, {owner}); };
  auto last = co_await router.ctx().db().run(std::move(job));
  for (const auto& l : last) {
    if (l.config.send_last == storage::PepSendLast::Never ||
        l.config.access == PepAccess::Whitelist)
      continue;
    auto event = itemsElement(l.node, {l.item});
    if (!event) continue;
    for (const auto& s : sessions)
      if (s->wantsNotify(l.node)) notify(router, owner, {s}, *event);
  }
}

std::set<std::string> notifyNodes(const std::set<std::string>* features) {
  std::set<std::string> out;
  if (!features) return out;
  constexpr std::string_view kSuffix = "+notify";
  for (const auto& f : *features)
    if (f.size() > kSuffix.size() && f.ends_with(kSuffix))
      out.insert(f.substr(0, f.size() - kSuffix.size()));
  return out;
}

// Records what the client supports; nodes it newly asked for get their last items.
void applyFeatures(router::Router& router, const SessionPtr& session, caps::Features features) {
  auto before = notifyNodes(session->clientFeatures().get());
  auto after = notifyNodes(features.get());
  session->setClientFeatures(std::move(features));
  std::set<std::string> added;
  for (const auto& n : after)
    if (!before.count(n)) added.insert(n);
  if (added.empty() || !session->available()) return;
  boost::asio::co_spawn(router.ctx().io(), sendLastItemsLogged(router, session, std::move(added)),
                        boost::asio::detached);
}

Task<void> onPresence(router::Router& router, const SessionPtr& session,
                      const xml::Element& presence, bool /*initial*/) {
  auto announced = caps::announcementOf(presence);
  if (!announced) co_return;
  if (announced->hash == "sha-1") {
    if (auto known = capsCache().find(announced->ver)) {
      if (known != session->clientFeatures()) applyFeatures(router, session, known);
      co_return;
    }
  }
  // Ask the client (XEP-0115 §6.2: disco#info to node#ver).
  xml::Element iq(std::string(ns::kClient), "iq");
  iq.setAttr("type", "get");
  iq.addChild(std::string(kInfoNs), "query")
      .setAttr("node", announced->node + "#" + announced->ver);
  std::weak_ptr<router::ClientSession> weak = session;
  router.queryClient(
      session, std::move(iq), [&router, weak, ann = *announced](const xml::Element& answer) {
        auto s = weak.lock();
        if (!s || answer.attrOr("type") != "result") return;
        const xml::Element* query = answer.child("query", kInfoNs);
        if (!query) return;
        auto features = std::make_shared<const std::set<std::string>>(caps::featuresOf(*query));
        // Shared with other sessions only when the answer hashes to the announced
        // value; otherwise it speaks for this client alone.
        if (ann.hash == "sha-1" && caps::sha1Ver(*query) == ann.ver)
          capsCache().insert(ann.ver, features);
        applyFeatures(router, s, features);
      });
}

}  // namespace

namespace pep {

void addPublishListener(PublishListener listener) {
  publishListeners().push_back(std::move(listener));
}

void setItemsView(std::string node, ItemsView view) {
  itemsViews()[std::move(node)] = std::move(view);
}

Task<void> changeForOwner(router::Router& router, std::string owner, std::string node,
                          OwnerChange change, storage::PepNodeOptions options) {
  struct Applied {
    std::optional<PepNodeConfig> config;
    std::vector<storage::PepItem> published;
    std::vector<std::string> retracted;
    std::shared_ptr<const storage::Roster> roster;
  };
  auto job = [owner, node, change, options](pqxx::connection& c) {
    Applied a;
    for (const auto& item : change.publish) {
      auto outcome = storage::publishPepItem(c, owner, node, item, options, kServerMaxItems);
      // The node exists with the owner's own configuration: publish into it as it is.
      if (outcome.kind == storage::PepPublishOutcome::Kind::PreconditionNotMet)
        outcome = storage::publishPepItem(c, owner, node, item, {}, kServerMaxItems);
      a.config = outcome.config;
      a.published.push_back(item);
    }
    for (const auto& id : change.retract)
      if (storage::retractPepItem(c, owner, node, id)) a.retracted.push_back(id);
    if (!a.config) a.config = storage::loadPepNode(c, owner, node);
    if (a.config && a.config->access != PepAccess::Whitelist)
      a.roster = std::make_shared<const storage::Roster>(storage::loadRoster(c, owner));
    else
      a.roster = std::make_shared<const storage::Roster>();
    return a;
  };
  Applied applied = co_await router.ctx().db().run(std::move(job));
  if (!applied.config) co_return;
  auto targets = recipients(router, owner, node, *applied.config, *applied.roster);
  for (const auto& item : applied.published)
    if (auto event = itemsElement(node, {item})) notify(router, owner, targets, *event);
  if (applied.config->notify_retract) {
    for (const auto& id : applied.retracted) {
      xml::Element items(std::string(kEventNs), "items");
      items.setAttr("node", node);
      items.addChild(std::string(kEventNs), "retract").setAttr("id", id);
      notify(router, owner, targets, items);
    }
  }
}

}  // namespace pep

void registerPep(router::Router& router) {
  router.addIqService(std::string(kPubsubNs), {handlePubsub, false, true});
  router.addIqService(std::string(kOwnerNs), {handleOwner, false, true});
  router.addAccountIdentity({"pubsub", "pep", ""});
  router.setAccountItems(accountItems, accountNodeInfo);
  for (const char* feature :
       {"http://jabber.org/protocol/pubsub", "http://jabber.org/protocol/pubsub#publish",
        "http://jabber.org/protocol/pubsub#publish-options",
        "http://jabber.org/protocol/pubsub#auto-create",
        "http://jabber.org/protocol/pubsub#create-nodes",
        "http://jabber.org/protocol/pubsub#access-presence",
        "http://jabber.org/protocol/pubsub#access-open",
        "http://jabber.org/protocol/pubsub#access-whitelist",
        "http://jabber.org/protocol/pubsub#persistent-items",
        "http://jabber.org/protocol/pubsub#retrieve-items",
        "http://jabber.org/protocol/pubsub#retract-items",
        "http://jabber.org/protocol/pubsub#delete-nodes",
        "http://jabber.org/protocol/pubsub#purge-nodes",
        "http://jabber.org/protocol/pubsub#config-node",
        "http://jabber.org/protocol/pubsub#last-published",
        "http://jabber.org/protocol/pubsub#item-ids",
        "http://jabber.org/protocol/pubsub#filtered-notifications",
        "http://jabber.org/protocol/pubsub#retrieve-default"}) {
    router.addAccountFeature(feature);
  }
  // The server also lists PEP on its own disco#info (XEP-0163 §6.1: clients look there).
  router.addServerFeature("http://jabber.org/protocol/pubsub#pep");
  router.addPresenceListener(
      [&router](const SessionPtr& session, const xml::Element& presence, bool initial) {
        return onPresence(router, session, presence, initial);
      });
  router.addSubscriptionListener(
      [&router](const std::string& owner, const std::string& subscriber) {
        return onSubscribed(router, owner, subscriber);
      });
}

}  // namespace parley::xep
