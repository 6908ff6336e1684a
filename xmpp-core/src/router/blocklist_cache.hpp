#pragma once
// The blocklists (XEP-0191) the router checks, in memory so that routing a stanza costs no
// database round trip. An account's list is loaded when its first session binds and kept, one
// snapshot shared by all its sessions, until its last session ends; a block or unblock offers
// the list it wrote. Most accounts never block anyone: an index of the accounts that have a
// stored list, filled at start-up and by every block, answers "empty" for all others, so their
// logins read nothing. "Empty" is exact while this process is the only writer of the blocklist
// tables (parleyd is; deleting an account only removes rows).
//
// Changes can finish out of order (the pool has several database threads), so every snapshot
// carries the version its transaction wrote and the newest one wins. A snapshot is kept only
// while a session of the account is counted: one offered after the last session ended is
// dropped, and the next login reads the database again.

#include <array>
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "router/blocklist.hpp"

namespace parley::router {

class BlocklistCache {
 public:
  // Reads an account's list from the database (without blocking the caller's thread).
  using Loader =
      std::function<boost::asio::awaitable<std::shared_ptr<const Blocklist>>(std::string owner)>;
  explicit BlocklistCache(Loader load) : load_(std::move(load)) {}

  // Start-up: the accounts with a stored list (storage::ownersWithBlocklist).
  void markOwners(const std::vector<std::string>& owners);
  // Before an account's first block is written, so a login that starts meanwhile reads it.
  void markOwner(const std::string& owner);

  // A session of `owner` is binding: counts it and makes sure the list is in memory before the
  // session can receive anything. Throws (with the count undone) when the list cannot be read.
  boost::asio::awaitable<void> attach(std::string owner);
  // That session ended (after attach() succeeded).
  void detach(const std::string& owner);

  // Never blocks: the list of an account with a bound session, the empty list of an account that
  // never blocked anyone, or null (an offline account with a stored list: use get()).
  std::shared_ptr<const Blocklist> find(const std::string& owner) const;
  // find(), or else the list read from the database (not kept: the account has no session).
  boost::asio::awaitable<std::shared_ptr<const Blocklist>> get(std::string owner);
  // A list read or written by the database: kept if a session of `owner` is counted and it is
  // newer than the one in memory.
  void offer(std::shared_ptr<const Blocklist> list);

 private:
  struct Entry {
    size_t sessions = 0;
    std::shared_ptr<const Blocklist> list;  // null while the first session's load runs
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, Entry> entries;
    std::unordered_set<std::string> listed;  // accounts that may have a stored list
  };
  Shard& shardFor(const std::string& owner);
  const Shard& shardFor(const std::string& owner) const;

  Loader load_;
  std::array<Shard, 16> shards_;
};

}  // namespace parley::router
