// XEP-0030 Service Discovery: the server's identity and features (and its XEP-0115 caps node),
// an account's identity, features and PEP nodes.

#include <algorithm>

#include "router/stanza_errors.hpp"
#include "xep/server_caps.hpp"
#include "xep/server_info.hpp"
#include "xep/services.hpp"

namespace parley::xep {
namespace {

using router::IqRequest;
using router::Task;

constexpr std::string_view kInfoNs = "http://jabber.org/protocol/disco#info";
constexpr std::string_view kItemsNs = "http://jabber.org/protocol/disco#items";

// A node the requester may see, or null.
const router::DiscoNode* findNode(const IqRequest& req, const std::string& node) {
  const router::DiscoNode* known = req.router.discoNode(node);
  if (known && known->visible && !known->visible(req)) return nullptr;
  return known;
}

void addIdentities(xml::Element& query, const std::vector<router::DiscoIdentity>& identities) {
  for (const auto& id : identities) {
    auto& e = query.addChild(std::string(kInfoNs), "identity");
    e.setAttr("category", id.category);
    e.setAttr("type", id.type);
    if (!id.name.empty()) e.setAttr("name", id.name);
  }
}

xml::Element nodeInfoReply(const IqRequest& req, const std::string& node,
                           const router::DiscoNode& known) {
  xml::Element reply = router::makeResult(req.stanza);
  auto& query = reply.addChild(std::string(kInfoNs), "query");
  query.setAttr("node", node);
  addIdentities(query, known.identities);
  for (const auto& f : known.features) {
    query.addChild(std::string(kInfoNs), "feature").setAttr("var", f);
  }
  return reply;
}

xml::Element noSuchNode(const IqRequest& req, const std::string& node) {
  return router::makeStanzaError(req.stanza.element, "item-not-found",
                                 "This entity has no node '" + node + "'.");
}

Task<xml::Element> nodeInfo(IqRequest& req, std::string node) {
  if (req.to_server) {
    // The node#ver of the server's caps (XEP-0115 §6.2) answers what the server's info does.
    const std::string caps_node = std::string(kServerCapsNode) + "#" +
                                  serverCapsVer(req.router, req.ctx.modules(), req.target);
    if (node == caps_node) {
      xml::Element reply = router::makeResult(req.stanza);
      xml::Element query = serverInfoQuery(req.router, req.ctx.modules(), req.target);
      query.setAttr("node", node);
      reply.addChild(std::move(query));
      co_return reply;
    }
    const router::DiscoNode* known = findNode(req, node);
    if (!known) co_return noSuchNode(req, node);
    co_return nodeInfoReply(req, node, *known);
  }
  if (!req.router.accountNodeInfo()) co_return noSuchNode(req, node);
  auto known = co_await req.router.accountNodeInfo()(req, node);
  if (!known) co_return noSuchNode(req, node);
  co_return nodeInfoReply(req, node, *known);
}

Task<xml::Element> handleInfo(IqRequest& req) {
  if (req.stanza.type() != "get") {
    co_return router::makeStanzaError(req.stanza.element, "bad-request",
                                      "disco#info is only queried with type='get'.");
  }
  const std::string node(req.payload.attrOr("node"));
  if (!node.empty()) co_return co_await nodeInfo(req, node);
  xml::Element reply = router::makeResult(req.stanza);
  if (req.to_server) {
    reply.addChild(serverInfoQuery(req.router, req.ctx.modules(), req.target));
    co_return reply;
  }
  auto& query = reply.addChild(std::string(kInfoNs), "query");
  auto& identity = query.addChild(std::string(kInfoNs), "identity");
  identity.setAttr("category", "account");
  identity.setAttr("type", "registered");
  std::vector<std::string> features = {std::string(kInfoNs), std::string(kItemsNs), "vcard-temp",
                                       "jabber:iq:last", "urn:xmpp:ping"};
  features.insert(features.end(), req.router.accountFeatures().begin(),
                  req.router.accountFeatures().end());
  addIdentities(query, req.router.accountIdentities());
  // Policy modules hide what is not allowed (no "send file" button for a disabled transfer).
  req.ctx.modules().runDiscoInfo(req.target, features);
  std::sort(features.begin(), features.end());
  features.erase(std::unique(features.begin(), features.end()), features.end());
  for (const auto& f : features) query.addChild(std::string(kInfoNs), "feature").setAttr("var", f);
  co_return reply;
}

// An account's items: its PEP nodes this requester may read (XEP-0060 §5.2).
Task<xml::Element> accountItems(IqRequest& req, std::string node) {
  if (!node.empty()) co_return noSuchNode(req, node);
  std::vector<router::DiscoItem> items;
  if (req.router.accountItems()) items = co_await req.router.accountItems()(req);
  xml::Element reply = router::makeResult(req.stanza);
  auto& query = reply.addChild(std::string(kItemsNs), "query");
  for (const auto& item : items) {
    auto& e = query.addChild(std::string(kItemsNs), "item");
    e.setAttr("jid", item.jid);
    if (!item.node.empty()) e.setAttr("node", item.node);
    if (!item.name.empty()) e.setAttr("name", item.name);
  }
  co_return reply;
}

Task<xml::Element> handleItems(IqRequest& req) {
  if (req.stanza.type() != "get") {
    co_return router::makeStanzaError(req.stanza.element, "bad-request",
                                      "disco#items is only queried with type='get'.");
  }
  const std::string node(req.payload.attrOr("node"));
  if (!req.to_server) co_return co_await accountItems(req, node);
  const router::DiscoNode* known = findNode(req, node);
  if (!node.empty() && !known) {
    co_return router::makeStanzaError(req.stanza.element, "item-not-found",
                                      "This entity has no node '" + node + "'.");
  }
  xml::Element reply = router::makeResult(req.stanza);
  // The server's subdomain services (chat rooms), then a node's items.
  auto& query = reply.addChild(std::string(kItemsNs), "query");
  if (node.empty()) {
    for (const auto& item : req.router.subdomainItems(req.target.domain())) {
      auto& e = query.addChild(std::string(kItemsNs), "item");
      e.setAttr("jid", item.jid);
      if (!item.name.empty()) e.setAttr("name", item.name);
    }
  }
  if (known) {
    query.setAttr("node", node);
    if (known->items) {
      for (const auto& item : known->items(req)) {
        auto& e = query.addChild(std::string(kItemsNs), "item");
        e.setAttr("jid", item.jid);
        if (!item.node.empty()) e.setAttr("node", item.node);
        if (!item.name.empty()) e.setAttr("name", item.name);
      }
    }
  }
  co_return reply;
}

}  // namespace

void registerDisco(router::Router& router) {
  router.addIqService(std::string(kInfoNs), {handleInfo, true, true});
  router.addIqService(std::string(kItemsNs), {handleItems, true, true});
  router.addServerFeature(std::string(kInfoNs));
  router.addServerFeature(std::string(kItemsNs));
}

}  // namespace parley::xep
