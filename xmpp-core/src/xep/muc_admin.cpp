// XEP-0045 muc#admin: kicking (§8.2), voice and moderator status (§8.5-§8.6, §9.6-§9.7),
// affiliation lists (§9.5, §9.8) and affiliation
// changes (§9.1-§9.4, §10.3-§10.7) with what they do to the occupants of that user.

#include "xep/muc_service.hpp"

namespace parley::xep::muc {

void MucService::setAffiliation(Room& room, const std::string& bare, Affiliation affiliation,
                                Effects& fx) {
  if (affiliation == Affiliation::None) {
    room.affiliations.erase(bare);
  } else {
    room.affiliations[bare] = affiliation;
  }
  if (room.config.persistent) {
    std::string jid = room.jid.full(), name(muc::affiliationName(affiliation)), who = bare;
    fx.db.push_back([jid, who, name](pqxx::connection& c) {
      storage::setMucAffiliation(c, jid, who, name);
      return true;
    });
  }
  // The occupants of that user: banned ones leave (301), in a members-only room those no longer
  // members leave (321), the others keep their seat with a new role.
  std::vector<Occupant> affected;
  for (const auto& o : room.occupants)
    if (o.jid.bareString() == bare) affected.push_back(o);
  for (auto& o : affected) {
    if (affiliation == Affiliation::Outcast) {
      leave(room, o, nullptr, {"301"}, fx);
    } else if (room.config.members_only && affiliation < Affiliation::Member) {
      leave(room, o, nullptr, {"321"}, fx);
    } else if (Occupant* live = room.byJid(o.jid)) {
      live->role = muc::defaultRole(affiliation, room.config.moderated);
      broadcastPresence(room, *live, {});
    }
  }
}

// Every session under that nick gets the role; everyone sees the new presence.
void MucService::setRole(Room& room, const std::string& nick, Role role) {
  for (auto& o : room.occupants) {
    if (o.nick != nick || o.role == role) continue;
    o.role = role;
    broadcastPresence(room, o, {});
  }
}

xml::Element MucService::adminIq(Room& room, Stanza& stanza, const Occupant* actor, Effects& fx) {
  const xml::Element& query = *stanza.element.child("query", kAdminNs);
  const std::string actor_bare = stanza.from.bareString();
  const Affiliation actor_affiliation = room.affiliationOf(actor_bare);
  if (stanza.type() == "get") {
    // §9.5, §9.8: lists of an affiliation, for admins and owners.
    const xml::Element* asked = query.child("item", kAdminNs);
    auto affiliation = asked ? muc::parseAffiliation(asked->attrOr("affiliation")) : std::nullopt;
    if (!affiliation) {
      return router::makeStanzaError(stanza.element, "bad-request",
                                     "Ask for the list of one affiliation.");
    }
    if (actor_affiliation < Affiliation::Admin) {
      return router::makeStanzaError(stanza.element, "forbidden",
                                     "Only admins and owners see the room's lists.");
    }
    xml::Element reply = router::makeResult(stanza);
    auto& q = reply.addChild(std::string(kAdminNs), "query");
    for (const auto& [bare, a] : room.affiliations) {
      if (a != *affiliation) continue;
      auto& item = q.addChild(std::string(kAdminNs), "item");
      item.setAttr("affiliation", std::string(muc::affiliationName(a)));
      item.setAttr("jid", bare);
    }
    return reply;
  }
  for (const xml::Element* item : query.childrenNamed("item", kAdminNs)) {
    if (auto role_name = item->attr("role")) {
      // §8.2 kick (none), §8.5-§8.6 voice (participant, visitor), §9.6-§9.7 moderator.
      auto role = muc::parseRole(*role_name);
      if (!role) {
        return router::makeStanzaError(stanza.element, "bad-request",
                                       "Roles are none, visitor, participant or moderator.");
      }
      Occupant* target = room.byNick(item->attrOr("nick"));
      if (!target) {
        return router::makeStanzaError(stanza.element, "item-not-found",
                                       "No occupant by that nick.");
      }
      const std::string target_bare = target->jid.bareString();
      if (!actor || !muc::mayChangeRole(actor->role, actor_affiliation, target->role,
                                        room.affiliationOf(target_bare), *role)) {
        return router::makeStanzaError(stanza.element, "not-allowed",
                                       *role == Role::None
                                           ? "You may not kick that occupant."
                                           : "You may not give that occupant this role.");
      }
      const std::string nick = target->nick;
      if (*role == Role::None) {
        std::vector<Occupant> kicked;
        for (const auto& o : room.occupants)
          if (o.nick == nick) kicked.push_back(o);
        for (auto& o : kicked) leave(room, o, nullptr, {"307"}, fx);
      } else {
        setRole(room, nick, *role);
      }
      continue;
    }
    auto affiliation = muc::parseAffiliation(item->attrOr("affiliation"));
    std::string bare;
    if (auto jid = Jid::parse(item->attrOr("jid"))) {
      bare = jid->bareString();
    } else if (const Occupant* o = room.byNick(item->attrOr("nick"))) {
      bare = o->jid.bareString();
    }
    if (!affiliation || bare.empty()) {
      return router::makeStanzaError(stanza.element, "bad-request",
                                     "Each item names a role and nick, or an affiliation and jid.");
    }
    if (!muc::mayChangeAffiliation(actor_affiliation, room.affiliationOf(bare), *affiliation)) {
      return router::makeStanzaError(stanza.element, "not-allowed",
                                     "You may not change that user's affiliation.");
    }
    if (bare == actor_bare && *affiliation != Affiliation::Owner &&
        actor_affiliation == Affiliation::Owner) {
      // §10.9: the last owner cannot step down.
      size_t owners = 0;
      for (const auto& [b, a] : room.affiliations) owners += a == Affiliation::Owner;
      if (owners <= 1) {
        return router::makeStanzaError(stanza.element, "conflict",
                                       "A room keeps at least one owner.");
      }
    }
    setAffiliation(room, bare, *affiliation, fx);
  }
  return router::makeResult(stanza);
}

}  // namespace parley::xep::muc
