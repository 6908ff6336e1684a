// XEP-0045 Multi-User Chat on conference.<domain>: rooms created on first join, occupants with
// nicks, roles and affiliations, presence and groupchat broadcast, history, private messages,
// kick/ban/member lists (muc#admin), configuration and destruction (muc#owner), and persistent
// rooms kept in PostgreSQL (storage/muc_store).
//
// Stanzas reach the service after the policy chain in Router::fromClient, so a room message
// passes the same modules as a 1:1 message, and every delivery to an occupant goes through
// Router::deliver (stanza.deliver). A room's state is guarded by its own mutex: the io threads
// of different occupants meet there. Deliveries happen under that mutex (deliver() only queues)
// so every occupant sees one order; database writes wait until the mutex is released.

#include <atomic>
#include <deque>
#include <mutex>

#include "parley/xml/serializer.hpp"
#include "router/stanza_errors.hpp"
#include "storage/muc_store.hpp"
#include "util/log.hpp"
#include "xep/data_form.hpp"
#include "xep/muc_rules.hpp"
#include "xep/services.hpp"

namespace parley::xep {
namespace {

using muc::Affiliation;
using muc::Role;
using router::SessionPtr;
using router::Task;

constexpr std::string_view kMucNs = "http://jabber.org/protocol/muc";
constexpr std::string_view kUserNs = "http://jabber.org/protocol/muc#user";
constexpr std::string_view kAdminNs = "http://jabber.org/protocol/muc#admin";
constexpr std::string_view kOwnerNs = "http://jabber.org/protocol/muc#owner";
constexpr std::string_view kInfoNs = "http://jabber.org/protocol/disco#info";
constexpr std::string_view kItemsNs = "http://jabber.org/protocol/disco#items";
constexpr std::string_view kDelayNs = "urn:xmpp:delay";
constexpr std::string_view kConfigFormType = "http://jabber.org/protocol/muc#roomconfig";
constexpr int kMaxHistory = 100;  // the most any room keeps, whatever its configuration says

struct Occupant {
  std::string nick;
  Jid jid;  // the occupant's full JID
  Role role = Role::Participant;
  xml::Element presence;  // its last available presence, without <x/> extensions of ours
};

struct Room {
  std::mutex mutex;
  Jid jid;  // room@conference.domain
  storage::MucRoomConfig config;
  std::string subject, subject_by;
  std::map<std::string, Affiliation> affiliations;  // by bare JID
  std::vector<Occupant> occupants;                  // in order of joining
  std::deque<std::shared_ptr<const xml::Element>> history;
  bool fresh = false;   // just created: the owner may still ask for the configuration form
  bool locked = false;  // §10.1.1: created with a configuration request, not yet configured
  // Destroyed or emptied: a new request must look the room up again. Read without the mutex
  // by findRoom().
  std::atomic<bool> gone = false;
  std::vector<Jid> unreachable;  // occupants found without a session during a delivery

  Affiliation affiliationOf(const std::string& bare) const {
    auto it = affiliations.find(bare);
    return it == affiliations.end() ? Affiliation::None : it->second;
  }
  Occupant* byNick(std::string_view nick) {
    for (auto& o : occupants)
      if (o.nick == nick) return &o;
    return nullptr;
  }
  Occupant* byJid(const Jid& jid) {
    for (auto& o : occupants)
      if (o.jid == jid) return &o;
    return nullptr;
  }
  Jid occupantJid(std::string_view nick) const { return jid.withResource(nick).value_or(jid); }
  storage::MucRoomRecord record() const {
    storage::MucRoomRecord r;
    r.jid = jid.full();
    r.config = config;
    r.subject = subject;
    r.subject_by = subject_by;
    for (const auto& [bare, a] : affiliations)
      r.affiliations[bare] = std::string(muc::affiliationName(a));
    return r;
  }
};
using RoomPtr = std::shared_ptr<Room>;
using DbJob = std::function<bool(pqxx::connection&)>;

// What one handler does to a room beyond delivering: database writes, run once the room's
// mutex is released.
struct Effects {
  std::vector<DbJob> db;
};

class MucService {
 public:
  explicit MucService(router::Router& router) : router_(router) {}

  Task<void> handle(Stanza& stanza, const SessionPtr& session);

