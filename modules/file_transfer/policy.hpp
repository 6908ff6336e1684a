#pragma once
// §4 File sharing, decided: what happens to a stanza the detector recognised (reject it, or
// let an exception group's member through), and which disco features a client must not see.
// Immutable once built, so hooks on any network thread share one instance without locking.

#include <optional>
#include <string>
#include <vector>

#include "detector.hpp"
#include "parley/host.hpp"
#include "settings.hpp"

namespace parley::modules::file_transfer {

class Policy {
 public:
  // `host` answers group membership; it outlives every hook that holds this policy.
  Policy(Settings settings, const Host& host) : settings_(std::move(settings)), host_(host) {}

  // stanza.in: pass, or reject with the reason and a compliance event.
  Verdict decide(const Stanza& stanza) const;
  // disco.info: removes what would make a client offer "send file".
  void hideFeatures(std::vector<std::string>& features) const;

 private:
  std::optional<std::string> exemptGroup(const Stanza& stanza) const;

  Settings settings_;
  const Host& host_;
};

}  // namespace parley::modules::file_transfer
