#pragma once
// XEP-0045 Multi-User Chat on conference.<domain>: the service object every room handler is a
// member of. Its parts live in files of their own:
//   muc_service.cpp      the registry of rooms (memory, then PostgreSQL) and stanza dispatch
//   muc_broadcast.cpp    delivery to occupants and the presence every occupant sees
//   muc_presence.cpp     join, nick change, presence update, leave
//   muc_messages.cpp     groupchat messages, subject changes, private messages
//   muc_invitations.cpp  mediated invitations (§7.8.2)
//   muc_iq.cpp           iq dispatch and disco of the service and its rooms
//   muc_self_ping.cpp    queries to occupant JIDs: XEP-0410 self-ping
//   muc_admin.cpp        muc#admin: kick, affiliation lists and changes
//   muc_owner.cpp        muc#owner: the configuration form and destruction
//
// Stanzas reach the service after the policy chain in Router::fromClient, so a room message
// passes the same modules as a 1:1 message, and every delivery to an occupant goes through
// Router::deliver (stanza.deliver). Deliveries happen under the room's mutex (deliver() only
// queues) so every occupant sees one order; database writes (Effects) wait until the mutex is
// released.

#include <atomic>
#include <map>
#include <mutex>

#include "router/router.hpp"
#include "router/stanza_errors.hpp"
#include "xep/muc_room.hpp"

namespace parley::xep::muc {

using router::SessionPtr;
using router::Task;

// A joining client's password, checked against the room's hash as it was then (checkPassword).
struct PasswordCheck {
  std::string hash;  // empty: nothing was checked
  bool matches = false;
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
  Task<void> runEffects(Effects fx);
  // The key of occupant ids, read from PostgreSQL (created there on first use) before the first
  // stanza is handled.
  Task<void> loadOccupantIdSecret();

  Task<void> onPresence(Stanza& stanza, const SessionPtr& session);
  Task<void> onMessage(Stanza& stanza, const SessionPtr& session);
  Task<void> onIq(Stanza& stanza, const SessionPtr& session);
  xml::Element serviceIq(const Stanza& stanza);

  // The rest runs under the room's mutex.

  Task<PasswordCheck> checkPassword(RoomPtr room, const Stanza& stanza);
  // A new room password from an owner's form, hashed off the io threads; nullopt when none.
  Task<std::optional<std::string>> hashSubmittedSecret(const xml::Element& query);

  void join(Room& room, Stanza& stanza, const SessionPtr& session, bool created,
            const PasswordCheck& password, Effects& fx);
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
  void privateMessage(Room& room, const Occupant& sender, Stanza& stanza,
                      const SessionPtr& session);
  void invite(Room& room, const Occupant* sender, const xml::Element& invitation, Stanza& stanza,
              const SessionPtr& session, Effects& fx);

  xml::Element roomInfo(const Room& room, const Stanza& stanza) const;
  xml::Element occupantIq(Room& room, const Stanza& stanza);
  xml::Element adminIq(Room& room, Stanza& stanza, const Occupant* actor, Effects& fx);
  void setAffiliation(Room& room, const std::string& bare, Affiliation affiliation, Effects& fx);
  void setRole(Room& room, const std::string& nick, Role role);
  xml::Element ownerIq(Room& room, Stanza& stanza, const std::optional<std::string>& secret_hash,
                       Effects& fx);
  void destroy(Room& room, Effects& fx);
  void announceConfigChange(Room& room, const storage::MucRoomConfig& before, Effects& fx);

  router::Router& router_;
  std::mutex mutex_;
  std::map<std::string, RoomPtr> rooms_;
  // Written once (under mutex_) before occupant_id_ready_ is set; read only after it is.
  std::string occupant_id_secret_;
  std::atomic<bool> occupant_id_ready_ = false;
};

// An error the room itself answers for (XEP-0410 §3.2: the <error/> says by='room').
xml::Element errorFromRoom(const Jid& room, const Stanza& stanza, std::string_view condition,
                           std::string_view text);

// Adds <status code=…/> to the muc#user <x/> of a presence built by presenceOf.
void addCodes(xml::Element& presence, const std::vector<std::string>& codes);

}  // namespace parley::xep::muc
