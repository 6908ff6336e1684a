// XEP-0030 Service Discovery: the server's identity and features, and an account's identity.

#include <algorithm>

#include "router/stanza_errors.hpp"
#include "xep/services.hpp"

namespace parley::xep {
namespace {

using router::IqRequest;
using router::Task;

constexpr std::string_view kInfoNs = "http://jabber.org/protocol/disco#info";
constexpr std::string_view kItemsNs = "http://jabber.org/protocol/disco#items";

Task<xml::Element> handleInfo(IqRequest& req) {
  if (req.stanza.type() != "get") {
    co_return router::makeStanzaError(req.stanza.element, "bad-request",
                                      "disco#info is only queried with type='get'.");
  }
  if (!req.payload.attrOr("node").empty()) {
    co_return router::makeStanzaError(req.stanza.element, "item-not-found",
                                      "This entity has no such node.");
  }
  xml::Element reply = router::makeResult(req.stanza);
  auto& query = reply.addChild(std::string(kInfoNs), "query");
  auto& identity = query.addChild(std::string(kInfoNs), "identity");
  std::vector<std::string> features;
  if (req.to_server) {
    identity.setAttr("category", "server");
    identity.setAttr("type", "im");
    identity.setAttr("name", "Parley");
    features = req.router.serverFeatures();
  } else {
    identity.setAttr("category", "account");
    identity.setAttr("type", "registered");
    features = {std::string(kInfoNs), std::string(kItemsNs), "vcard-temp", "jabber:iq:last",
                "urn:xmpp:ping"};
  }
  // Policy modules hide what is not allowed (no "send file" button for a disabled transfer).
  req.ctx.modules().runDiscoInfo(req.target, features);
  std::sort(features.begin(), features.end());
  features.erase(std::unique(features.begin(), features.end()), features.end());
  for (const auto& f : features) query.addChild(std::string(kInfoNs), "feature").setAttr("var", f);
  co_return reply;
}

Task<xml::Element> handleItems(IqRequest& req) {
  if (req.stanza.type() != "get") {
    co_return router::makeStanzaError(req.stanza.element, "bad-request",
                                      "disco#items is only queried with type='get'.");
  }
  xml::Element reply = router::makeResult(req.stanza);
  // No components or nodes yet (MUC and PEP arrive with issue 4): an empty list is the truth.
  reply.addChild(std::string(kItemsNs), "query");
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
