// XEP-0049 private XML storage (jabber:iq:private): an account keeps XML fragments on the
// server, each under its root element, for its own clients only. Older clients keep their
// preferences and XEP-0048 bookmarks here; newer ones use PEP (XEP-0223, XEP-0402), and
// bookmarks_compat keeps the two bookmark lists one (XEP-0402 §5.3).

#include "parley/xml/serializer.hpp"
#include "router/stanza_errors.hpp"
#include "storage/private_store.hpp"
#include "xep/bookmark_conversion.hpp"
#include "xep/bookmarks_compat.hpp"
#include "xep/services.hpp"

namespace parley::xep {
namespace {

constexpr std::string_view kPrivateNs = "jabber:iq:private";

// Namespaces that are not anybody's private data (XEP-0049 §2.2).
bool reservedNamespace(std::string_view ns) {
  return ns.empty() || ns == kPrivateNs || ns == "jabber:client" || ns == "jabber:server";
}

router::Task<xml::Element> handlePrivate(router::IqRequest& req) {
  if (!req.fromOwner()) {
    co_return router::makeStanzaError(req.stanza.element, "forbidden",
                                      "Private storage belongs to its account alone.");
  }
  std::vector<const xml::Element*> fragments;
  for (const auto& child : req.payload.children())
    if (child.element) fragments.push_back(child.element.get());
  if (fragments.empty()) {
    co_return router::makeStanzaError(req.stanza.element, "bad-request",
                                      "Name the fragment: <query xmlns='jabber:iq:private'><name "
                                      "xmlns='your:namespace'/></query>.");
  }
  for (const auto* f : fragments) {
    if (reservedNamespace(f->ns())) {
      co_return router::makeStanzaError(
          req.stanza.element, "not-acceptable",
          "Private storage keeps fragments in their own namespace, not '" + f->ns() + "'.");
    }
  }
  const std::string owner = req.target.bareString();
  if (req.stanza.type() == "set") {
    std::vector<storage::PrivateFragment> store;
    for (const auto* f : fragments) store.push_back({f->ns(), f->name(), xml::toString(*f)});
    auto job = [owner, store](pqxx::connection& c) {
      storage::savePrivateFragments(c, owner, store);
    };
    co_await req.ctx.db().run(std::move(job));
    for (const auto* f : fragments) {
      if (!f->is("storage", bookmarks::kLegacyNs)) continue;
      xml::Element legacy = *f;
      co_await bookmarks::legacyStored(req.router, owner, std::move(legacy));
    }
    co_return router::makeResult(req.stanza);
  }
  if (fragments.size() != 1) {
    co_return router::makeStanzaError(req.stanza.element, "bad-request",
                                      "Ask for one fragment at a time.");
  }
  const std::string ns = fragments.front()->ns(), name = fragments.front()->name();
  auto job = [owner, ns, name](pqxx::connection& c) {
    return storage::loadPrivateFragment(c, owner, ns, name);
  };
  auto stored = co_await req.ctx.db().run(std::move(job));
  xml::Element reply = router::makeResult(req.stanza);
  auto& query = reply.addChild(std::string(kPrivateNs), "query");
  std::optional<xml::Element> fragment;
  if (stored) fragment = router::parseStoredStanza(*stored);
  if (ns == bookmarks::kLegacyNs && name == "storage") {
    // The bookmarks newer clients keep in PEP, as this older protocol shows them.
    auto native = co_await bookmarks::legacyView(req.router, owner, fragment);
    if (native) fragment = std::move(native);
  }
  // Nothing stored yet: the empty element asked for (XEP-0049 §2.3).
  query.addChild(fragment ? std::move(*fragment) : xml::Element(ns, name));
  co_return reply;
}

}  // namespace

void registerPrivateStorage(router::Router& router) {
  router.addIqService(std::string(kPrivateNs), {handlePrivate, false, true});
  router.addAccountFeature(std::string(kPrivateNs));
}

}  // namespace parley::xep
