#include "notice_message.hpp"

#include <string>

#include "parley/json.hpp"
#include "parley/stanza.hpp"

namespace parley::modules::notice {

xml::Element buildNotice(const Settings& settings, const Jid& to, bool ask_for_ack) {
  xml::Element message(std::string(ns::kClient), "message");
  message.setAttr("type", ask_for_ack ? "normal" : "headline");
  message.setAttr("to", to.full());
  message.setAttr("lang", settings.language, xml::kXmlNs);
  message.addChild(std::string(ns::kClient), "subject").addText(settings.subject);
  std::string body = settings.text;
  if (ask_for_ack) body += "\n\n" + settings.ack_prompt;
  message.addChild(std::string(ns::kClient), "body").addText(body);
  xml::Element& notice = message.addChild(std::string(kNoticeNs), "notice");
  if (settings.policy_version) notice.setAttr("version", *settings.policy_version);
  if (ask_for_ack) notice.setAttr("ack", "required");
  return message;
}

xml::Element buildAnswer(const Jid& to, std::string_view body) {
  xml::Element message(std::string(ns::kClient), "message");
  message.setAttr("type", "chat");
  message.setAttr("to", to.full());
  message.addChild(std::string(ns::kClient), "body").addText(std::string(body));
  return message;
}

ComplianceEvent noticeEvent(const Settings& settings, const Jid& to, bool ask_for_ack) {
  ComplianceEvent e;
  e.kind = "notice.sent";
  e.action = EventAction::Allowed;
  e.severity = Severity::Info;
  e.target = to.full();
  e.direction = Direction::Local;
  e.detail_json =
      "{\"policy_version\":" +
      (settings.policy_version ? jsonString(*settings.policy_version) : std::string("null")) +
      ",\"language\":" + jsonString(settings.language) +
      ",\"ack_required\":" + (ask_for_ack ? "true" : "false") + "}";
  return e;
}

ComplianceEvent acknowledgedEvent(const Settings& settings, const Jid& by,
                                  std::string_view stanza_id, std::string_view via) {
  ComplianceEvent e;
  e.kind = "notice.acknowledged";
  e.action = EventAction::Allowed;
  e.severity = Severity::Info;
  e.actor = by.full();
  e.stanza_id = std::string(stanza_id);
  e.direction = Direction::Local;
  e.detail_json = "{\"policy_version\":" + jsonString(settings.policy_version.value_or("")) +
                  ",\"via\":" + jsonString(via) + "}";
  return e;
}

}  // namespace parley::modules::notice