 private:
  // The room in memory, or loaded from the database, or null when there is none.
  Task<RoomPtr> findRoom(std::string jid);
  RoomPtr createRoom(const Jid& jid, const std::string& owner);
  void forget(const RoomPtr& room);

  Task<void> onPresence(Stanza& stanza, const SessionPtr& session);
  Task<void> onMessage(Stanza& stanza, const SessionPtr& session);
  Task<void> onIq(Stanza& stanza, const SessionPtr& session);
  xml::Element serviceIq(const Stanza& stanza);

  // Under the room's mutex.
  void join(Room& room, Stanza& stanza, const SessionPtr& session, bool created, Effects& fx);
  void leave(Room& room, const Occupant& occupant, const xml::Element* presence,
             std::vector<std::string> codes, Effects& fx);
  void changeNick(Room& room, Occupant& occupant, const std::string& nick, Stanza& stanza);
  void broadcastPresence(Room& room, const Occupant& occupant, std::vector<std::string> self_codes,
                         const std::string& new_nick = {});
  void send(Room& room, const Jid& to, xml::Element stanza);
  void sendShared(Room& room, const Jid& to, const std::shared_ptr<const xml::Element>& stanza);
  void dropGone(Room& room, Effects& fx);
  xml::Element presenceOf(const Room& room, const Occupant& occupant, const Occupant* viewer,
                          bool unavailable) const;
  void groupchat(Room& room, Occupant& sender, Stanza& stanza, Effects& fx);
  xml::Element adminIq(Room& room, Stanza& stanza, const Occupant* actor, Effects& fx);
  xml::Element ownerIq(Room& room, Stanza& stanza, Effects& fx);
  xml::Element roomInfo(const Room& room, const Stanza& stanza) const;
  void setAffiliation(Room& room, const std::string& bare, Affiliation affiliation, Effects& fx);
  void destroy(Room& room, Effects& fx);

  Task<void> runEffects(Effects fx);

  router::Router& router_;
  std::mutex mutex_;
  std::map<std::string, RoomPtr> rooms_;
};

// ---- small helpers ----

bool isTrue(const std::map<std::string, std::vector<std::string>>& values, const std::string& var,
            bool fallback) {
  auto it = values.find(var);
  if (it == values.end() || it->second.empty()) return fallback;
  return it->second[0] == "1" || it->second[0] == "true";
}

std::string valueOf(const std::map<std::string, std::vector<std::string>>& values,
                    const std::string& var, std::string fallback) {
  auto it = values.find(var);
  if (it == values.end() || it->second.empty()) return fallback;
  return it->second[0];
}

int intValue(const std::string& text, int fallback) {
  try {
    return std::stoi(text);
  } catch (const std::exception&) {
    return fallback;
  }
}

std::string bool01(bool b) { return b ? "1" : "0"; }

// ---- rooms ----

Task<RoomPtr> MucService::findRoom(std::string jid) {
  {
    std::lock_guard lock(mutex_);
    auto it = rooms_.find(jid);
    if (it != rooms_.end()) {
      if (!it->second->gone) co_return it->second;
      rooms_.erase(it);
    }
  }
  auto job = [jid](pqxx::connection& c) { return storage::loadMucRoom(c, jid); };
  std::optional<storage::MucRoomRecord> record = co_await router_.ctx().db().run(std::move(job));
  if (!record) co_return nullptr;
  auto room = std::make_shared<Room>();
  room->jid = *Jid::parse(jid);
  room->config = record->config;
  room->subject = record->subject;
  room->subject_by = record->subject_by;
  for (const auto& [bare, name] : record->affiliations) {
    if (auto a = muc::parseAffiliation(name)) room->affiliations[bare] = *a;
  }
  for (const auto& text : record->history) {
    if (auto e = router::parseStoredStanza(text))
      room->history.push_back(std::make_shared<const xml::Element>(std::move(*e)));
  }
  std::lock_guard lock(mutex_);
  auto& slot = rooms_[jid];
  if (!slot || slot->gone) slot = room;
  co_return slot;  // another request may have loaded it meanwhile: theirs wins
}

RoomPtr MucService::createRoom(const Jid& jid, const std::string& owner) {
  std::lock_guard lock(mutex_);
  auto& slot = rooms_[jid.full()];
  if (!slot || slot->gone) {
    slot = std::make_shared<Room>();
    slot->jid = jid;
    slot->affiliations[owner] = Affiliation::Owner;
    slot->fresh = true;
  }
  return slot;
}

void MucService::forget(const RoomPtr& room) {
  room->gone = true;
  std::lock_guard lock(mutex_);
  auto it = rooms_.find(room->jid.full());
  if (it != rooms_.end() && it->second == room) rooms_.erase(it);
}

Task<void> MucService::runEffects(Effects fx) {
  for (auto& job : fx.db) {
    try {
      co_await router_.ctx().db().run(std::move(job));
    } catch (const std::exception& e) {
      log::error("muc: storing a room change failed: ", e.what());
    }
  }
}

// ---- delivery ----

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
      // Codes about the room (100, 201) concern the occupant alone; what happened (303, 307,
      // 301) everyone.
      std::erase_if(codes, [](const std::string& c) { return c == "100" || c == "201"; });
    }
    addCodes(p, codes);
    send(room, viewer.jid, std::move(p));
  }
}

