#pragma once
// The points in the routing path where policy can act, and what a hook answers. In this issue
// the chains are empty (every stanza passes); the module host (issue 3) registers handlers into
// them without re-plumbing the router. A chain is an immutable snapshot swapped atomically, so
// dispatch takes no lock.

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "parley/stanza.hpp"

namespace parley {

enum class HookPoint {
  SessionOpened,
  SessionClosed,
  StanzaFromClient,     // stanza.in (c2s)
  StanzaFromServer,     // stanza.in (s2s)
  PreRoute,             // stanza.route: every stanza before the router decides
  BeforeRemoteSend,     // stanza.out.s2s
  BeforeLocalDelivery,  // stanza.deliver: per local recipient session
  Decided,              // observe only: every stanza with its final verdict
  kCount,
};

struct Verdict {
  enum class Kind { Pass, Modify, Drop, Reject };
  Kind kind = Kind::Pass;
  std::string condition;  // with Reject: RFC 6120 stanza error condition, default policy-violation
  std::string text;       // with Reject: what the sender is told, naming the policy clause

  static Verdict pass() { return {}; }
  static Verdict drop() { return {Kind::Drop, {}, {}}; }
  static Verdict reject(std::string condition, std::string text) {
    return {Kind::Reject, std::move(condition), std::move(text)};
  }
  bool stops() const { return kind == Kind::Drop || kind == Kind::Reject; }
};

using HookFn = std::function<Verdict(Stanza&)>;

class HookChains {
 public:
  HookChains();
  // Runs the chain for `point` in priority order; stops at the first drop or reject.
  Verdict run(HookPoint point, Stanza& stanza) const;
  // Replaces the chain for `point` (used by the module host).
  void replace(HookPoint point, std::vector<HookFn> chain);

 private:
  using Chain = std::vector<HookFn>;
  std::shared_ptr<const Chain> chains_[static_cast<int>(HookPoint::kCount)];
};

}  // namespace parley
