#include "content_scan.hpp"

#include <algorithm>

#include "national_ids.hpp"
#include "payment_cards.hpp"

namespace parley::modules::dlp {
namespace {

constexpr std::string_view kClientNs = "jabber:client";
constexpr std::string_view kXhtmlImNs = "http://jabber.org/protocol/xhtml-im";
constexpr std::string_view kOobNs = "jabber:x:oob";

std::vector<Match> detect(Detector d, std::string_view text) {
  switch (d) {
    case Detector::PaymentCards:
      return findPaymentCards(text);
    case Detector::Ssn:
      return findSsns(text);
    case Detector::Iban:
      return findIbans(text);
    case Detector::kCount:
      break;
  }
  return {};
}

bool endsWithSpace(const std::string& name) {
  static const std::string_view kBlocks[] = {"p",  "div",        "br",  "li",  "tr",  "td",
                                             "th", "h1",         "h2",  "h3",  "h4",  "h5",
                                             "h6", "blockquote", "pre", "url", "desc"};
  for (auto b : kBlocks) {
    if (name == b) return true;
  }
  return false;
}

void appendText(const xml::Element& element, std::string& out) {
  for (const auto& node : element.children()) {
    if (node.isText()) {
      out += node.text;
    } else {
      appendText(*node.element, out);
      if (endsWithSpace(node.element->name())) out += ' ';
    }
  }
}

}  // namespace

std::string fieldText(const xml::Element& element) {
  std::string out;
  appendText(element, out);
  return out;
}

std::vector<TextField> inspectedFields(const xml::Element& stanza) {
  std::vector<TextField> fields;
  if (stanza.name() == "message") {
    for (const auto* body : stanza.childrenNamed("body", kClientNs)) {
      fields.push_back({body, "body", true});
    }
    for (const auto* subject : stanza.childrenNamed("subject", kClientNs)) {
      fields.push_back({subject, "subject", true});
    }
    if (const auto* html = stanza.child("html", kXhtmlImNs))
      fields.push_back({html, "xhtml", false});
    for (const auto* oob : stanza.childrenNamed("x", kOobNs)) fields.push_back({oob, "oob", false});
  } else if (stanza.name() == "presence") {
    for (const auto* status : stanza.childrenNamed("status", kClientNs)) {
      fields.push_back({status, "status", true});
    }
  }
  return fields;
}

std::vector<Finding> scanText(const TextNormalizer& normalizer, const Settings& settings,
                              const std::string& text) {
  std::vector<Finding> findings;
  const NormalizedText normalized = normalizer.normalize(text);
  for (size_t i = 0; i < kDetectors; ++i) {
    const auto d = static_cast<Detector>(i);
    const DetectorSettings& s = settings.of(d);
    if (!s.enabled) continue;
    for (auto& m : detect(d, normalized.text)) {
      if (m.confidence < s.min_confidence) continue;
      const auto original = normalized.original(m.begin, m.end);
      findings.push_back({d, std::move(m), {}, 0, original});
    }
  }
  return findings;
}

std::string redact(const std::string& text,
                   std::vector<std::pair<std::pair<size_t, size_t>, std::string>> spans) {
  std::sort(spans.begin(), spans.end());
  std::string out;
  size_t at = 0;
  for (const auto& [span, mask] : spans) {
    if (span.first < at) continue;  // overlaps one already masked
    out.append(text, at, span.first - at);
    out.append(mask);
    at = span.second;
  }
  out.append(text, at, std::string::npos);
  return out;
}

}  // namespace parley::modules::dlp
