#pragma once
// Message Archive Management (XEP-0313) on the routing side: which messages go into the users'
// archives, whether an owner's preferences (XEP-0441) let a message into theirs, and the
// XEP-0359 stanza-ids that tell the recipient where it was stored. The router applies these
// after the policy chain accepted a message (a refused message is archived nowhere); the
// urn:xmpp:mam:2 iq service (xep/mam.cpp) reads the archives back.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "parley/jid.hpp"
#include "parley/xml/element.hpp"
#include "storage/mam_store.hpp"

namespace parley::router::archiving {

inline constexpr std::string_view kSidNs = "urn:xmpp:sid:0";  // XEP-0359

// XEP-0313 §6.1.1 with XEP-0334 hints: messages of type 'chat' or 'normal' (or none) that carry
// a conversation. <no-store/> and <no-permanent-store/> keep any message out, <store/> lets any
// chat or normal one in; otherwise a normal message needs a <body/>, and a chat message needs
// something besides chat states and bookkeeping (a body, a receipt, a marker, encrypted
// content...). Headline, groupchat and error messages are never archived.
bool archivable(const xml::Element& message);

// Whether `owner`'s preferences let a message with `other` (the 'to' of an outgoing message,
// the 'from' of an incoming one, as addressed) into the owner's archive (XEP-0441 §2.3).
// A listed JID with a resource matches only that resource, a bare one every resource; when
// both lists match, the more specific entry wins and 'never' wins a tie. Unlisted JIDs follow
// the default; 'roster' asks whether `other` is a listed contact (`in_roster`): nullopt when
// the answer depends on it and it is not known. Notes to self count as in the roster.
std::optional<bool> prefsAllow(const storage::ArchivePrefs& prefs, const std::string& owner,
                               const Jid& other, std::optional<bool> in_roster);

// XEP-0359 business rule 3: a stanza-id 'by' one of our JIDs that a client sent is a forgery (only
// the server assigns those); removed, whatever its 'by' names (a local account or domain, or
// something unparseable). Stanza-ids by other entities stay.
void stripOwnStanzaIds(xml::Element& message,
                       const std::function<bool(std::string_view domain)>& is_local_domain);

// Adds <stanza-id xmlns='urn:xmpp:sid:0' by=… id=…/>.
void addStanzaId(xml::Element& message, const std::string& by, const std::string& id);

// The XEP-0359 <origin-id/> the sender gave, if any.
std::optional<std::string> originId(const xml::Element& message);

// Now, in microseconds since the epoch, and always later than the previous call in this
// process (even when the wall clock steps back): the archive's order is the routing order.
int64_t archiveTimestamp();

// What the router archives for one message: the record (no entries when nothing is archived),
// and the archive id each party's copy carries.
struct Plan {
  storage::ArchiveRecord record;
  std::shared_ptr<void> in_flight;  // ArchiveWrites::Hold until the record is written
  std::string sender;               // bare JID of the sender
  std::string sender_id;            // in the sender's archive; "" when not archived there
  std::string recipient_id;         // in the recipient's (the sender's own for a note to self)
  bool any() const { return !record.entries.empty(); }
};

}  // namespace parley::router::archiving
