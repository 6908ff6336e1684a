#pragma once
// The queries behind persistent Multi-User Chat rooms (XEP-0045, schemas/008_muc.sql): a room's
// configuration and subject, its affiliations and its recent history. Blocking, like every
// storage function: the server calls them through DbPool::run.

#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace parley::storage {

struct MucRoomConfig {
  std::string name;
  bool persistent = false;
  bool members_only = false;
  bool moderated = false;
  std::optional<std::string> password_hash;  // set: password-protected (xep/muc_password)
  bool whois_anyone = false;                 // false: real JIDs only to moderators
  int max_users = 0;                         // 0: no limit
  bool change_subject = false;               // participants may change the subject
  int history_length = 20;
  bool logging = false;        // muc#roomconfig_enablelogging: the discussion is archived (170/171)
  bool allow_invites = false;  // muc#roomconfig_allowinvites: members invite to members-only
};

struct MucRoomRecord {
  std::string jid;
  MucRoomConfig config;
  std::string subject, subject_by;
  std::map<std::string, std::string> affiliations;  // bare JID → owner/admin/member/outcast
  std::vector<std::string> history;                 // serialized messages, oldest first
  // A plaintext password stored before migration 013: the caller hashes it and writes the hash
  // back (setMucRoomPasswordHash).
  std::optional<std::string> legacy_password;
};

std::optional<MucRoomRecord> loadMucRoom(pqxx::connection& c, const std::string& jid);
// Writes the configuration, subject and affiliations (replacing the stored ones); history is
// written as it happens (appendMucHistory).
void saveMucRoom(pqxx::connection& c, const MucRoomRecord& room);
// Replaces a legacy plaintext password with its hash.
void setMucRoomPasswordHash(pqxx::connection& c, const std::string& room, const std::string& hash);
// "none" removes the affiliation.
void setMucAffiliation(pqxx::connection& c, const std::string& room, const std::string& jid,
                       const std::string& affiliation);
// Appends one message and keeps the newest `keep`.
void appendMucHistory(pqxx::connection& c, const std::string& room, const std::string& stanza,
                      int keep);
void deleteMucRoom(pqxx::connection& c, const std::string& room);

}  // namespace parley::storage
