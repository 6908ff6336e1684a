// XEP-0016 Privacy Lists, read-only, for clients that know nothing newer: the user's XEP-0191
// blocklist shown as one privacy list, named "urn:xmpp:blocking", that is both the default and
// the active list, each blocked address an item of type 'jid' with action 'deny' (the mapping
// XEP-0191 §5 describes). Parley keeps no other kind of rule, so changes go through XEP-0191
// only: a set is answered with <feature-not-implemented/> and a text that says so.

#include "router/blocklist.hpp"
#include "router/stanza_errors.hpp"
#include "xep/services.hpp"

namespace parley::xep {
namespace {

using router::IqRequest;
using router::Task;

constexpr std::string_view kPrivacyNs = "jabber:iq:privacy";
constexpr std::string_view kListName = router::kBlockingNs;

Task<xml::Element> handlePrivacy(IqRequest& req) {
  const xml::Element& iq = req.stanza.element;
  if (!req.fromOwner()) {
    co_return router::makeStanzaError(iq, "forbidden",
                                      "Only the account's owner may read its privacy lists.");
  }
  if (req.stanza.type() == "set") {
    co_return router::makeStanzaError(
        iq, "feature-not-implemented",
        "This server's privacy lists are read-only. Block and unblock contacts with a client "
        "that supports XEP-0191 Blocking Command (urn:xmpp:blocking); the privacy list "
        "'urn:xmpp:blocking' shows the result.");
  }
  const auto lists = req.payload.childrenNamed("list", kPrivacyNs);
  size_t children = 0;
  for (const auto& node : req.payload.children()) children += node.isText() ? 0 : 1;
  if (req.payload.name() != "query" || children != lists.size() || lists.size() > 1) {
    co_return router::makeStanzaError(
        iq, "bad-request", "Ask for the list names with an empty <query/>, or for one <list/>.");
  }
  xml::Element reply = router::makeResult(req.stanza);
  auto& query = reply.addChild(std::string(kPrivacyNs), "query");
  if (lists.empty()) {
    for (const char* which : {"active", "default", "list"}) {
      query.addChild(std::string(kPrivacyNs), which).setAttr("name", std::string(kListName));
    }
    co_return reply;
  }
  const std::string name(lists.front()->attrOr("name"));
  if (name != kListName) {
    co_return router::makeStanzaError(iq, "item-not-found",
                                      "There is no privacy list '" + name + "'; the only one is '" +
                                          std::string(kListName) + "'.");
  }
  auto blocklist = co_await req.ctx.blocklists().get(req.target.full());
  auto& list = query.addChild(std::string(kPrivacyNs), "list");
  list.setAttr("name", name);
  unsigned order = 0;
  for (const auto& jid : blocklist->jids()) {
    auto& item = list.addChild(std::string(kPrivacyNs), "item");
    item.setAttr("type", "jid");
    item.setAttr("value", jid);
    item.setAttr("action", "deny");
    item.setAttr("order", std::to_string(++order));
  }
  co_return reply;
}

}  // namespace

void registerPrivacyLists(router::Router& router) {
  router.addIqService(std::string(kPrivacyNs), {handlePrivacy, false, true});
  // Advertised (XEP-0016 §3) so that clients that only know privacy lists show the blocklist.
  router.addServerFeature(std::string(kPrivacyNs));
}

}  // namespace parley::xep
