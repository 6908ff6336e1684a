#include "router/blocklist_cache.hpp"

#include <exception>

namespace parley::router {
namespace {

// Shared by every account that never blocked anyone.
const std::shared_ptr<const Blocklist>& emptyList() {
  static const auto empty = std::make_shared<const Blocklist>();
  return empty;
}

}  // namespace

BlocklistCache::Shard& BlocklistCache::shardFor(const std::string& owner) {
  return shards_[std::hash<std::string>{}(owner) % shards_.size()];
}

const BlocklistCache::Shard& BlocklistCache::shardFor(const std::string& owner) const {
  return shards_[std::hash<std::string>{}(owner) % shards_.size()];
}

void BlocklistCache::markOwners(const std::vector<std::string>& owners) {
  for (const auto& owner : owners) markOwner(owner);
}

void BlocklistCache::markOwner(const std::string& owner) {
  Shard& shard = shardFor(owner);
  std::lock_guard lock(shard.mutex);
  shard.listed.insert(owner);
}

boost::asio::awaitable<void> BlocklistCache::attach(std::string owner) {
  {
    Shard& shard = shardFor(owner);
    std::lock_guard lock(shard.mutex);
    Entry& entry = shard.entries[owner];
    ++entry.sessions;
    if (entry.list) co_return;  // another session of the account keeps it current
    if (!shard.listed.contains(owner)) {
      entry.list = emptyList();  // a block written from now on is offered with a newer version
      co_return;
    }
  }
  std::shared_ptr<const Blocklist> loaded;
  std::exception_ptr failure;
  try {
    loaded = co_await load_(owner);
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    detach(owner);
    std::rethrow_exception(failure);
  }
  offer(std::move(loaded));
}

void BlocklistCache::detach(const std::string& owner) {
  Shard& shard = shardFor(owner);
  std::lock_guard lock(shard.mutex);
  auto it = shard.entries.find(owner);
  if (it != shard.entries.end() && --it->second.sessions == 0) shard.entries.erase(it);
}

std::shared_ptr<const Blocklist> BlocklistCache::find(const std::string& owner) const {
  const Shard& shard = shardFor(owner);
  std::lock_guard lock(shard.mutex);
  auto it = shard.entries.find(owner);
  if (it != shard.entries.end() && it->second.list) return it->second.list;
  if (!shard.listed.contains(owner)) return emptyList();
  return nullptr;
}

boost::asio::awaitable<std::shared_ptr<const Blocklist>> BlocklistCache::get(std::string owner) {
  if (auto known = find(owner)) co_return known;
  co_return co_await load_(owner);
}

void BlocklistCache::offer(std::shared_ptr<const Blocklist> list) {
  Shard& shard = shardFor(list->owner());
  std::lock_guard lock(shard.mutex);
  auto it = shard.entries.find(list->owner());
  if (it == shard.entries.end()) return;  // no session: the next login reads the database
  auto& kept = it->second.list;
  if (!kept || list->version() > kept->version()) kept = std::move(list);
}

}  // namespace parley::router
