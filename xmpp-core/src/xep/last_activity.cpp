// XEP-0012 Last Activity: the server's uptime, or how long ago an account was last online. An
// account's last activity is presence information, so only the owner and contacts subscribed to
// its presence may ask (XEP-0012 §4.1).

#include <ctime>

#include "router/stanza_errors.hpp"
#include "xep/services.hpp"

namespace parley::xep {
namespace {

constexpr std::string_view kLastNs = "jabber:iq:last";

router::Task<xml::Element> handleLast(router::IqRequest& req) {
  if (req.stanza.type() != "get") {
    co_return router::makeStanzaError(req.stanza.element, "bad-request",
                                      "Last activity is queried with type='get'.");
  }
  xml::Element reply = router::makeResult(req.stanza);
  auto& query = reply.addChild(std::string(kLastNs), "query");
  if (req.to_server) {
    auto up = std::chrono::steady_clock::now() - req.ctx.startedAt();
    query.setAttr("seconds",
                  std::to_string(std::chrono::duration_cast<std::chrono::seconds>(up).count()));
    co_return reply;
  }
  const std::string owner = req.target.full();
  const std::string asker = req.stanza.from.bare().full();
  if (!req.fromOwner()) {
    auto job = [owner, asker](pqxx::connection& c) {
      auto item = storage::loadRosterItem(c, owner, asker);
      return item && (item->subscription == "from" || item->subscription == "both");
    };
    bool allowed = co_await req.ctx.db().run(std::move(job));
    if (!allowed) {
      co_return router::makeStanzaError(req.stanza.element, "forbidden",
                                        "You are not subscribed to this contact's presence.");
    }
  }
  for (const auto& s : req.ctx.registry().sessionsOf(owner)) {
    if (s->available()) {
      query.setAttr("seconds", "0");  // online now
      co_return reply;
    }
  }
  auto last = req.ctx.lastActivity().pending(owner);
  if (!last) {
    auto job = [owner](pqxx::connection& c) { return storage::loadLastActivity(c, owner); };
    last = co_await req.ctx.db().run(std::move(job));
  }
  if (!last) {
    co_return router::makeStanzaError(req.stanza.element, "item-not-found",
                                      "This account has not been online yet.");
  }
  int64_t seconds = std::max<int64_t>(0, std::time(nullptr) - last->logout_unix);
  query.setAttr("seconds", std::to_string(seconds));
  if (!last->status.empty()) query.addText(last->status);
  co_return reply;
}

}  // namespace

void registerLastActivity(router::Router& router) {
  router.addIqService(std::string(kLastNs), {handleLast, true, true});
  router.addServerFeature(std::string(kLastNs));
}

}  // namespace parley::xep
