#pragma once
// The notice itself: a headline message (shown once, not kept as a conversation) and the event
// that records it was sent.

#include <string_view>

#include "notice_config.hpp"
#include "parley/event.hpp"
#include "parley/jid.hpp"
#include "parley/xml/element.hpp"

namespace parley::modules::notice {

// Parley's own element, so that clients and bots can tell the notice from other headlines and
// acknowledge the wording they were shown: <notice xmlns='urn:parley:notice:0' version='...'/>.
inline constexpr std::string_view kNoticeNs = "urn:parley:notice:0";

// <message type='headline' to='{to}' xml:lang='{language}'> with <subject>, <body> and
// <notice/> ('from' is left to the host: the user's domain).
xml::Element buildNotice(const Settings& settings, const Jid& to);

// kind notice.sent, action Allowed, severity Info, target the full JID; detail
// {"policy_version": "..." or null, "language": "..."}.
ComplianceEvent noticeEvent(const Settings& settings, const Jid& to);

}  // namespace parley::modules::notice
