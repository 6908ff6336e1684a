#pragma once
// The dlp module's own configuration keys (the core keeps enabled, monitor_only, priority,
// on_error): one entry per detector under `detectors:`, validated in full before the module
// attaches, so a typo refuses the configuration instead of silently weakening the policy.
//
//   detectors:
//     payment_cards: {action: block, severity: high}
//     ssn:           {action: block, min_confidence: medium}
//     iban:          {action: redact}
#include <yaml-cpp/yaml.h>

#include <array>
#include <string_view>

#include "match.hpp"
#include "parley/event.hpp"

namespace parley::modules::dlp {

enum class Detector { PaymentCards, Ssn, Iban, kCount };
inline constexpr size_t kDetectors = static_cast<size_t>(Detector::kCount);

// The configuration key, and what the sender is told the message looked like it contained.
std::string_view detectorKey(Detector d);
std::string_view detectorDescription(Detector d);

enum class Action {
  Block,   // not delivered; the sender gets policy-violation with a reason
  Redact,  // delivered with the match masked; the sender is told
  Flag,    // delivered unchanged; an event for the compliance officer
};
std::string_view actionKey(Action a);

struct DetectorSettings {
  bool enabled = true;
  Action action = Action::Block;
  Severity severity = Severity::High;
  Confidence min_confidence = Confidence::Medium;
};

struct Settings {
  std::array<DetectorSettings, kDetectors> detectors;
  const DetectorSettings& of(Detector d) const { return detectors[static_cast<size_t>(d)]; }
};

// Throws parley::ConfigError naming the key ("detectors.ssn.action"). A null node gives the
// defaults: every detector on, blocking, high severity, medium confidence at least.
Settings parseSettings(const YAML::Node& config);

}  // namespace parley::modules::dlp
