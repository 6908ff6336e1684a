#include "router/login_cache.hpp"

namespace parley::router {

std::optional<storage::StoredLogin> LoginCache::find(const std::string& account,
                                                     auth::ScramHash hash) {
  std::lock_guard lock(mutex_);
  if (!enabled_) return std::nullopt;
  auto it = entries_.find(Key(account, hash));
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

void LoginCache::insert(const std::string& account, auth::ScramHash hash,
                        storage::StoredLogin login, uint64_t generation_before_read) {
  std::lock_guard lock(mutex_);
  // An invalidation since the read began may concern this very account: do not keep it.
  if (!enabled_ || generation_.load(std::memory_order_acquire) != generation_before_read) return;
  // Crude but bounded: a full cache starts over (logins then refill it).
  if (entries_.size() >= capacity_) entries_.clear();
  entries_.insert_or_assign(Key(account, hash), std::move(login));
}

void LoginCache::forget(const std::string& account) {
  std::lock_guard lock(mutex_);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  entries_.erase(Key(account, auth::ScramHash::Sha1));
  entries_.erase(Key(account, auth::ScramHash::Sha256));
}

void LoginCache::forgetAll() {
  std::lock_guard lock(mutex_);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  entries_.clear();
}

void LoginCache::setEnabled(bool enabled) {
  std::lock_guard lock(mutex_);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  entries_.clear();
  enabled_ = enabled;
}

}  // namespace parley::router