// ---- presence: join, nick change, leave ----

void MucService::join(Room& room, Stanza& stanza, const SessionPtr& session, bool created,
                      Effects& fx) {
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
  request.password_protected = room.config.password.has_value();
  const xml::Element* x = stanza.element.child("x", kMucNs);
  if (room.config.password && x) {
    request.password_matches = x->childText("password", kMucNs) == *room.config.password;
  }
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
      join(*room, stanza, session, created, fx);
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

// ---- messages ----

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
    const xml::Element* invite = nullptr;
    if (const xml::Element* x = stanza.element.child("x", kUserNs))
      invite = x->child("invite", kUserNs);
    if (stanza.to.isBare() && invite && type != "groupchat") {
      // §7.8.2: a mediated invitation, passed on from the room.
      auto to = Jid::parse(invite->attrOr("to"));
      if (!sender || !to) {
        router_.bounce(session, stanza.element, sender ? "jid-malformed" : "not-acceptable",
                       sender ? "The invitation names no valid address."
                              : "Only occupants may invite others.");
      } else {
        xml::Element m(std::string(ns::kClient), "message");
        m.setAttr("from", room->jid.full());
        m.setAttr("to", to->full());
        auto& x = m.addChild(std::string(kUserNs), "x");
        auto& inv = x.addChild(std::string(kUserNs), "invite");
        inv.setAttr("from", stanza.from.full());
        if (const auto* reason = invite->child("reason", kUserNs)) inv.addChild(*reason);
        if (room->config.password)
          x.addChild(std::string(kUserNs), "password").addText(*room->config.password);
        router_.sendFromServer(std::move(m));
      }
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
      // §7.5: a private message, to every session of the occupant with that nick.
      std::vector<Jid> targets;
      for (const auto& o : room->occupants)
        if (o.nick == stanza.to.resource()) targets.push_back(o.jid);
      if (targets.empty()) {
        router_.bounce(session, stanza.element, "item-not-found", "No occupant by that nick.");
      } else {
        xml::Element m = stanza.element;
        m.setAttr("from", room->occupantJid(sender->nick).full());
        m.addChild(std::string(kUserNs), "x");  // XEP-0045 §7.5: marks it as from a room
        for (const auto& t : targets) {
          xml::Element copy = m;
          copy.setAttr("to", t.full());
          send(*room, t, std::move(copy));
        }
      }
    }
    dropGone(*room, fx);
  }
  co_await runEffects(std::move(fx));
}

// ---- iq ----

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
        std::string(c.password ? "muc_passwordprotected" : "muc_unsecured")}) {
    q.addChild(std::string(kInfoNs), "feature").setAttr("var", f);
  }
  return reply;
}

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
      // §8.2 kick (role none); other role changes (voice) wait for a later increment.
      auto role = muc::parseRole(*role_name);
      Occupant* target = room.byNick(item->attrOr("nick"));
      if (!role || *role != Role::None) {
        return router::makeStanzaError(stanza.element, "feature-not-implemented",
                                       "Only kicking (role none) is supported so far.");
      }
      if (!target) {
        return router::makeStanzaError(stanza.element, "item-not-found",
                                       "No occupant by that nick.");
      }
      const std::string target_bare = target->jid.bareString();
      if (!actor ||
          !muc::mayKick(actor->role, actor_affiliation, room.affiliationOf(target_bare))) {
        return router::makeStanzaError(stanza.element, "not-allowed",
                                       "You may not kick that occupant.");
      }
      std::vector<Occupant> kicked;
      for (const auto& o : room.occupants)
        if (o.nick == target->nick) kicked.push_back(o);
      for (auto& o : kicked) leave(room, o, nullptr, {"307"}, fx);
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

