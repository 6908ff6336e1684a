#pragma once
// Every bound client session, by bare JID. Sharded so that concurrent logins and deliveries on
// different accounts never contend on one lock.

#include <array>
#include <atomic>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "router/client_session.hpp"

namespace parley::router {

class SessionRegistry {
 public:
  // Registers `session` under its full JID; returns the session it replaced (same full JID),
  // which the caller must kick with <conflict/>.
  SessionPtr add(const SessionPtr& session);
  // Removes `session` if it is still the one registered under its JID.
  void remove(const ClientSession* session);
  // All sessions of an account (any order).
  std::vector<SessionPtr> sessionsOf(const std::string& bare) const;
  SessionPtr find(const Jid& full) const;
  // A snapshot of every session (shutdown, admin listings).
  std::vector<SessionPtr> all() const;
  size_t size() const { return size_.load(std::memory_order_relaxed); }

 private:
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, std::vector<SessionPtr>> by_bare;
  };
  Shard& shardFor(const std::string& bare);
  const Shard& shardFor(const std::string& bare) const;

  std::array<Shard, 64> shards_;
  std::atomic<size_t> size_{0};
};

}  // namespace parley::router
