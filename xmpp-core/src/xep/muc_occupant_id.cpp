#include "xep/muc_occupant_id.hpp"

#include "auth/scram.hpp"

namespace parley::xep::muc {

std::string occupantId(std::string_view secret, std::string_view room_jid,
                       std::string_view real_bare_jid) {
  // A NUL between the two: it appears in no JID, so ("a", "bc") and ("ab", "c") differ.
  std::string data;
  data.reserve(room_jid.size() + real_bare_jid.size() + 1);
  data.append(room_jid).push_back('\0');
  data.append(real_bare_jid);
  return auth::base64Encode(auth::hmac(auth::ScramHash::Sha256, secret, data));
}

void stripOccupantIds(xml::Element& stanza) { stanza.removeChildren("occupant-id", kOccupantIdNs); }

void stampOccupantId(xml::Element& stanza, const std::string& id) {
  stripOccupantIds(stanza);
  stanza.addChild(std::string(kOccupantIdNs), "occupant-id").setAttr("id", id);
}

}  // namespace parley::xep::muc
