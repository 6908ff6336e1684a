#pragma once
// The acknowledgement rules as pure functions of a stanza (require_ack): what a user who has
// not acknowledged the notice may still send, and whether a message to the server
// acknowledges it.

#include <string>

#include "notice_config.hpp"
#include "parley/stanza.hpp"

namespace parley::modules::notice {

// What keeps a client working without letting its user talk to anybody: iq requests to the
// user's own account or to the server (roster, disco, ping, vCard, PEP), the session's own
// availability or departure (presence without 'to'), messages to the server (the acknowledgement
// service), and answers (iq results, errors). Everything else (messages to anyone, directed
// presence, subscription requests, iq requests to other entities) waits for the acknowledgement.
bool allowedBeforeAck(const Stanza& stanza);

// Whether a message is addressed to the sender's own server (its domain, any resource).
bool isToOwnServer(const Stanza& stanza);

struct ReplyReading {
  enum class Kind {
    Acknowledges,  // the phrase, or <acknowledge/> for the current version
    WrongVersion,  // <acknowledge/> for another version (`version`)
    Other,         // anything else
  };
  Kind kind = Kind::Other;
  std::string via;      // Acknowledges: "reply" (the phrase) or "element" (<acknowledge/>)
  std::string version;  // WrongVersion: the version it names ("" when none)
};

// Reads a message to the acknowledgement service.
ReplyReading readReply(const Settings& settings, const Stanza& message);

}  // namespace parley::modules::notice
