#include "policy.hpp"

#include <vector>

namespace parley::modules::file_transfer {

namespace {

// What the sender reads after "Blocked by the IM policy (§4 File sharing): ".
std::string_view reason(Mechanism mechanism) {
  switch (mechanism) {
    case Mechanism::HttpUpload:
      return "uploading files is disabled on this service.";
    case Mechanism::OobUrl:
    case Mechanism::Sfs:
    case Mechanism::Sims:
      return "sending files as links is disabled on this service.";
    case Mechanism::Bob:
      return "files and images embedded in messages are disabled on this service.";
    default:
      return "file transfers are disabled on this service.";
  }
}

void appendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += "\\u00";
      out += kHex[(c >> 4) & 0xf];
      out += kHex[c & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
}

void appendField(std::string& out, std::string_view key, std::string_view value) {
  out += out.size() > 1 ? "," : "";
  appendJsonString(out, key);
  out += ':';
  appendJsonString(out, value);
}

// Masked by construction: the mechanism, fixed protocol words, a URL's host and a group name
// from the configuration. Never a file name, a URL path or a session id.
std::string detail(const Finding& finding, const std::optional<std::string>& group) {
  std::string out = "{";
  appendField(out, "mechanism", mechanismName(finding.mechanism));
  appendField(out, "xep", mechanismXep(finding.mechanism));
  if (!finding.step.empty()) appendField(out, "step", finding.step);
  if (!finding.url_host.empty()) appendField(out, "url_host", finding.url_host);
  if (group) appendField(out, "exception", *group);
  out += '}';
  return out;
}

ComplianceEvent eventFor(const Stanza& stanza, const Finding& finding, EventAction action,
                         const std::optional<std::string>& group) {
  ComplianceEvent e;
  e.kind = "file_transfer." + std::string(mechanismName(finding.mechanism));
  e.action = action;
  if (action == EventAction::Allowed) {
    e.severity = Severity::Info;
  } else if (finding.step == "proxy-discovery") {
    // Dino and Gajim ask for proxies at every login, before anyone sends a file: recorded,
    // but not as an attempt to share one.
    e.severity = Severity::Low;
  } else {
    e.severity = Severity::Medium;
  }
  e.actor = stanza.from.full();
  e.target = stanza.to.full();
  e.stanza_id = std::string(stanza.id());
  // From a server the sender is outside and the recipient ours; from a client the recipient
  // may be either, which this hook cannot tell.
  e.direction = stanza.origin == Origin::Server ? Direction::Inbound : Direction::None;
  e.detail_json = detail(finding, group);
  return e;
}

}  // namespace

std::optional<std::string> Policy::exemptGroup(const Stanza& stanza) const {
  // The organisation's own party: the sender of what a client sends, the recipient of what
  // another server delivers.
  const Jid& ours = stanza.origin == Origin::Server ? stanza.to : stanza.from;
  if (ours.empty()) return std::nullopt;
  const Jid bare = ours.bare();
  for (const std::string& group : settings_.exceptions) {
    if (host_.isMember(bare, group)) return group;
  }
  return std::nullopt;
}

Verdict Policy::decide(const Stanza& stanza) const {
  const auto finding =
      detect(stanza.element, DetectOptions{.message_links = settings_.block_message_links});
  if (!finding) return Verdict::pass();
  if (auto group = exemptGroup(stanza)) {
    if (!settings_.record_allowed) return Verdict::pass();
    return Verdict::pass().withEvent(eventFor(stanza, *finding, EventAction::Allowed, group));
  }
  return Verdict::reject(std::string(reason(finding->mechanism)))
      .withEvent(eventFor(stanza, *finding, EventAction::Blocked, std::nullopt));
}

void Policy::hideFeatures(std::vector<std::string>& features) const {
  std::erase_if(features, [&](const std::string& var) {
    if (!isFileTransferFeature(var)) return false;
    return settings_.block_message_links || !isMessageLinkFeature(var);
  });
}

}  // namespace parley::modules::file_transfer
