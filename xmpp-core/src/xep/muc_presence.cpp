// XEP-0045 presence: entering a room (§7.2), changing nick (§7.6), updating presence (§7.7)
// and leaving (§7.14).

#include "xep/muc_occupant_id.hpp"
#include "xep/muc_password.hpp"
#include "xep/muc_service.hpp"

namespace parley::xep::muc {

// The password a joining client offers, checked off the io threads (PBKDF2 is slow by design)
// against the room's hash as it was read; join() accepts it only if the hash is still the same.
Task<PasswordCheck> MucService::checkPassword(RoomPtr room, const Stanza& stanza) {
  PasswordCheck check;
  const xml::Element* x = stanza.element.child("x", kMucNs);
  if (!x || !x->child("password", kMucNs)) co_return check;
  {
    std::lock_guard lock(room->mutex);
    check.hash = room->config.password_hash.value_or("");
  }
  if (check.hash.empty()) co_return check;
  auto job = [hash = check.hash, offered = x->childText("password", kMucNs)](pqxx::connection&) {
    return roomPasswordMatches(hash, offered);
  };
  check.matches = co_await router_.ctx().db().run(std::move(job));
  co_return check;
}

void MucService::join(Room& room, Stanza& stanza, const SessionPtr& session, bool created,
                      const PasswordCheck& password, Effects& fx) {
  const std::string nick = stanza.to.resource();
  const std::string bare = stanza.from.bareString();
  const Affiliation affiliation = room.affiliationOf(bare);
  if (room.locked && affiliation != Affiliation::Owner) {
    router_.bounce(session, stanza.element, "item-not-found",
                   "This room is still being configured by its owner.");
    return;
  }
  muc::JoinRequest request;
  request.affiliation = affiliation;
  request.members_only = room.config.members_only;
  request.password_protected = room.config.password_hash.has_value();
  request.password_matches = password.matches && room.config.password_hash == password.hash;
  const xml::Element* x = stanza.element.child("x", kMucNs);
  request.occupants = room.occupants.size();
  request.max_users = static_cast<size_t>(std::max(0, room.config.max_users));
  if (const Occupant* holder = room.byNick(nick)) {
    const std::string holder_bare = holder->jid.bareString();
    request.nick_taken = muc::nickTaken(holder_bare, bare);
  }
  const muc::JoinRefusal refusal = muc::checkJoin(request);
  if (refusal != muc::JoinRefusal::None) {
    static const std::map<muc::JoinRefusal, std::string_view> kWhy = {
        {muc::JoinRefusal::Banned, "You are banned from this room."},
        {muc::JoinRefusal::MembersOnly, "This room is for members only."},
        {muc::JoinRefusal::BadPassword, "This room needs the right password."},
        {muc::JoinRefusal::Full, "This room is full."},
        {muc::JoinRefusal::NickInUse, "That nickname is already in use in this room."},
    };
    router_.bounce(session, stanza.element, muc::refusalCondition(refusal), kWhy.at(refusal));
    return;
  }
  if (!created) room.fresh = false;

  Occupant occupant;
  occupant.nick = nick;
  occupant.jid = stanza.from;
  occupant.role = muc::defaultRole(affiliation, room.config.moderated);
  occupant.occupant_id = occupantId(occupant_id_secret_, room.jid.full(), bare);
  occupant.presence = stanza.element;
  occupant.presence.removeChildren("x", kMucNs);
  occupant.presence.removeAttr("to");
  occupant.presence.removeAttr("id");

  // §7.2.3: the others' presence first, then everyone hears of the newcomer (itself last).
  for (const auto& other : room.occupants) {
    send(room, occupant.jid, presenceOf(room, other, &occupant, false));
  }
  room.occupants.push_back(occupant);
  if (session) session->directed_presence_targets.insert(stanza.to.full());
  std::vector<std::string> codes;
  if (room.config.whois_anyone) codes.push_back("100");
  if (room.config.logging) codes.push_back("170");
  if (created) codes.push_back("201");
  broadcastPresence(room, occupant, codes);

  // §7.2.14: history, as asked (maxstanzas; maxchars='0' for none).
  size_t want = room.history.size();
  if (x) {
    if (const xml::Element* h = x->child("history", kMucNs)) {
      if (auto m = h->attr("maxstanzas")) {
        want = std::min<size_t>(want, static_cast<size_t>(std::max(0, intValue(*m, 0))));
      }
      if (h->attrOr("maxchars") == "0") want = 0;
    }
  }
  for (size_t i = room.history.size() - want; i < room.history.size(); ++i) {
    xml::Element m = *room.history[i];
    m.setAttr("to", occupant.jid.full());
    send(room, occupant.jid, std::move(m));
  }
  // §7.2.15: the subject, always (empty when none), last.
  xml::Element subject(std::string(ns::kClient), "message");
  subject.setAttr("type", "groupchat");
  subject.setAttr(
      "from", room.subject_by.empty() ? room.jid.full() : room.occupantJid(room.subject_by).full());
  subject.setAttr("to", occupant.jid.full());
  subject.addChild(std::string(ns::kClient), "subject").addText(room.subject);
  send(room, occupant.jid, std::move(subject));
  dropGone(room, fx);
}

void MucService::leave(Room& room, const Occupant& occupant, const xml::Element* presence,
                       std::vector<std::string> codes, Effects& fx) {
  Occupant gone = occupant;
  gone.role = Role::None;
  if (presence) {
    if (auto* status = presence->child("status", ns::kClient)) {
      gone.presence = xml::Element(std::string(ns::kClient), "presence");
      gone.presence.addChild(*status);
    }
  }
  // Everyone still there, and the one leaving (its own copy with 110).
  std::vector<Occupant> audience = room.occupants;
  std::erase_if(room.occupants, [&](const Occupant& o) { return o.jid == occupant.jid; });
  for (const auto& viewer : audience) {
    xml::Element p = presenceOf(room, gone, &viewer, true);
    if (auto* status = gone.presence.child("status", ns::kClient)) p.addChild(*status);
    std::vector<std::string> mine = codes;
    if (viewer.jid == occupant.jid) mine.insert(mine.begin(), "110");
    addCodes(p, mine);
    send(room, viewer.jid, std::move(p));
  }
  if (room.occupants.empty() && !room.config.persistent) room.gone = true;
  (void)fx;
}

void MucService::changeNick(Room& room, Occupant& occupant, const std::string& nick,
                            Stanza& stanza) {
  // §7.6: unavailable from the old nick with 303 and the new nick, then available from the new.
  broadcastPresence(room, occupant, {"303"}, nick);
  occupant.nick = nick;
  occupant.presence = stanza.element;
  occupant.presence.removeChildren("x", kMucNs);
  occupant.presence.removeAttr("to");
  occupant.presence.removeAttr("id");
  broadcastPresence(room, occupant, {});
}

Task<void> MucService::onPresence(Stanza& stanza, const SessionPtr& session) {
  const std::string type(stanza.type());
  if (type == "error" || stanza.to.isBare()) {
    if (type.empty()) {
      router_.bounce(session, stanza.element, "jid-malformed",
                     "Join a room as room@service/nickname.");
    }
    co_return;
  }
  if (!type.empty() && type != "unavailable") co_return;
  const std::string room_jid = stanza.to.bareString();
  const std::string bare = stanza.from.bareString();
  Effects fx;
  for (int attempt = 0; attempt < 3; ++attempt) {
    RoomPtr room = co_await findRoom(room_jid);
    PasswordCheck password;
    if (room && type.empty()) password = co_await checkPassword(room, stanza);
    if (!room) {
      if (type == "unavailable") co_return;
      room = createRoom(stanza.to.bare(), bare);
    }
    std::unique_lock lock(room->mutex);
    if (room->gone) continue;  // emptied or destroyed meanwhile: look again
    const bool created = room->fresh && room->occupants.empty();
    Occupant* me = room->byJid(stanza.from);
    if (type == "unavailable") {
      if (me) {
        Occupant copy = *me;
        leave(*room, copy, &stanza.element, {}, fx);
        if (session) session->directed_presence_targets.erase(stanza.to.full());
      }
    } else if (!me) {
      join(*room, stanza, session, created, password, fx);
      if (room->occupants.empty() && created) room->gone = true;  // a refused creation
    } else if (me->nick != stanza.to.resource()) {
      const std::string nick = stanza.to.resource();
      const Occupant* holder = room->byNick(nick);
      const std::string holder_bare = holder ? holder->jid.bareString() : std::string();
      if (muc::nickTaken(holder_bare, bare)) {
        router_.bounce(session, stanza.element, "conflict",
                       "That nickname is already in use in this room.");
      } else {
        if (session) {
          session->directed_presence_targets.erase(room->occupantJid(me->nick).full());
          session->directed_presence_targets.insert(stanza.to.full());
        }
        changeNick(*room, *me, nick, stanza);
      }
    } else {
      // A presence update (show, status): everyone hears it.
      me->presence = stanza.element;
      me->presence.removeChildren("x", kMucNs);
      me->presence.removeAttr("to");
      broadcastPresence(*room, *me, {});
    }
    dropGone(*room, fx);
    const bool emptied = room->gone;
    lock.unlock();
    if (emptied) forget(room);
    break;
  }
  co_await runEffects(std::move(fx));
}

}  // namespace parley::xep::muc
