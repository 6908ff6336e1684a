#include "notice_message.hpp"

#include <string>

#include "parley/stanza.hpp"

namespace parley::modules::notice {
namespace {

// A JSON string literal (quotes included); the version comes from the configuration.
std::string jsonString(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

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
