#include "dlp_settings.hpp"

#include <string>

#include "parley/module.hpp"

namespace parley::modules::dlp {
namespace {

std::string scalar(const YAML::Node& value) { return value.IsScalar() ? value.Scalar() : ""; }

[[noreturn]] void invalid(const std::string& key, const std::string& what, const YAML::Node& v) {
  throw ConfigError(key, what + (v.IsScalar() ? ", not '" + v.Scalar() + "'" : std::string()));
}

void parseDetector(const std::string& prefix, const YAML::Node& node, DetectorSettings& out) {
  if (!node || node.IsNull()) return;
  if (node.IsScalar()) {  // "payment_cards: off" / "payment_cards: block"
    const std::string v = node.Scalar();
    if (v == "off" || v == "false") {
      out.enabled = false;
      return;
    }
    if (v == "on" || v == "true") return;
    parseDetector(prefix, YAML::Load("{action: " + v + "}"), out);
    return;
  }
  if (!node.IsMap()) throw ConfigError(prefix, "must be a map (action, severity, ...) or off");
  for (const auto& entry : node) {
    const std::string key = scalar(entry.first);
    const YAML::Node& value = entry.second;
    const std::string where = prefix + "." + key;
    const std::string v = scalar(value);
    if (key == "enabled") {
      if (v != "true" && v != "false") invalid(where, "must be true or false", value);
      out.enabled = v == "true";
    } else if (key == "action") {
      if (v == "block") {
        out.action = Action::Block;
      } else if (v == "redact") {
        out.action = Action::Redact;
      } else if (v == "flag") {
        out.action = Action::Flag;
      } else {
        invalid(where, "must be block, redact or flag", value);
      }
    } else if (key == "severity") {
      bool known = false;
      for (auto s :
           {Severity::Info, Severity::Low, Severity::Medium, Severity::High, Severity::Critical}) {
        if (v == severityName(s)) {
          out.severity = s;
          known = true;
        }
      }
      if (!known) invalid(where, "must be info, low, medium, high or critical", value);
    } else if (key == "min_confidence") {
      if (v == "low") {
        out.min_confidence = Confidence::Low;
      } else if (v == "medium") {
        out.min_confidence = Confidence::Medium;
      } else if (v == "high") {
        out.min_confidence = Confidence::High;
      } else {
        invalid(where, "must be low, medium or high", value);
      }
    } else {
      throw ConfigError(where,
                        "unknown key (a detector takes: enabled, action, severity, "
                        "min_confidence)");
    }
  }
}

}  // namespace

std::string_view detectorKey(Detector d) {
  switch (d) {
    case Detector::PaymentCards:
      return "payment_cards";
    case Detector::Ssn:
      return "ssn";
    case Detector::Iban:
      return "iban";
    case Detector::kCount:
      break;
  }
  return "?";
}

std::string_view detectorDescription(Detector d) {
  switch (d) {
    case Detector::PaymentCards:
      return "a payment card number";
    case Detector::Ssn:
      return "a social security number";
    case Detector::Iban:
      return "a bank account number (IBAN)";
    case Detector::kCount:
      break;
  }
  return "confidential data";
}

std::string_view actionKey(Action a) {
  switch (a) {
    case Action::Block:
      return "block";
    case Action::Redact:
      return "redact";
    case Action::Flag:
      return "flag";
  }
  return "?";
}

Settings parseSettings(const YAML::Node& config) {
  Settings settings;
  if (!config || config.IsNull()) return settings;
  if (!config.IsMap()) throw ConfigError("", "the dlp settings must be a map of keys");
  for (const auto& entry : config) {
    const std::string key = scalar(entry.first);
    if (key != "detectors") throw ConfigError(key, "unknown key (dlp takes: detectors)");
    const YAML::Node& detectors = entry.second;
    if (detectors.IsNull()) continue;
    if (!detectors.IsMap()) throw ConfigError("detectors", "must be a map of detector names");
    for (const auto& d : detectors) {
      const std::string name = scalar(d.first);
      bool known = false;
      for (size_t i = 0; i < kDetectors; ++i) {
        if (name == detectorKey(static_cast<Detector>(i))) {
          parseDetector("detectors." + name, d.second, settings.detectors[i]);
          known = true;
        }
      }
      if (!known) {
        throw ConfigError("detectors." + name,
                          "unknown detector (known: payment_cards, ssn, iban)");
      }
    }
  }
  return settings;
}

}  // namespace parley::modules::dlp
