#pragma once
// The archiving preferences (XEP-0441) of accounts that sent or received a message recently,
// kept in memory so that deciding whether to archive a message costs no database round trip
// before delivery. This process writes every change (the urn:xmpp:mam:2 prefs service puts the
// new value here after storing it) and forgets an account when the database reports it
// changed (deleted), so an entry is current. A value read from the database is only kept if
// nothing was put or forgotten while it was being read (the generation check).
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "storage/mam_store.hpp"

namespace parley::router {

class ArchivePrefsCache {
 public:
  using Prefs = std::shared_ptr<const storage::ArchivePrefs>;

  explicit ArchivePrefsCache(size_t capacity) : capacity_(capacity) {}

  Prefs find(const std::string& owner) const;
  // Read before asking the database; pass it to insertLoaded().
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  void insertLoaded(const std::string& owner, Prefs prefs, uint64_t generation_before_read);
  // The owner changed their preferences (already stored).
  void put(const std::string& owner, Prefs prefs);
  void forget(const std::string& owner);
  void forgetAll();

 private:
  void insertLocked(const std::string& owner, Prefs prefs);

  size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Prefs> entries_;
  std::atomic<uint64_t> generation_{0};
};

}  // namespace parley::router
