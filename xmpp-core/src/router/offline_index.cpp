#include "router/offline_index.hpp"

namespace parley::router {

void OfflineIndex::load(std::vector<std::string> owners) {
  std::lock_guard lock(mutex_);
  for (auto& owner : owners) owners_.insert(std::move(owner));
}

void OfflineIndex::add(const std::string& owner) {
  std::lock_guard lock(mutex_);
  owners_.insert(owner);
}

bool OfflineIndex::takeMark(const std::string& owner) {
  std::lock_guard lock(mutex_);
  return owners_.erase(owner) > 0;
}

}  // namespace parley::router
