#pragma once
// XEP-0280 Message Carbons: which messages a user's other clients get a copy of, and the copies.
// The router sends them after the policy chain let the message through (a refused message is
// copied nowhere); the urn:xmpp:carbons:2 iq service (xep/carbons.cpp) switches a session's
// carbons on and off.

#include <string_view>

#include "parley/jid.hpp"
#include "parley/xml/element.hpp"

namespace parley::router::carbons {

inline constexpr std::string_view kNs = "urn:xmpp:carbons:2";
inline constexpr std::string_view kForwardNs = "urn:xmpp:forward:0";  // XEP-0297
inline constexpr std::string_view kHintsNs = "urn:xmpp:hints";        // XEP-0334

// XEP-0280 §6's suggested rules: type 'chat', or type 'normal' with a <body>; never a message
// that asks not to be copied (<private/>, or XEP-0334 <no-copy/>), one from or through a
// group chat (a MUC private message carries muc#user), nor a carbon itself.
bool eligible(const xml::Element& message);

// Removes <private xmlns='urn:xmpp:carbons:2'/>: the recipient has no use for it (§8).
void stripPrivate(xml::Element& message);

enum class Copy { Sent, Received };

// The copy for one of `owner`'s sessions (`to`, a full JID): from the owner's bare JID, the
// original's type, <sent/> or <received/> holding <forwarded/> holding the original.
xml::Element wrap(Copy copy, const Jid& to, const xml::Element& original);

}  // namespace parley::router::carbons
