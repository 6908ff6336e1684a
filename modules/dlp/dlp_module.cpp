#include "dlp_module.hpp"

#include <map>
#include <stdexcept>
#include <utility>

#include "content_scan.hpp"
#include "parley/json.hpp"

namespace parley::modules::dlp {
namespace {

constexpr std::string_view kClientNs = "jabber:client";
constexpr std::string_view kXhtmlImNs = "http://jabber.org/protocol/xhtml-im";

std::string_view confidenceName(Confidence c) {
  switch (c) {
    case Confidence::Low:
      return "low";
    case Confidence::Medium:
      return "medium";
    case Confidence::High:
      return "high";
  }
  return "?";
}

// Traffic between two accounts of one domain stays inside; anything else from a client may be
// another local domain or a remote one, which a module cannot tell.
Direction clientDirection(const Stanza& stanza) {
  if (stanza.to.empty() || stanza.to.domain() == stanza.from.domain()) return Direction::Local;
  return Direction::None;
}

std::string detailJson(const std::vector<Finding>& findings) {
  std::string json = "{\"findings\":[";
  for (size_t i = 0; i < findings.size(); ++i) {
    const Finding& f = findings[i];
    if (i > 0) json += ",";
    json += "{\"detector\":" + jsonString(detectorKey(f.detector)) +
            ",\"kind\":" + jsonString(f.match.kind) + ",\"where\":" + jsonString(f.where) +
            ",\"confidence\":" + jsonString(confidenceName(f.match.confidence)) +
            ",\"masked\":" + jsonString(f.match.masked) + "}";
  }
  return json + "]}";
}

// Replaces the text of every redactable field that has findings; an XHTML-IM body with one is
// removed (its markup cannot be masked in place; the plain body carries the masked text).
void applyRedactions(xml::Element& stanza, const std::vector<TextField>& fields,
                     const std::vector<Finding>& findings) {
  std::map<const xml::Element*, std::vector<std::pair<std::pair<size_t, size_t>, std::string>>>
      spans;
  bool drop_xhtml = false;
  for (const auto& f : findings) {
    const TextField& field = fields[f.field];
    if (field.where == "xhtml") drop_xhtml = true;
    if (field.redactable) spans[field.element].push_back({f.original, f.match.masked});
  }
  if (drop_xhtml) stanza.removeChildren("html", kXhtmlImNs);
  for (std::string_view name : {"body", "subject", "status"}) {
    const auto same = stanza.childrenNamed(name, kClientNs);
    bool touched = false;
    for (const auto* e : same) touched = touched || spans.count(e) > 0;
    if (!touched) continue;
    // Rebuilt in order, each with its attributes (xml:lang) and its text masked where needed.
    std::vector<xml::Element> rebuilt;
    for (const auto* e : same) {
      xml::Element copy(e->ns(), e->name());
      for (const auto& a : e->attrs()) copy.setAttr(a.name, a.value, a.ns);
      auto it = spans.find(e);
      copy.addText(it == spans.end() ? e->text() : redact(e->text(), it->second));
      rebuilt.push_back(std::move(copy));
    }
    stanza.removeChildren(name, kClientNs);
    for (auto& e : rebuilt) stanza.addChild(std::move(e));
  }
}

}  // namespace

DlpModule::DlpModule() : normalizer_(std::make_shared<const TextNormalizer>()) {}

void DlpModule::configure(const YAML::Node& config) { settings_ = parseSettings(config); }

void DlpModule::attach(Host& host) {
  host_ = &host;
  host.onStanza(HookPoint::StanzaFromClient, [this](Stanza& stanza) {
    xml::Element notice;
    Verdict v = check(stanza, clientDirection(stanza), &notice);
    if (v.kind == Verdict::Kind::Modify && !notice.name().empty()) {
      host_->sendFromServer(std::move(notice));
    }
    return v;
  });
  try {
    host.onStanza(HookPoint::StanzaFromServer,
                  [this](Stanza& stanza) { return check(stanza, Direction::Inbound); });
  } catch (const std::logic_error& e) {
    host.log(LogLevel::Info,
             std::string("federated messages will be inspected once this server federates (") +
                 e.what() + ")");
  }
}

Verdict DlpModule::check(Stanza& stanza, Direction direction, xml::Element* notice) const {
  // Errors are never refused (no error loops); iqs carry no conversation text here.
  if (stanza.type() == "error" || stanza.kind() == "iq") return Verdict::pass();
  const auto fields = inspectedFields(stanza.element);
  std::vector<Finding> findings;
  for (size_t i = 0; i < fields.size(); ++i) {
    for (auto& f : scanText(*normalizer_, settings_, fieldText(*fields[i].element))) {
      f.field = i;
      f.where = fields[i].where;
      findings.push_back(std::move(f));
    }
  }
  if (findings.empty()) return Verdict::pass();

  // The strictest action any finding asks for decides.
  Action action = Action::Flag;
  const Finding* decisive = &findings.front();
  Severity severity = Severity::Info;
  for (const auto& f : findings) {
    const DetectorSettings& s = settings_.of(f.detector);
    if (s.severity > severity) severity = s.severity;
    if (s.action == Action::Block && action != Action::Block) {
      action = Action::Block;
      decisive = &f;
    } else if (s.action == Action::Redact && action == Action::Flag) {
      action = Action::Redact;
      decisive = &f;
    }
  }
  ComplianceEvent e;
  e.kind = "dlp." + std::string(detectorKey(decisive->detector));
  e.severity = severity;
  e.actor = stanza.from.full();
  e.target = stanza.to.full();
  e.stanza_id = std::string(stanza.id());
  e.direction = direction;
  e.detail_json = detailJson(findings);
  const std::string what(detectorDescription(decisive->detector));

  switch (action) {
    case Action::Block: {
      e.action = EventAction::Blocked;
      Verdict v = Verdict::reject("Not sent: the message looks like it contains " + what +
                                  ". Use the approved secure channel for such data.");
      v.retry_after_change = true;
      return std::move(v).withEvent(std::move(e));
    }
    case Action::Redact: {
      e.action = EventAction::Redacted;
      applyRedactions(stanza.element, fields, findings);
      if (notice) {
        *notice = xml::Element(std::string(kClientNs), "message");
        notice->setAttr("to", stanza.from.full());
        notice->setAttr("type", "headline");
        notice->addChild(std::string(kClientNs), "body")
            .addText("Your message to " + stanza.to.bareString() + " was delivered with " + what +
                     " masked (IM policy " + kClause +
                     "). Use the approved secure channel for such data.");
      }
      return Verdict::modify().withEvent(std::move(e));
    }
    case Action::Flag:
      e.action = EventAction::Flagged;
      return Verdict::pass().withEvent(std::move(e));
  }
  return Verdict::pass();
}

}  // namespace parley::modules::dlp

PARLEY_MODULE(parley::modules::dlp::kName, parley::modules::dlp::kClause,
              parley::modules::dlp::kDefaultPriority, parley::modules::dlp::DlpModule)
