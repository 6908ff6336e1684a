// XEP-0045 §7.8.2 mediated invitations: an occupant asks the room to invite someone; the room
// passes the invitation on in its own name, with the password the invitee will need.

#include "xep/muc_service.hpp"

namespace parley::xep::muc {

void MucService::invite(Room& room, const Occupant* sender, const xml::Element& invitation,
                        Stanza& stanza, const SessionPtr& session) {
  auto to = Jid::parse(invitation.attrOr("to"));
  if (!sender || !to) {
    router_.bounce(
        session, stanza.element, sender ? "jid-malformed" : "not-acceptable",
        sender ? "The invitation names no valid address." : "Only occupants may invite others.");
    return;
  }
  xml::Element m(std::string(ns::kClient), "message");
  m.setAttr("from", room.jid.full());
  m.setAttr("to", to->full());
  auto& x = m.addChild(std::string(kUserNs), "x");
  auto& inv = x.addChild(std::string(kUserNs), "invite");
  inv.setAttr("from", stanza.from.full());
  if (const auto* reason = invitation.child("reason", kUserNs)) inv.addChild(*reason);
  if (room.config.password)
    x.addChild(std::string(kUserNs), "password").addText(*room.config.password);
  router_.sendFromServer(std::move(m));
}

}  // namespace parley::xep::muc
