#include "notice_message.hpp"

#include <string>

#include "parley/json.hpp"
#include "parley/stanza.hpp"

namespace parley::modules::notice {
xml::Element buildNotice(const Settings& settings, const Jid& to) {
  xml::Element message(std::string(ns::kClient), "message");
  message.setAttr("type", "headline");
  message.setAttr("to", to.full());
  message.setAttr("lang", settings.language, xml::kXmlNs);
  message.addChild(std::string(ns::kClient), "subject").addText(settings.subject);
  message.addChild(std::string(ns::kClient), "body").addText(settings.text);
  xml::Element& notice = message.addChild(std::string(kNoticeNs), "notice");
  if (settings.policy_version) notice.setAttr("version", *settings.policy_version);
  return message;
}

ComplianceEvent noticeEvent(const Settings& settings, const Jid& to) {
  ComplianceEvent e;
  e.kind = "notice.sent";
  e.action = EventAction::Allowed;
  e.severity = Severity::Info;
  e.target = to.full();
  e.direction = Direction::Local;
  e.detail_json =
      "{\"policy_version\":" +
      (settings.policy_version ? jsonString(*settings.policy_version) : std::string("null")) +
      ",\"language\":" + jsonString(settings.language) + "}";
  return e;
}

}  // namespace parley::modules::notice
