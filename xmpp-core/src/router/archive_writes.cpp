#include "router/archive_writes.hpp"

namespace parley::router {

ArchiveWrites::Hold ArchiveWrites::begin(const std::vector<std::string>& owners) {
  {
    std::lock_guard lock(state_->mutex);
    for (const auto& o : owners) ++state_->in_flight[o];
  }
  // A shared_ptr to no object: its deleter runs once, when the last copy goes.
  return Hold(nullptr, [state = state_, owners](void*) {
    std::lock_guard lock(state->mutex);
    for (const auto& o : owners) {
      auto it = state->in_flight.find(o);
      if (it != state->in_flight.end() && --it->second == 0) state->in_flight.erase(it);
    }
  });
}

int ArchiveWrites::inFlight(const std::string& owner) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->in_flight.find(owner);
  return it == state_->in_flight.end() ? 0 : it->second;
}

}  // namespace parley::router
