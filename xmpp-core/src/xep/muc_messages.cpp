// XEP-0045 messages: groupchat to every occupant with history kept (§7.4), subject changes
// (§8.1) and private messages between occupants (§7.5).

#include "parley/xml/serializer.hpp"
#include "xep/muc_occupant_id.hpp"
#include "xep/muc_service.hpp"

namespace parley::xep::muc {

void MucService::groupchat(Room& room, Occupant& sender, Stanza& stanza, Effects& fx) {
  const xml::Element* subject = stanza.element.child("subject", ns::kClient);
  const bool has_body = stanza.element.child("body", ns::kClient) != nullptr;
  if (subject && !has_body) {
    if (!muc::mayChangeSubject(sender.role, room.config.change_subject)) {
      router_.bounce(router_.ctx().registry().find(sender.jid), stanza.element, "forbidden",
                     "You may not change the subject of this room.");
      return;
    }
    room.subject = subject->text();
    room.subject_by = sender.nick;
    if (room.config.persistent) {
      auto record = room.record();
      fx.db.push_back([record](pqxx::connection& c) {
        storage::saveMucRoom(c, record);
        return true;
      });
    }
  } else if (!muc::maySpeak(sender.role)) {
    router_.bounce(router_.ctx().registry().find(sender.jid), stanza.element, "forbidden",
                   "Visitors may not speak in this moderated room.");
    return;
  }
  xml::Element message = stanza.element;
  message.setAttr("from", room.occupantJid(sender.nick).full());
  message.removeAttr("to");
  stampOccupantId(message, sender.occupant_id);
  for (const auto& o : room.occupants) {
    xml::Element copy = message;
    copy.setAttr("to", o.jid.full());
    send(room, o.jid, std::move(copy));
  }
  if (subject && !has_body) return;
  const int keep = std::min(room.config.history_length, kMaxHistory);
  if (keep <= 0) return;
  xml::Element stored = message;
  auto& delay = stored.addChild(std::string(kDelayNs), "delay");
  delay.setAttr("from", room.jid.full());
  delay.setAttr("stamp", router::utcTimestamp());
  auto shared = std::make_shared<const xml::Element>(stored);
  room.history.push_back(shared);
  while (room.history.size() > static_cast<size_t>(keep)) room.history.pop_front();
  if (room.config.persistent) {
    std::string text = xml::toString(stored, ns::kClient);
    std::string jid = room.jid.full();
    fx.db.push_back([jid, text, keep](pqxx::connection& c) {
      storage::appendMucHistory(c, jid, text, keep);
      return true;
    });
  }
}

// §7.5: a private message, to every session of the occupant with that nick.
void MucService::privateMessage(Room& room, const Occupant& sender, Stanza& stanza,
                                const SessionPtr& session) {
  std::vector<Jid> targets;
  for (const auto& o : room.occupants)
    if (o.nick == stanza.to.resource()) targets.push_back(o.jid);
  if (targets.empty()) {
    router_.bounce(session, stanza.element, "item-not-found", "No occupant by that nick.");
    return;
  }
  xml::Element m = stanza.element;
  m.setAttr("from", room.occupantJid(sender.nick).full());
  m.addChild(std::string(kUserNs), "x");  // XEP-0045 §7.5: marks it as from a room
  stampOccupantId(m, sender.occupant_id);
  for (const auto& t : targets) {
    xml::Element copy = m;
    copy.setAttr("to", t.full());
    send(room, t, std::move(copy));
  }
}

Task<void> MucService::onMessage(Stanza& stanza, const SessionPtr& session) {
  const std::string type(stanza.type());
  if (type == "error") co_return;
  const std::string room_jid = stanza.to.bareString();
  RoomPtr room = co_await findRoom(room_jid);
  if (!room) {
    router_.bounce(session, stanza.element, "item-not-found", "No such room.");
    co_return;
  }
  Effects fx;
  {
    std::lock_guard lock(room->mutex);
    Occupant* sender = room->byJid(stanza.from);
    const xml::Element* invitation = nullptr;
    if (const xml::Element* x = stanza.element.child("x", kUserNs))
      invitation = x->child("invite", kUserNs);
    if (stanza.to.isBare() && invitation && type != "groupchat") {
      invite(*room, sender, *invitation, stanza, session, fx);
    } else if (!sender) {
      router_.bounce(session, stanza.element, "not-acceptable",
                     "Only occupants may send messages to this room.");
    } else if (stanza.to.isBare()) {
      if (type != "groupchat") {
        router_.bounce(session, stanza.element, "bad-request",
                       "Messages to a room are of type groupchat.");
      } else {
        groupchat(*room, *sender, stanza, fx);
      }
    } else if (type == "groupchat") {
      router_.bounce(session, stanza.element, "bad-request",
                     "A private message is not of type groupchat.");
    } else {
      privateMessage(*room, *sender, stanza, session);
    }
    dropGone(*room, fx);
  }
  co_await runEffects(std::move(fx));
}

}  // namespace parley::xep::muc
