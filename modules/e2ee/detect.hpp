#pragma once
// Recognising end-to-end encryption in a stanza, as pure functions over the element tree so that
// every client's wire format can be tested without a server. Only structure and fixed protocol
// markers are looked at; nothing here decodes or keeps ciphertext.

#include <optional>
#include <string>
#include <string_view>

#include "parley/xml/element.hpp"

namespace parley::modules::e2ee {

enum class Scheme {
  Omemo,      // XEP-0384, legacy 'eu.siacs.conversations.axolotl' and 'urn:xmpp:omemo:N'
  OpenPgp,    // XEP-0373/0374 OpenPGP for XMPP (OX)
  PgpLegacy,  // XEP-0027 jabber:x:encrypted
  Otr,        // Off-the-Record, carried in <body>
  Other,      // a XEP-0380 <encryption/> tag naming a scheme not listed above
};

// "omemo", "openpgp", "pgp_legacy", "otr", "other": the detail's "scheme" and the event kind's
// second part.
std::string_view schemeName(Scheme scheme);

struct Finding {
  Scheme scheme;
  // What gave it away, short and content-free, for the compliance officer:
  // "<encrypted xmlns='eu.siacs.conversations.axolotl'>", "OTR data message (?OTR:)".
  std::string evidence;
};

// Error stanzas and iq results: never refused, so that refusing cannot start an error loop and
// a reply to an allowed request always arrives.
bool alwaysPasses(const xml::Element& stanza);

// The end-to-end encryption a stanza carries, anywhere in its tree (a forwarded message
// included), or nullopt. Encrypted payload elements win over OTR body markers, which win over a
// bare XEP-0380 declaration. XEP-0027 <x xmlns='jabber:x:signed'> (a signature over text that is
// itself in clear) is not encryption and is not reported.
std::optional<Finding> findEncryption(const xml::Element& stanza);

// Which OTR marker `body` carries, or nullopt. libotr reacts to "?OTR" markers anywhere in a
// message, so they are found anywhere too: a query ("?OTRv23?", "?OTR?"), a data message
// ("?OTR:"), a fragment ("?OTR|", "?OTR,"), or the whitespace tag an OTR client appends to
// plaintext to advertise itself. "?OTR Error:" is readable text and is not reported.
std::optional<std::string> otrMarker(std::string_view body);

// Key material published to PEP so that others can encrypt to this account.
struct KeyPublish {
  Scheme scheme;     // Omemo or OpenPgp
  std::string node;  // the PEP node
};
// The OMEMO or OX key node a pubsub publish iq writes to, or nullopt for any other node:
// eu.siacs.conversations.axolotl.devicelist, eu.siacs.conversations.axolotl.bundles:<device>,
// urn:xmpp:omemo:N:devices, urn:xmpp:omemo:N:bundles, urn:xmpp:openpgp:0:<anything>.
std::optional<KeyPublish> findKeyPublish(const xml::Element& iq);
bool isOmemoKeyNode(std::string_view node);
bool isOpenPgpKeyNode(std::string_view node);

}  // namespace parley::modules::e2ee
