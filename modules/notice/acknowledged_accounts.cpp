#include "acknowledged_accounts.hpp"

#include <map>

namespace parley::modules::notice {

std::shared_ptr<AcknowledgedAccounts> AcknowledgedAccounts::forVersion(const std::string& version) {
  static std::mutex registry_mutex;
  static std::map<std::string, std::weak_ptr<AcknowledgedAccounts>> registry;
  std::lock_guard lock(registry_mutex);
  for (auto it = registry.begin(); it != registry.end();) {
    it = it->second.expired() ? registry.erase(it) : std::next(it);
  }
  if (auto existing = registry[version].lock()) return existing;
  auto fresh = std::make_shared<AcknowledgedAccounts>();
  registry[version] = fresh;
  return fresh;
}

bool AcknowledgedAccounts::contains(std::string_view account) const {
  std::shared_lock lock(mutex_);
  return accounts_.find(account) != accounts_.end();
}

bool AcknowledgedAccounts::loaded() const {
  std::shared_lock lock(mutex_);
  return loaded_;
}

void AcknowledgedAccounts::add(const std::string& account) {
  std::unique_lock lock(mutex_);
  accounts_.insert(account);
  if (refreshing_) added_during_refresh_.insert(account);
}

bool AcknowledgedAccounts::beginRefresh() {
  std::unique_lock lock(mutex_);
  if (refreshing_) return false;
  refreshing_ = true;
  added_during_refresh_.clear();
  return true;
}

void AcknowledgedAccounts::finishRefresh(std::vector<std::string> accounts) {
  std::set<std::string, std::less<>> next(std::make_move_iterator(accounts.begin()),
                                          std::make_move_iterator(accounts.end()));
  {
    std::unique_lock lock(mutex_);
    next.insert(added_during_refresh_.begin(), added_during_refresh_.end());
    accounts_.swap(next);
    added_during_refresh_.clear();
    refreshing_ = false;
    loaded_ = true;
  }
  std::lock_guard lock(refreshed_mutex_);
  refreshed_.notify_all();
}

void AcknowledgedAccounts::abandonRefresh() {
  {
    std::unique_lock lock(mutex_);
    refreshing_ = false;
    added_during_refresh_.clear();
  }
  std::lock_guard lock(refreshed_mutex_);
  refreshed_.notify_all();
}

bool AcknowledgedAccounts::waitRefreshed(std::chrono::milliseconds limit) const {
  std::unique_lock lock(refreshed_mutex_);
  refreshed_.wait_for(lock, limit, [this]() {
    std::shared_lock state(mutex_);
    return !refreshing_;
  });
  return loaded();
}

}  // namespace parley::modules::notice
