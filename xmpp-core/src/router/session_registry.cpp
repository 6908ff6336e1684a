#include "router/session_registry.hpp"

#include <algorithm>
#include <functional>

namespace parley::router {

SessionRegistry::Shard& SessionRegistry::shardFor(const std::string& bare) {
  return shards_[std::hash<std::string>{}(bare) % shards_.size()];
}

const SessionRegistry::Shard& SessionRegistry::shardFor(const std::string& bare) const {
  return shards_[std::hash<std::string>{}(bare) % shards_.size()];
}

SessionPtr SessionRegistry::add(const SessionPtr& session) {
  std::string bare = session->jid().bareString();
  Shard& shard = shardFor(bare);
  std::lock_guard lock(shard.mutex);
  auto& list = shard.by_bare[bare];
  for (auto& existing : list) {
    if (existing->jid() == session->jid()) {
      SessionPtr replaced = existing;
      existing = session;
      return replaced;
    }
  }
  list.push_back(session);
  size_.fetch_add(1, std::memory_order_relaxed);
  return nullptr;
}

void SessionRegistry::remove(const ClientSession* session) {
  std::string bare = session->jid().bareString();
  Shard& shard = shardFor(bare);
  std::lock_guard lock(shard.mutex);
  auto it = shard.by_bare.find(bare);
  if (it == shard.by_bare.end()) return;
  auto& list = it->second;
  auto pos = std::find_if(list.begin(), list.end(),
                          [session](const SessionPtr& s) { return s.get() == session; });
  if (pos == list.end()) return;
  list.erase(pos);
  size_.fetch_sub(1, std::memory_order_relaxed);
  if (list.empty()) shard.by_bare.erase(it);
}

std::vector<SessionPtr> SessionRegistry::sessionsOf(const std::string& bare) const {
  const Shard& shard = shardFor(bare);
  std::lock_guard lock(shard.mutex);
  auto it = shard.by_bare.find(bare);
  if (it == shard.by_bare.end()) return {};
  return it->second;
}

SessionPtr SessionRegistry::find(const Jid& full) const {
  std::string bare = full.bareString();
  const Shard& shard = shardFor(bare);
  std::lock_guard lock(shard.mutex);
  auto it = shard.by_bare.find(bare);
  if (it == shard.by_bare.end()) return nullptr;
  for (const auto& s : it->second) {
    if (s->jid() == full) return s;
  }
  return nullptr;
}

std::vector<SessionPtr> SessionRegistry::all() const {
  std::vector<SessionPtr> out;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    for (const auto& [bare, list] : shard.by_bare) out.insert(out.end(), list.begin(), list.end());
  }
  return out;
}

}  // namespace parley::router
