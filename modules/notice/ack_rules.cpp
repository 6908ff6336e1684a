#include "ack_rules.hpp"

#include <algorithm>

#include "notice_message.hpp"

namespace parley::modules::notice {

bool isToOwnServer(const Stanza& stanza) {
  return !stanza.to.empty() && stanza.to.node().empty() &&
         stanza.to.domain() == stanza.from.domain();
}

bool allowedBeforeAck(const Stanza& stanza) {
  const std::string_view kind = stanza.kind();
  const std::string_view type = stanza.type();
  if (type == "error") return true;  // an answer, never a new conversation
  if (kind == "iq") {
    if (type == "result") return true;
    return stanza.to.empty() || stanza.to == stanza.from.bare() ||
           (stanza.to.isDomain() && stanza.to.domain() == stanza.from.domain());
  }
  if (kind == "presence") return stanza.to.empty();  // the session's own availability, or leaving
  if (kind == "message") return isToOwnServer(stanza);
  return false;
}

ReplyReading readReply(const Settings& settings, const Stanza& message) {
  ReplyReading reading;
  if (const xml::Element* ack = message.element.child("acknowledge", kNoticeNs)) {
    const std::string version(ack->attrOr("version"));
    if (settings.policy_version && version == *settings.policy_version) {
      reading.kind = ReplyReading::Kind::Acknowledges;
      reading.via = "element";
    } else {
      reading.kind = ReplyReading::Kind::WrongVersion;
      reading.version = version;
    }
    return reading;
  }
  const xml::Element* body = message.element.child("body", ns::kClient);
  if (!body) return reading;
  const std::string said = normalisePhrase(body->text());
  if (std::find(settings.ack_phrases.begin(), settings.ack_phrases.end(), said) !=
      settings.ack_phrases.end()) {
    reading.kind = ReplyReading::Kind::Acknowledges;
    reading.via = "reply";
  }
  return reading;
}

}  // namespace parley::modules::notice
