#include "xep/muc_room.hpp"

#include "router/router.hpp"

namespace parley::xep::muc {

Affiliation Room::affiliationOf(const std::string& bare) const {
  auto it = affiliations.find(bare);
  return it == affiliations.end() ? Affiliation::None : it->second;
}

Occupant* Room::byNick(std::string_view nick) {
  for (auto& o : occupants)
    if (o.nick == nick) return &o;
  return nullptr;
}

Occupant* Room::byJid(const Jid& jid) {
  for (auto& o : occupants)
    if (o.jid == jid) return &o;
  return nullptr;
}

Jid Room::occupantJid(std::string_view nick) const { return jid.withResource(nick).value_or(jid); }

storage::MucRoomRecord Room::record() const {
  storage::MucRoomRecord r;
  r.jid = jid.full();
  r.config = config;
  r.subject = subject;
  r.subject_by = subject_by;
  for (const auto& [bare, a] : affiliations) r.affiliations[bare] = std::string(affiliationName(a));
  return r;
}

RoomPtr roomFromRecord(const storage::MucRoomRecord& record) {
  auto room = std::make_shared<Room>();
  room->jid = *Jid::parse(record.jid);
  room->config = record.config;
  room->subject = record.subject;
  room->subject_by = record.subject_by;
  for (const auto& [bare, name] : record.affiliations) {
    if (auto a = parseAffiliation(name)) room->affiliations[bare] = *a;
  }
  for (const auto& text : record.history) {
    if (auto e = router::parseStoredStanza(text))
      room->history.push_back(std::make_shared<const xml::Element>(std::move(*e)));
  }
  return room;
}

int intValue(const std::string& text, int fallback) {
  try {
    return std::stoi(text);
  } catch (const std::exception&) {
    return fallback;
  }
}

}  // namespace parley::xep::muc
