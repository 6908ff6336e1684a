#pragma once
// What SCRAM needs to verify a login (salt, iteration count, keys, disabled flag), kept in
// memory for accounts that logged in recently, so a login costs no database round trip before
// the server's first challenge. Correctness rests on invalidation: the database notifies every
// change to an account or its credentials (schemas/002), AccountChangeListener forwards it
// here, and while that channel is down the cache is off. A value read from the database is
// only kept if nothing was invalidated while it was being read (the generation check).
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "storage/stores.hpp"

namespace parley::router {

class LoginCache {
 public:
  explicit LoginCache(size_t capacity) : capacity_(capacity) {}

  std::optional<storage::StoredLogin> find(const std::string& account, auth::ScramHash hash);
  // Read before asking the database; pass it to insert().
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  void insert(const std::string& account, auth::ScramHash hash, storage::StoredLogin login,
              uint64_t generation_before_read);

  void forget(const std::string& account);
  void forgetAll();
  // Off while changes cannot be heard (no LISTEN connection): nothing is found or kept.
  void setEnabled(bool enabled);

 private:
  using Key = std::pair<std::string, auth::ScramHash>;
  size_t capacity_;
  std::mutex mutex_;
  std::map<Key, storage::StoredLogin> entries_;
  std::atomic<uint64_t> generation_{0};
  bool enabled_ = false;
};

}  // namespace parley::router
