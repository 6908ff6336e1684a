// The RFC 3921 session establishment iq. RFC 6121 made it a no-op; older clients (and Pidgin)
// still send it and wait for the result, so the server answers it and advertises it as optional.

#include "xep/services.hpp"

namespace parley::xep {
namespace {

router::Task<xml::Element> handleSession(router::IqRequest& req) {
  co_return router::makeResult(req.stanza);
}

}  // namespace

void registerLegacySession(router::Router& router) {
  router.addIqService("urn:ietf:params:xml:ns:xmpp-session", {handleSession, true, true});
}

}  // namespace parley::xep
