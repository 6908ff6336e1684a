// XEP-0202 Entity Time: the server's clock, in UTC.

#include "router/stanza_errors.hpp"
#include "xep/services.hpp"

namespace parley::xep {
namespace {

constexpr std::string_view kTimeNs = "urn:xmpp:time";

router::Task<xml::Element> handleTime(router::IqRequest& req) {
  if (req.stanza.type() != "get") {
    co_return router::makeStanzaError(req.stanza.element, "bad-request",
                                      "The time is queried with type='get'.");
  }
  xml::Element reply = router::makeResult(req.stanza);
  auto& time = reply.addChild(std::string(kTimeNs), "time");
  time.addChild(std::string(kTimeNs), "tzo").addText("+00:00");
  time.addChild(std::string(kTimeNs), "utc").addText(router::utcTimestamp());
  co_return reply;
}

}  // namespace

void registerTime(router::Router& router) {
  router.addIqService(std::string(kTimeNs), {handleTime, true, false});
  router.addServerFeature(std::string(kTimeNs));
}

}  // namespace parley::xep
