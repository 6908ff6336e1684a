#include "router/archive_prefs_cache.hpp"

namespace parley::router {

ArchivePrefsCache::Prefs ArchivePrefsCache::find(const std::string& owner) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(owner);
  return it == entries_.end() ? nullptr : it->second;
}

void ArchivePrefsCache::insertLoaded(const std::string& owner, Prefs prefs,
                                     uint64_t generation_before_read) {
  std::lock_guard lock(mutex_);
  // A change since the read began may concern this very account: do not keep the old value.
  if (generation_.load(std::memory_order_acquire) != generation_before_read) return;
  insertLocked(owner, std::move(prefs));
}

void ArchivePrefsCache::put(const std::string& owner, Prefs prefs) {
  std::lock_guard lock(mutex_);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  insertLocked(owner, std::move(prefs));
}

void ArchivePrefsCache::forget(const std::string& owner) {
  std::lock_guard lock(mutex_);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  entries_.erase(owner);
}

void ArchivePrefsCache::forgetAll() {
  std::lock_guard lock(mutex_);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  entries_.clear();
}

void ArchivePrefsCache::insertLocked(const std::string& owner, Prefs prefs) {
  // Crude but bounded, as the login cache: a full cache starts over.
  if (entries_.size() >= capacity_ && !entries_.count(owner)) entries_.clear();
  entries_.insert_or_assign(owner, std::move(prefs));
}

}  // namespace parley::router