void MucService::destroy(Room& room, Effects& fx) {
  for (const auto& o : room.occupants) {
    xml::Element p = presenceOf(room, o, &o, true);
    p.child("x", kUserNs)->addChild(std::string(kUserNs), "destroy");
    send(room, o.jid, std::move(p));
  }
  room.occupants.clear();
  room.gone = true;
  if (room.config.persistent) {
    std::string jid = room.jid.full();
    fx.db.push_back([jid](pqxx::connection& c) {
      storage::deleteMucRoom(c, jid);
      return true;
    });
  }
}

xml::Element MucService::ownerIq(Room& room, Stanza& stanza, Effects& fx) {
  const xml::Element& query = *stanza.element.child("query", kOwnerNs);
  if (room.affiliationOf(stanza.from.bareString()) != Affiliation::Owner) {
    return router::makeStanzaError(stanza.element, "forbidden",
                                   "Only the room's owners configure it.");
  }
  auto& c = room.config;
  if (stanza.type() == "get") {
    // §10.1.3: asking for the form of a new room keeps it locked until it is submitted.
    if (room.fresh) room.locked = true;
    std::vector<FormField> fields;
    fields.emplace_back("FORM_TYPE", "hidden", "",
                        std::vector<std::string>{std::string(kConfigFormType)});
    fields.emplace_back("muc#roomconfig_roomname", "text-single", "Room name",
                        std::vector<std::string>{c.name});
    fields.emplace_back("muc#roomconfig_persistentroom", "boolean", "Keep the room",
                        std::vector<std::string>{bool01(c.persistent)});
    fields.emplace_back("muc#roomconfig_membersonly", "boolean", "Members only",
                        std::vector<std::string>{bool01(c.members_only)});
    fields.emplace_back("muc#roomconfig_moderatedroom", "boolean", "Moderated",
                        std::vector<std::string>{bool01(c.moderated)});
    fields.emplace_back("muc#roomconfig_passwordprotectedroom", "boolean", "Password protected",
                        std::vector<std::string>{bool01(c.password.has_value())});
    fields.emplace_back("muc#roomconfig_roomsecret", "text-private", "Password",
                        std::vector<std::string>{c.password.value_or("")});
    fields.emplace_back(
        "muc#roomconfig_whois", "list-single", "Who may see real JIDs",
        std::vector<std::string>{c.whois_anyone ? "anyone" : "moderators"},
        std::vector<FormOption>{{"moderators", "Moderators"}, {"anyone", "Anyone"}});
    fields.emplace_back("muc#roomconfig_maxusers", "text-single", "Most occupants (0: no limit)",
                        std::vector<std::string>{std::to_string(c.max_users)});
    fields.emplace_back("muc#roomconfig_changesubject", "boolean", "Occupants change the subject",
                        std::vector<std::string>{bool01(c.change_subject)});
    fields.emplace_back("muc#roomconfig_historylength", "text-single", "Messages of history",
                        std::vector<std::string>{std::to_string(c.history_length)});
    xml::Element reply = router::makeResult(stanza);
    reply.addChild(std::string(kOwnerNs), "query")
        .addChild(makeForm("form", "Room configuration", "", fields));
    return reply;
  }
  if (query.child("destroy", kOwnerNs)) {
    destroy(room, fx);
    return router::makeResult(stanza);
  }
  const xml::Element* form = query.child("x", kDataFormsNs);
  if (!form) {
    return router::makeStanzaError(stanza.element, "bad-request",
                                   "Send a configuration form or <destroy/>.");
  }
  room.fresh = false;
  room.locked = false;
  if (form->attrOr("type") == "cancel") return router::makeResult(stanza);
  const bool was_persistent = c.persistent;
  auto values = submittedValues(*form);
  c.name = valueOf(values, "muc#roomconfig_roomname", c.name);
  c.persistent = isTrue(values, "muc#roomconfig_persistentroom", c.persistent);
  c.members_only = isTrue(values, "muc#roomconfig_membersonly", c.members_only);
  c.moderated = isTrue(values, "muc#roomconfig_moderatedroom", c.moderated);
  const bool protect =
      isTrue(values, "muc#roomconfig_passwordprotectedroom", c.password.has_value());
  const std::string secret = valueOf(values, "muc#roomconfig_roomsecret", c.password.value_or(""));
  c.password = protect ? std::optional<std::string>(secret) : std::nullopt;
  c.whois_anyone =
      valueOf(values, "muc#roomconfig_whois", c.whois_anyone ? "anyone" : "moderators") == "anyone";
  c.max_users = std::max(0, intValue(valueOf(values, "muc#roomconfig_maxusers", ""), c.max_users));
  c.change_subject = isTrue(values, "muc#roomconfig_changesubject", c.change_subject);
  c.history_length =
      std::clamp(intValue(valueOf(values, "muc#roomconfig_historylength", ""), c.history_length), 0,
                 kMaxHistory);
  if (c.persistent) {
    auto record = room.record();
    std::vector<std::string> history;
    if (!was_persistent) {
      for (const auto& m : room.history) history.push_back(xml::toString(*m, ns::kClient));
    }
    const int keep = c.history_length;
    fx.db.push_back([record, history, keep](pqxx::connection& conn) {
      storage::saveMucRoom(conn, record);
      for (const auto& text : history) storage::appendMucHistory(conn, record.jid, text, keep);
      return true;
    });
  } else if (was_persistent) {
    std::string jid = room.jid.full();
    fx.db.push_back([jid](pqxx::connection& conn) {
      storage::deleteMucRoom(conn, jid);
      return true;
    });
  }
  return router::makeResult(stanza);
}

