// XEP-0045 iq: dispatch of queries to the service and to rooms, and their disco answers.

#include "xep/muc_occupant_id.hpp"
#include "xep/muc_service.hpp"

namespace parley::xep::muc {

xml::Element MucService::serviceIq(const Stanza& stanza) {
  const xml::Element* payload = stanza.element.firstChildElement();
  Stanza copy = stanza;
  xml::Element reply = router::makeResult(copy);
  if (payload && payload->is("query", kInfoNs) && payload->attrOr("node").empty()) {
    auto& q = reply.addChild(std::string(kInfoNs), "query");
    auto& id = q.addChild(std::string(kInfoNs), "identity");
    id.setAttr("category", "conference");
    id.setAttr("type", "text");
    id.setAttr("name", "Chat rooms");
    for (auto f : {kInfoNs, kItemsNs, kMucNs})
      q.addChild(std::string(kInfoNs), "feature").setAttr("var", std::string(f));
    return reply;
  }
  if (payload && payload->is("query", kItemsNs) && payload->attrOr("node").empty()) {
    auto& q = reply.addChild(std::string(kItemsNs), "query");
    std::lock_guard lock(mutex_);
    for (const auto& [jid, room] : rooms_) {
      // Members-only rooms are not listed to everyone: their names may be private.
      if (room->config.members_only || room->locked) continue;
      auto& item = q.addChild(std::string(kItemsNs), "item");
      item.setAttr("jid", jid);
      if (!room->config.name.empty()) item.setAttr("name", room->config.name);
    }
    return reply;
  }
  return router::makeStanzaError(stanza.element, "service-unavailable",
                                 "The chat room service does not answer that.");
}

xml::Element MucService::roomInfo(const Room& room, const Stanza& stanza) const {
  xml::Element reply = router::makeResult(stanza);
  auto& q = reply.addChild(std::string(kInfoNs), "query");
  auto& id = q.addChild(std::string(kInfoNs), "identity");
  id.setAttr("category", "conference");
  id.setAttr("type", "text");
  id.setAttr("name", room.config.name.empty() ? room.jid.node() : room.config.name);
  const auto& c = room.config;
  for (std::string f :
       {std::string(kMucNs), std::string(c.persistent ? "muc_persistent" : "muc_temporary"),
        std::string(c.members_only ? "muc_membersonly" : "muc_open"),
        std::string(c.moderated ? "muc_moderated" : "muc_unmoderated"),
        std::string(c.whois_anyone ? "muc_nonanonymous" : "muc_semianonymous"),
        std::string(c.password_hash ? "muc_passwordprotected" : "muc_unsecured"),
        std::string(kOccupantIdNs), std::string(kSelfPingOptimization)}) {
    q.addChild(std::string(kInfoNs), "feature").setAttr("var", f);
  }
  return reply;
}

Task<void> MucService::onIq(Stanza& stanza, const SessionPtr& session) {
  const std::string type(stanza.type());
  if (type != "get" && type != "set") co_return;
  if (stanza.to.node().empty()) {
    if (session) router_.deliver(session, serviceIq(stanza));
    co_return;
  }
  const xml::Element* payload = stanza.element.firstChildElement();
  const bool to_occupant = !stanza.to.isBare();
  if (!to_occupant && !payload) {
    router_.bounce(session, stanza.element, "bad-request", "This query carries no payload.");
    co_return;
  }
  const std::string room_jid = stanza.to.bareString();
  RoomPtr room = co_await findRoom(room_jid);
  if (!room) {
    // XEP-0410: whoever queries an occupant of a room that does not exist is not joined.
    if (session && to_occupant) {
      router_.deliver(session, errorFromRoom(stanza.to.bare(), stanza, "not-acceptable",
                                             "You are not an occupant of this room."));
    } else {
      router_.bounce(session, stanza.element, "item-not-found", "No such room.");
    }
    co_return;
  }
  std::optional<std::string> secret_hash;
  if (!to_occupant && payload->is("query", kOwnerNs) && type == "set") {
    secret_hash = co_await hashSubmittedSecret(*payload);
  }
  Effects fx;
  xml::Element reply;
  bool destroyed = false;
  {
    std::lock_guard lock(room->mutex);
    if (to_occupant) {
      reply = occupantIq(*room, stanza);
    } else if (payload->is("query", kInfoNs)) {
      reply = roomInfo(*room, stanza);
    } else if (payload->is("query", kItemsNs)) {
      reply = router::makeResult(stanza);
      reply.addChild(std::string(kItemsNs), "query");
    } else if (payload->is("query", kAdminNs)) {
      reply = adminIq(*room, stanza, room->byJid(stanza.from), fx);
    } else if (payload->is("query", kOwnerNs)) {
      reply = ownerIq(*room, stanza, secret_hash, fx);
    } else {
      reply = router::makeStanzaError(stanza.element, "feature-not-implemented",
                                      "Rooms do not answer " + payload->ns() + ".");
    }
    dropGone(*room, fx);
    if (room->occupants.empty() && !room->config.persistent) room->gone = true;
    destroyed = room->gone;
  }
  if (destroyed) forget(room);
  if (session) router_.deliver(session, std::move(reply));
  co_await runEffects(std::move(fx));
}

}  // namespace parley::xep::muc
