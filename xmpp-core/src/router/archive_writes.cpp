#include "router/archive_writes.hpp"

namespace parley::router {

ArchiveWrites::Hold ArchiveWrites::begin(const std::vector<std::string>& owners) {
  uint64_t seq = 0;
  {
    std::lock_guard lock(state_->mutex);
    seq = ++state_->last;
    for (const auto& o : owners) state_->in_flight[o].insert(seq);
  }
  // A shared_ptr to no object: its deleter runs once, when the last copy goes.
  return Hold(nullptr, [state = state_, owners, seq](void*) {
    std::lock_guard lock(state->mutex);
    for (const auto& o : owners) {
      auto it = state->in_flight.find(o);
      if (it == state->in_flight.end()) continue;
      it->second.erase(seq);
      if (it->second.empty()) state->in_flight.erase(it);
    }
  });
}

int ArchiveWrites::inFlight(const std::string& owner) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->in_flight.find(owner);
  return it == state_->in_flight.end() ? 0 : static_cast<int>(it->second.size());
}

uint64_t ArchiveWrites::mark() const {
  std::lock_guard lock(state_->mutex);
  return state_->last;
}

bool ArchiveWrites::pendingBefore(const std::string& owner, uint64_t mark) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->in_flight.find(owner);
  return it != state_->in_flight.end() && *it->second.begin() <= mark;
}

}  // namespace parley::router
