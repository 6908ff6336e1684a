#pragma once
// A XEP-0045 room as the service holds it in memory: its occupants (live sessions, never
// stored), affiliations, configuration, subject and history. A room's state is guarded by its
// own mutex: the io threads of different occupants meet there.

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "parley/jid.hpp"
#include "parley/xml/element.hpp"
#include "storage/muc_store.hpp"
#include "xep/muc_rules.hpp"

namespace parley::xep::muc {

constexpr std::string_view kMucNs = "http://jabber.org/protocol/muc";
constexpr std::string_view kUserNs = "http://jabber.org/protocol/muc#user";
constexpr std::string_view kAdminNs = "http://jabber.org/protocol/muc#admin";
constexpr std::string_view kOwnerNs = "http://jabber.org/protocol/muc#owner";
constexpr std::string_view kInfoNs = "http://jabber.org/protocol/disco#info";
constexpr std::string_view kItemsNs = "http://jabber.org/protocol/disco#items";
constexpr std::string_view kDelayNs = "urn:xmpp:delay";
constexpr std::string_view kSelfPingOptimization =
    "http://jabber.org/protocol/muc#self-ping-optimization";  // XEP-0410 §3.3
constexpr std::string_view kConfigFormType = "http://jabber.org/protocol/muc#roomconfig";
constexpr int kMaxHistory = 100;  // the most any room keeps, whatever its configuration says

struct Occupant {
  std::string nick;
  Jid jid;  // the occupant's full JID
  Role role = Role::Participant;
  std::string occupant_id;  // XEP-0421, the same for every session of one user in this room
  xml::Element presence;    // its last available presence, without <x/> extensions of ours
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

  Affiliation affiliationOf(const std::string& bare) const;
  Occupant* byNick(std::string_view nick);
  Occupant* byJid(const Jid& jid);
  Jid occupantJid(std::string_view nick) const;
  storage::MucRoomRecord record() const;
};
using RoomPtr = std::shared_ptr<Room>;
using DbJob = std::function<bool(pqxx::connection&)>;

// What one handler does to a room beyond delivering: database writes, run once the room's
// mutex is released.
struct Effects {
  std::vector<DbJob> db;
};

// A room built from its stored record (storage/muc_store).
RoomPtr roomFromRecord(const storage::MucRoomRecord& record);

// The number in `text`, or `fallback` when it is none.
int intValue(const std::string& text, int fallback);

}  // namespace parley::xep::muc
