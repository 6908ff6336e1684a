// XEP-0045 muc#owner: the room configuration form (§10.1-§10.2) and destruction (§10.9).

#include "parley/xml/serializer.hpp"
#include "xep/data_form.hpp"
#include "xep/muc_password.hpp"
#include "xep/muc_service.hpp"

namespace parley::xep::muc {

namespace {

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

std::string bool01(bool b) { return b ? "1" : "0"; }

}  // namespace

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

// §10.2.1: occupants hear that the configuration changed (104), and what it changed about their
// privacy (configChangeCodes). A room that became members-only sends away whoever is no member
// (322, §9.4 and §15).
void MucService::announceConfigChange(Room& room, const storage::MucRoomConfig& before,
                                      Effects& fx) {
  const auto& now = room.config;
  const std::vector<std::string> codes =
      configChangeCodes({before.logging, before.whois_anyone}, {now.logging, now.whois_anyone});
  if (now.members_only && !before.members_only) {
    std::vector<Occupant> outsiders;
    for (const auto& o : room.occupants)
      if (room.affiliationOf(o.jid.bareString()) < Affiliation::Member) outsiders.push_back(o);
    for (const auto& o : outsiders) leave(room, o, nullptr, {"322"}, fx);
  }
  for (const auto& o : room.occupants) {
    xml::Element m(std::string(ns::kClient), "message");
    m.setAttr("type", "groupchat");
    m.setAttr("from", room.jid.full());
    m.setAttr("to", o.jid.full());
    auto& x = m.addChild(std::string(kUserNs), "x");
    for (const auto& code : codes) x.addChild(std::string(kUserNs), "status").setAttr("code", code);
    send(room, o.jid, std::move(m));
  }
}

Task<std::optional<std::string>> MucService::hashSubmittedSecret(const xml::Element& query) {
  const xml::Element* form = query.child("x", kDataFormsNs);
  if (!form) co_return std::nullopt;
  const std::string secret = valueOf(submittedValues(*form), "muc#roomconfig_roomsecret", "");
  if (secret.empty()) co_return std::nullopt;
  auto job = [secret](pqxx::connection&) { return hashRoomPassword(secret); };
  co_return co_await router_.ctx().db().run(std::move(job));
}

xml::Element MucService::ownerIq(Room& room, Stanza& stanza,
                                 const std::optional<std::string>& secret_hash, Effects& fx) {
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
                        std::vector<std::string>{bool01(c.password_hash.has_value())});
    fields.emplace_back("muc#roomconfig_roomsecret", "text-private", "Password",
                        std::vector<std::string>{""});  // only its hash is kept
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
    fields.emplace_back("muc#roomconfig_enablelogging", "boolean", "Archive the discussion",
                        std::vector<std::string>{bool01(c.logging)});
    fields.emplace_back("muc#roomconfig_allowinvites", "boolean",
                        "Members invite others to a members-only room",
                        std::vector<std::string>{bool01(c.allow_invites)});
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
  const storage::MucRoomConfig before = c;
  const bool was_persistent = c.persistent;
  auto values = submittedValues(*form);
  c.name = valueOf(values, "muc#roomconfig_roomname", c.name);
  c.persistent = isTrue(values, "muc#roomconfig_persistentroom", c.persistent);
  c.members_only = isTrue(values, "muc#roomconfig_membersonly", c.members_only);
  c.moderated = isTrue(values, "muc#roomconfig_moderatedroom", c.moderated);
  // The form shows the secret empty: submitted back so, the password stays as it was.
  const bool protect = isTrue(values, "muc#roomconfig_passwordprotectedroom",
                              c.password_hash.has_value() || secret_hash.has_value());
  if (!protect) {
    c.password_hash.reset();
  } else if (secret_hash) {
    c.password_hash = secret_hash;
  }
  c.whois_anyone =
      valueOf(values, "muc#roomconfig_whois", c.whois_anyone ? "anyone" : "moderators") == "anyone";
  c.max_users = std::max(0, intValue(valueOf(values, "muc#roomconfig_maxusers", ""), c.max_users));
  c.change_subject = isTrue(values, "muc#roomconfig_changesubject", c.change_subject);
  c.history_length =
      std::clamp(intValue(valueOf(values, "muc#roomconfig_historylength", ""), c.history_length), 0,
                 kMaxHistory);
  c.logging = isTrue(values, "muc#roomconfig_enablelogging", c.logging);
  c.allow_invites = isTrue(values, "muc#roomconfig_allowinvites", c.allow_invites);
  announceConfigChange(room, before, fx);
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

}  // namespace parley::xep::muc
