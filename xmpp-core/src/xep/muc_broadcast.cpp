// XEP-0045 delivery: stanzas to occupants (noting those whose session is gone) and the
// presence of one occupant as each other occupant sees it (§7.2.3, §7.2.4 real JIDs).

#include "xep/muc_occupant_id.hpp"
#include "xep/muc_service.hpp"

namespace parley::xep::muc {

void MucService::send(Room& room, const Jid& to, xml::Element stanza) {
  sendShared(room, to, std::make_shared<const xml::Element>(std::move(stanza)));
}

void MucService::sendShared(Room& room, const Jid& to,
                            const std::shared_ptr<const xml::Element>& s) {
  if (auto session = router_.ctx().registry().find(to)) {
    router_.deliver(session, s);
  } else {
    room.unreachable.push_back(to);
  }
}

// Occupants whose session ended without the room hearing of it are removed (and the others
// told, which may find more).
void MucService::dropGone(Room& room, Effects& fx) {
  while (!room.unreachable.empty()) {
    Jid jid = room.unreachable.back();
    room.unreachable.pop_back();
    if (Occupant* o = room.byJid(jid)) {
      Occupant copy = *o;
      leave(room, copy, nullptr, {}, fx);
    }
  }
}

xml::Element MucService::presenceOf(const Room& room, const Occupant& occupant,
                                    const Occupant* viewer, bool unavailable) const {
  xml::Element p =
      unavailable ? xml::Element(std::string(ns::kClient), "presence") : occupant.presence;
  if (unavailable) p.setAttr("type", "unavailable");
  p.setAttr("from", room.occupantJid(occupant.nick).full());
  if (viewer) p.setAttr("to", viewer->jid.full());
  auto& x = p.addChild(std::string(kUserNs), "x");
  auto& item = x.addChild(std::string(kUserNs), "item");
  item.setAttr("affiliation",
               std::string(muc::affiliationName(room.affiliationOf(occupant.jid.bareString()))));
  item.setAttr("role", std::string(muc::roleName(unavailable ? Role::None : occupant.role)));
  if (room.config.whois_anyone || !viewer || viewer->role == Role::Moderator ||
      viewer->jid == occupant.jid) {
    item.setAttr("jid", occupant.jid.full());
  }
  stampOccupantId(p, occupant.occupant_id);
  return p;
}

void addCodes(xml::Element& presence, const std::vector<std::string>& codes) {
  auto* x = presence.child("x", kUserNs);
  for (const auto& code : codes) x->addChild(std::string(kUserNs), "status").setAttr("code", code);
}

// `occupant`'s presence to everyone in the room; its own copy carries 110 and `self_codes`.
void MucService::broadcastPresence(Room& room, const Occupant& occupant,
                                   std::vector<std::string> self_codes,
                                   const std::string& new_nick) {
  const bool leaving = occupant.role == Role::None || !new_nick.empty();
  for (const auto& viewer : room.occupants) {
    xml::Element p = presenceOf(room, occupant, &viewer, leaving);
    if (!new_nick.empty()) {
      // §7.6.3: the old nick's unavailable keeps the role; the occupant does not really leave.
      auto* it = p.child("x", kUserNs)->child("item", kUserNs);
      it->setAttr("nick", new_nick);
      it->setAttr("role", std::string(muc::roleName(occupant.role)));
    }
    std::vector<std::string> codes = self_codes;
    if (viewer.jid == occupant.jid) {
      codes.insert(codes.begin(), "110");
    } else {
      // Codes about the room (100, 170, 201) concern the occupant alone; what happened (303,
      // 307, 301) everyone.
      std::erase_if(codes,
                    [](const std::string& c) { return c == "100" || c == "170" || c == "201"; });
    }
    addCodes(p, codes);
    send(room, viewer.jid, std::move(p));
  }
}

}  // namespace parley::xep::muc
