#include "parley/hooks.hpp"

namespace parley {

HookChains::HookChains() {
  for (auto& chain : chains_) chain = std::make_shared<const Chain>();
}

Verdict HookChains::run(HookPoint point, Stanza& stanza) const {
  auto chain = std::atomic_load(&chains_[static_cast<int>(point)]);
  for (const auto& hook : *chain) {
    Verdict verdict = hook(stanza);
    if (verdict.stops()) return verdict;
  }
  return Verdict::pass();
}

void HookChains::replace(HookPoint point, std::vector<HookFn> chain) {
  std::atomic_store(&chains_[static_cast<int>(point)],
                    std::shared_ptr<const Chain>(std::make_shared<Chain>(std::move(chain))));
}

}  // namespace parley
