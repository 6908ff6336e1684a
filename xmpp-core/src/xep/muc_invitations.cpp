// XEP-0045 §7.8.2 mediated invitations: an occupant asks the room to invite someone; the room
// passes the invitation on in its own name (without a password: the room keeps only its hash,
// xep/muc_password, so the inviter tells the invitee the password if there is one). In a
// members-only room only those who may grant membership invite (admins and owners, members when
// the room allows it), and the invitation makes the invitee a member (stored with the room's
// other affiliations), so it can enter.

#include "xep/muc_service.hpp"

namespace parley::xep::muc {

void MucService::invite(Room& room, const Occupant* sender, const xml::Element& invitation,
                        Stanza& stanza, const SessionPtr& session, Effects& fx) {
  auto to = Jid::parse(invitation.attrOr("to"));
  if (!sender || !to) {
    router_.bounce(
        session, stanza.element, sender ? "jid-malformed" : "not-acceptable",
        sender ? "The invitation names no valid address." : "Only occupants may invite others.");
    return;
  }
  if (room.config.members_only) {
    const Affiliation inviter = room.affiliationOf(sender->jid.bareString());
    if (!mayInviteToMembersOnly(inviter, room.config.allow_invites)) {
      router_.bounce(session, stanza.element, "forbidden",
                     room.config.allow_invites
                         ? "Only members invite others to this members-only room."
                         : "Only admins and owners invite others to this members-only room.");
      return;
    }
    // An outcast stays banned: an invitation does not lift a ban.
    const std::string invitee = to->bareString();
    if (room.affiliationOf(invitee) == Affiliation::None) {
      setAffiliation(room, invitee, Affiliation::Member, fx);
    }
  }
  xml::Element m(std::string(ns::kClient), "message");
  m.setAttr("from", room.jid.full());
  m.setAttr("to", to->full());
  auto& x = m.addChild(std::string(kUserNs), "x");
  auto& inv = x.addChild(std::string(kUserNs), "invite");
  inv.setAttr("from", stanza.from.full());
  if (const auto* reason = invitation.child("reason", kUserNs)) inv.addChild(*reason);
  router_.sendFromServer(std::move(m));
}

}  // namespace parley::xep::muc
