#pragma once
// IM policy §3 Confidentiality: no client lists, personal information, credit card information,
// trade secrets or other proprietary information over IM. This module finds them in what
// employees send (message bodies, subjects, XHTML-IM, out-of-band links, presence status) after
// normalising away the usual evasions, and blocks, redacts or flags per detector. Events carry
// masked excerpts only.
#include <memory>
#include <string>

#include "dlp_settings.hpp"
#include "normalized_text.hpp"
#include "parley/host.hpp"
#include "parley/module.hpp"

namespace parley::modules::dlp {

inline constexpr const char* kName = "dlp";
inline constexpr const char* kClause = "§3 Confidentiality";
inline constexpr int kDefaultPriority = 40;  // before acceptable use; after e2ee's refusal

class DlpModule final : public Module {
 public:
  DlpModule();
  void configure(const YAML::Node& config) override;
  // Registers stanza.in for clients (and for federated servers when this core dispatches it).
  void attach(Host& host) override;

  // The decision, callable without a Host. May rewrite `stanza` (redaction); `notice`, when
  // given, receives the message that tells the sender what was masked.
  Verdict check(Stanza& stanza, Direction direction, xml::Element* notice = nullptr) const;

  const Settings& settings() const { return settings_; }

 private:
  Settings settings_;
  std::shared_ptr<const TextNormalizer> normalizer_;
  Host* host_ = nullptr;
};

}  // namespace parley::modules::dlp
