// XEP-0199 XMPP Ping: the server (or an account, on its owner's behalf) answers a ping.

#include "router/stanza_errors.hpp"
#include "xep/services.hpp"

namespace parley::xep {
namespace {

constexpr std::string_view kPingNs = "urn:xmpp:ping";

router::Task<xml::Element> handlePing(router::IqRequest& req) {
  if (req.stanza.type() != "get") {
    co_return router::makeStanzaError(req.stanza.element, "bad-request",
                                      "A ping is sent with type='get'.");
  }
  co_return router::makeResult(req.stanza);
}

}  // namespace

void registerPing(router::Router& router) {
  router.addIqService(std::string(kPingNs), {handlePing, true, true});
  router.addServerFeature(std::string(kPingNs));
}

}  // namespace parley::xep
