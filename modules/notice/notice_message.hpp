#pragma once
// What the notice module sends and records: the notice (a headline, or a normal message that
// asks for a reply while an acknowledgement is due), the acknowledgement service's answers, and
// the events.

#include <string>
#include <string_view>

#include "notice_config.hpp"
#include "parley/event.hpp"
#include "parley/jid.hpp"
#include "parley/xml/element.hpp"

namespace parley::modules::notice {

// Parley's own element, so that clients and bots can tell the notice from other messages and
// acknowledge the wording they were shown:
// <notice xmlns='urn:parley:notice:0' version='...' [ack='required']/>, and in a reply to the
// server <acknowledge xmlns='urn:parley:notice:0' version='...'/>.
inline constexpr std::string_view kNoticeNs = "urn:parley:notice:0";

// The notice to one session ('from' is left to the host: the user's domain), with <subject>,
// <body> and <notice/>. When `ask_for_ack`, it is type 'normal' rather than 'headline': clients
// show a normal message as something to answer (Gajim opens a chat with the domain; some
// clients only announce headlines), the body ends with the prompt, and <notice/> says
// ack='required'.
xml::Element buildNotice(const Settings& settings, const Jid& to, bool ask_for_ack);

// A chat message from the server (the acknowledgement service) to `to` with `body`.
xml::Element buildAnswer(const Jid& to, std::string_view body);

// kind notice.sent, action Allowed, severity Info, target the full JID; detail
// {"policy_version": "..." or null, "language": "...", "ack_required": true|false}.
ComplianceEvent noticeEvent(const Settings& settings, const Jid& to, bool ask_for_ack);

// kind notice.acknowledged, action Allowed, severity Info, actor the full JID, the stanza's id;
// detail {"policy_version": "...", "via": "reply"|"element"}.
ComplianceEvent acknowledgedEvent(const Settings& settings, const Jid& by,
                                  std::string_view stanza_id, std::string_view via);

}  // namespace parley::modules::notice