Task<void> MucService::onIq(Stanza& stanza, const SessionPtr& session) {
  const std::string type(stanza.type());
  if (type != "get" && type != "set") co_return;
  if (stanza.to.node().empty()) {
    if (session) router_.deliver(session, serviceIq(stanza));
    co_return;
  }
  const xml::Element* payload = stanza.element.firstChildElement();
  if (!stanza.to.isBare() || !payload) {
    router_.bounce(session, stanza.element, "service-unavailable",
                   "Occupants do not answer queries through this room yet.");
    co_return;
  }
  const std::string room_jid = stanza.to.bareString();
  RoomPtr room = co_await findRoom(room_jid);
  if (!room) {
    router_.bounce(session, stanza.element, "item-not-found", "No such room.");
    co_return;
  }
  Effects fx;
  xml::Element reply;
  bool destroyed = false;
  {
    std::lock_guard lock(room->mutex);
    if (payload->is("query", kInfoNs)) {
      reply = roomInfo(*room, stanza);
    } else if (payload->is("query", kItemsNs)) {
      reply = router::makeResult(stanza);
      reply.addChild(std::string(kItemsNs), "query");
    } else if (payload->is("query", kAdminNs)) {
      reply = adminIq(*room, stanza, room->byJid(stanza.from), fx);
    } else if (payload->is("query", kOwnerNs)) {
      reply = ownerIq(*room, stanza, fx);
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

Task<void> MucService::handle(Stanza& stanza, const SessionPtr& session) {
  try {
    if (stanza.kind() == "presence") {
      co_await onPresence(stanza, session);
    } else if (stanza.kind() == "message") {
      if (stanza.to.node().empty()) {
        router_.bounce(session, stanza.element, "service-unavailable",
                       "The chat room service takes no messages itself.");
      } else {
        co_await onMessage(stanza, session);
      }
    } else {
      co_await onIq(stanza, session);
    }
    co_return;
  } catch (const std::exception& e) {
    log::error("muc: ", stanza.kind(), " to ", stanza.to.full(), " failed: ", e.what());
  }
  router_.bounce(session, stanza.element, "internal-server-error",
                 "The chat room service could not complete this; please retry.");
}

}  // namespace

void registerMuc(router::Router& router) {
  auto service = std::make_shared<MucService>(router);
  router.addSubdomainService("conference", "Chat rooms",
                             [service](Stanza& stanza, const SessionPtr& session) {
                               return service->handle(stanza, session);
                             });
}

}  // namespace parley::xep
