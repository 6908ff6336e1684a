// XEP-0054 vcard-temp: each account's vCard, stored in PostgreSQL as the serialized element.
// Anyone on the server may read a vCard (it is the directory entry clients show); only the
// owner may change it. Its PHOTO and the XEP-0084 avatar are kept one (xep/avatar_sync).

#include "parley/xml/serializer.hpp"
#include "router/stanza_errors.hpp"
#include "xep/avatar_sync.hpp"
#include "xep/services.hpp"

namespace parley::xep {
namespace {

constexpr std::string_view kVcardNs = "vcard-temp";

router::Task<xml::Element> handleVcard(router::IqRequest& req) {
  const std::string owner = req.target.bareString();
  if (req.stanza.type() == "set") {
    if (!req.fromOwner()) {
      co_return router::makeStanzaError(req.stanza.element, "forbidden",
                                        "You may only change your own vCard.");
    }
    if (req.payload.name() != "vCard") {
      co_return router::makeStanzaError(req.stanza.element, "bad-request",
                                        "Expected a <vCard xmlns='vcard-temp'/> element.");
    }
    // The avatar before this change, so a changed PHOTO is published to PEP (XEP-0398).
    co_await avatars::currentHash(req.router, owner);
    std::string text = xml::toString(req.payload);
    auto job = [owner, text](pqxx::connection& c) { storage::saveVcard(c, owner, text); };
    co_await req.ctx.db().run(std::move(job));
    xml::Element vcard = req.payload;
    co_await avatars::vcardStored(req.router, owner, std::move(vcard));
    co_return router::makeResult(req.stanza);
  }
  xml::Element reply = router::makeResult(req.stanza);
  auto job = [owner](pqxx::connection& c) { return storage::loadVcard(c, owner); };
  auto stored = co_await req.ctx.db().run(std::move(job));
  std::optional<xml::Element> vcard;
  if (stored) vcard = router::parseStoredStanza(*stored);
  if (vcard) {
    reply.addChild(std::move(*vcard));
  } else {
    reply.addChild(std::string(kVcardNs), "vCard");  // an empty vCard, as XEP-0054 §3.1 allows
  }
  co_return reply;
}

}  // namespace

void registerVcard(router::Router& router) {
  router.addIqService(std::string(kVcardNs), {handleVcard, false, true});
  router.addServerFeature(std::string(kVcardNs));
}

}  // namespace parley::xep
