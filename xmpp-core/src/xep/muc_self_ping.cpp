// XEP-0410 MUC self-ping and queries to occupants. A client pings its own occupant JID to learn
// whether the room still knows it (after a restart or a lost link the room may have dropped it
// silently); the room answers itself rather than passing the ping to the client, which would
// cost two round trips and fail with a flaky mobile link (§3.3 server optimization):
//   result          that full JID is joined under that nick
//   not-acceptable  the sender is not an occupant of the room (XEP-0045 §7.5: non-occupants
//                   query no occupant)
//   item-not-found  the sender is joined, but nobody holds that nick (it was renamed)
// Queries between occupants are not relayed: service-unavailable, which a self-pinging client
// also reads as "still joined".

#include "xep/muc_service.hpp"

namespace parley::xep::muc {

namespace {

constexpr std::string_view kPingNs = "urn:xmpp:ping";

}  // namespace

xml::Element errorFromRoom(const Jid& room, const Stanza& stanza, std::string_view condition,
                           std::string_view text) {
  xml::Element reply = router::makeStanzaError(stanza.element, condition, text);
  // The error names who answered it: the room, not the occupant's client.
  if (auto* error = reply.child("error", ns::kClient)) error->setAttr("by", room.full());
  return reply;
}

xml::Element MucService::occupantIq(Room& room, const Stanza& stanza) {
  const Occupant* sender = room.byJid(stanza.from);
  if (!sender) {
    return errorFromRoom(room.jid, stanza, "not-acceptable",
                         "You are not an occupant of this room.");
  }
  const std::string nick = stanza.to.resource();
  const xml::Element* payload = stanza.element.firstChildElement();
  if (sender->nick == nick && stanza.type() == "get" && payload && payload->is("ping", kPingNs)) {
    Stanza copy = stanza;
    return router::makeResult(copy);
  }
  if (!room.byNick(nick)) {
    return errorFromRoom(room.jid, stanza, "item-not-found", "No occupant by that nick.");
  }
  return errorFromRoom(room.jid, stanza, "service-unavailable",
                       "Occupants do not answer queries through this room.");
}

}  // namespace parley::xep::muc
