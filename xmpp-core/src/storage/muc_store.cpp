#include "storage/muc_store.hpp"

namespace parley::storage {

std::optional<MucRoomRecord> loadMucRoom(pqxx::connection& c, const std::string& jid) {
  pqxx::read_transaction tx(c);
  auto rows = tx.exec_params(
      "SELECT name, members_only, moderated, password, whois_anyone, max_users, change_subject,"
      " history_length, subject, subject_by, logging, allow_invites, password_hash"
      " FROM muc_rooms"
      " WHERE jid = $1",
      jid);
  if (rows.empty()) return std::nullopt;
  const auto& row = rows[0];
  MucRoomRecord room;
  room.jid = jid;
  room.config.name = row[0].as<std::string>();
  room.config.persistent = true;
  room.config.members_only = row[1].as<bool>();
  room.config.moderated = row[2].as<bool>();
  if (!row[3].is_null()) room.legacy_password = row[3].as<std::string>();
  room.config.whois_anyone = row[4].as<bool>();
  room.config.max_users = row[5].as<int>();
  room.config.change_subject = row[6].as<bool>();
  room.config.history_length = row[7].as<int>();
  room.subject = row[8].as<std::string>();
  room.subject_by = row[9].as<std::string>();
  room.config.logging = row[10].as<bool>();
  room.config.allow_invites = row[11].as<bool>();
  if (!row[12].is_null()) {
    room.config.password_hash = row[12].as<std::string>();
    room.legacy_password.reset();
  }
  for (const auto& r :
       tx.exec_params("SELECT jid, affiliation FROM muc_affiliations WHERE room = $1", jid)) {
    room.affiliations[r[0].as<std::string>()] = r[1].as<std::string>();
  }
  for (const auto& r :
       tx.exec_params("SELECT stanza FROM (SELECT stanza, seq FROM muc_history WHERE room = $1"
                      " ORDER BY seq DESC LIMIT $2) newest ORDER BY seq",
                      jid, room.config.history_length)) {
    room.history.push_back(r[0].as<std::string>());
  }
  return room;
}

void saveMucRoom(pqxx::connection& c, const MucRoomRecord& room) {
  pqxx::work tx(c);
  const auto& cfg = room.config;
  tx.exec_params(
      "INSERT INTO muc_rooms (jid, name, members_only, moderated, password_hash, whois_anyone,"
      " max_users, change_subject, history_length, subject, subject_by, logging,"
      " allow_invites) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
      " ON CONFLICT (jid) DO UPDATE SET name = $2, members_only = $3, moderated = $4,"
      " password = NULL, password_hash = $5, whois_anyone = $6, max_users = $7, change_subject = "
      "$8,"
      " history_length = $9, subject = $10, subject_by = $11, logging = $12,"
      " allow_invites = $13",
      room.jid, cfg.name, cfg.members_only, cfg.moderated, cfg.password_hash, cfg.whois_anyone,
      cfg.max_users, cfg.change_subject, cfg.history_length, room.subject, room.subject_by,
      cfg.logging, cfg.allow_invites);
  tx.exec_params("DELETE FROM muc_affiliations WHERE room = $1", room.jid);
  for (const auto& [jid, affiliation] : room.affiliations) {
    if (affiliation == "none") continue;
    tx.exec_params("INSERT INTO muc_affiliations (room, jid, affiliation) VALUES ($1, $2, $3)",
                   room.jid, jid, affiliation);
  }
  tx.commit();
}

void setMucRoomPasswordHash(pqxx::connection& c, const std::string& room, const std::string& hash) {
  pqxx::work tx(c);
  tx.exec_params("UPDATE muc_rooms SET password_hash = $2, password = NULL WHERE jid = $1", room,
                 hash);
  tx.commit();
}

void setMucAffiliation(pqxx::connection& c, const std::string& room, const std::string& jid,
                       const std::string& affiliation) {
  pqxx::work tx(c);
  if (affiliation == "none") {
    tx.exec_params("DELETE FROM muc_affiliations WHERE room = $1 AND jid = $2", room, jid);
  } else {
    tx.exec_params(
        "INSERT INTO muc_affiliations (room, jid, affiliation) VALUES ($1, $2, $3)"
        " ON CONFLICT (room, jid) DO UPDATE SET affiliation = $3",
        room, jid, affiliation);
  }
  tx.commit();
}

void appendMucHistory(pqxx::connection& c, const std::string& room, const std::string& stanza,
                      int keep) {
  pqxx::work tx(c);
  tx.exec_params("INSERT INTO muc_history (room, stanza) VALUES ($1, $2)", room, stanza);
  tx.exec_params(
      "DELETE FROM muc_history WHERE room = $1 AND seq < ALL ("
      " SELECT seq FROM muc_history WHERE room = $1 ORDER BY seq DESC LIMIT $2)",
      room, keep);
  tx.commit();
}

void deleteMucRoom(pqxx::connection& c, const std::string& room) {
  pqxx::work tx(c);
  tx.exec_params("DELETE FROM muc_rooms WHERE jid = $1", room);
  tx.commit();
}

}  // namespace parley::storage
