#pragma once
// XEP-0421 occupant ids: an opaque id per (room, real bare JID) that stays the same across
// rejoins, nick changes and restarts, so clients can tell who wrote what in a semi-anonymous
// room without learning the real JID. base64 of HMAC-SHA-256 keyed by a server secret (stored
// in PostgreSQL, storage/server_secret_store) over the room JID and the real bare JID: the id
// differs between rooms, so it cannot be used to follow a user from room to room.

#include <string>
#include <string_view>

#include "parley/xml/element.hpp"

namespace parley::xep::muc {

constexpr std::string_view kOccupantIdNs = "urn:xmpp:occupant-id:0";
// The name of the key in server_secrets.
constexpr std::string_view kOccupantIdSecretName = "muc-occupant-id";

std::string occupantId(std::string_view secret, std::string_view room_jid,
                       std::string_view real_bare_jid);

// §4: the room's <occupant-id/> replaces any a client put in the stanza (a forged one would let
// it pass as someone else).
void stampOccupantId(xml::Element& stanza, const std::string& id);
void stripOccupantIds(xml::Element& stanza);

}  // namespace parley::xep::muc
