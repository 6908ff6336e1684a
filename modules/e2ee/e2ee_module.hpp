#pragma once
// IM policy §3 Confidentiality and §7 Privacy: company messages must stay inspectable (DLP,
// archive, legal hold), so end-to-end encryption is refused — OMEMO, OpenPGP for XMPP, legacy
// XEP-0027 PGP and OTR — and so is publishing OMEMO/OX keys to PEP, which makes clients fall
// back to plaintext instead of failing message by message. `mode: flag` delivers instead and
// records each encrypted stanza for review.

#include <string>

#include "e2ee_config.hpp"
#include "parley/host.hpp"
#include "parley/module.hpp"

namespace parley::modules::e2ee {

inline constexpr const char* kName = "e2ee";
inline constexpr const char* kClause = "§3 Confidentiality";
inline constexpr int kDefaultPriority = 50;

class E2eeModule final : public Module {
 public:
  void configure(const YAML::Node& config) override;
  // Registers stanza.in (c2s; s2s and pep.publish when this core dispatches them).
  void attach(Host& host) override;

  // The decisions, callable without a Host. `direction` is what the event records.
  Verdict checkStanza(const Stanza& stanza, Direction direction) const;
  Verdict checkPublish(const Stanza& publish) const;

  const Settings& settings() const { return settings_; }

 private:
  Settings settings_;
};

}  // namespace parley::modules::e2ee
