// XEP-0092 Software Version. Operators who prefer not to reveal it set server.hide_version.

#include <sys/utsname.h>

#include "router/stanza_errors.hpp"
#include "xep/services.hpp"

namespace parley::xep {
namespace {

constexpr std::string_view kVersionNs = "jabber:iq:version";

router::Task<xml::Element> handleVersion(router::IqRequest& req) {
  if (req.ctx.config()->server.hide_version) {
    co_return router::makeStanzaError(req.stanza.element, "service-unavailable",
                                      "This server does not disclose its version.");
  }
  if (req.stanza.type() != "get") {
    co_return router::makeStanzaError(req.stanza.element, "bad-request",
                                      "The version is queried with type='get'.");
  }
  xml::Element reply = router::makeResult(req.stanza);
  auto& query = reply.addChild(std::string(kVersionNs), "query");
  query.addChild(std::string(kVersionNs), "name").addText("Parley");
  query.addChild(std::string(kVersionNs), "version").addText(PARLEY_VERSION);
  struct utsname uts {};
  if (uname(&uts) == 0) query.addChild(std::string(kVersionNs), "os").addText(uts.sysname);
  co_return reply;
}

}  // namespace

void registerVersion(router::Router& router) {
  router.addIqService(std::string(kVersionNs), {handleVersion, true, false});
  router.addServerFeature(std::string(kVersionNs));
}

}  // namespace parley::xep
