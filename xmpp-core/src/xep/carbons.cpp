// XEP-0280 Message Carbons: a client switches copies of its account's other conversations on
// and off for its own session. What is copied, and when, is the router's (router/carbons.hpp).

#include "router/carbons.hpp"
#include "router/stanza_errors.hpp"
#include "xep/services.hpp"

namespace parley::xep {
namespace {

router::Task<xml::Element> handleCarbons(router::IqRequest& req) {
  if (req.stanza.type() != "set") {
    co_return router::makeStanzaError(req.stanza.element, "bad-request",
                                      "Carbons are switched on and off with type='set'.");
  }
  // Only a session switches its own carbons: from the account itself, to itself or the server.
  if (!req.session || (!req.to_server && !req.fromOwner())) {
    co_return router::makeStanzaError(req.stanza.element, "not-allowed",
                                      "Carbons can only be switched for your own session.");
  }
  const std::string& action = req.payload.name();
  if (action != "enable" && action != "disable") {
    co_return router::makeStanzaError(req.stanza.element, "bad-request",
                                      "Expected <enable/> or <disable/>.");
  }
  // Repeating either is not an error (XEP-0280 §10.1).
  req.session->setCarbons(action == "enable");
  co_return router::makeResult(req.stanza);
}

}  // namespace

void registerCarbons(router::Router& router) {
  router.addIqService(std::string(router::carbons::kNs), {handleCarbons, true, true});
  router.addServerFeature(std::string(router::carbons::kNs));
}

}  // namespace parley::xep
