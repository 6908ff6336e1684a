#pragma once
// What the router knows of a bound client session, independent of how its bytes travel. The
// network layer (net/c2s_session) implements it; the router reads presence state from any
// thread and hands stanzas over with deliver(), which never blocks the caller.

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "parley/jid.hpp"
#include "parley/xml/element.hpp"
#include "storage/stores.hpp"

namespace parley::router {

class ClientSession {
 public:
  virtual ~ClientSession() = default;

  // The bound full JID; fixed once the session is registered.
  const Jid& jid() const { return jid_; }

  // Queues a stanza for this client. Thread-safe, non-blocking; a client that stops reading is
  // disconnected when its queue exceeds the configured bound, without slowing the sender.
  virtual void deliver(std::shared_ptr<const xml::Element> stanza) = 0;
  // Queues stored stanzas (offline messages, another resource's undelivered ones) in one go.
  // They do not count towards the queue bound: a backlog bigger than the bound says nothing
  // about whether the client reads; what is queued behind it still counts.
  virtual void deliverBacklog(std::vector<std::shared_ptr<const xml::Element>> stanzas) = 0;
  // Ends the session with a stream error (e.g. <conflict/> when a new login takes the resource).
  virtual void kick(std::string condition, std::string text) = 0;

  // Presence state shared with the router (RFC 6121 §4). Available sessions with a priority.
  bool available() const { return available_.load(std::memory_order_acquire); }
  int priority() const { return priority_.load(std::memory_order_relaxed); }
  bool rosterRequested() const { return roster_requested_.load(std::memory_order_relaxed); }
  void setRosterRequested() { roster_requested_.store(true, std::memory_order_relaxed); }
  // The last broadcast available presence (null while unavailable).
  std::shared_ptr<const xml::Element> presence() const {
    std::lock_guard lock(presence_mutex_);
    return presence_;
  }
  void setPresence(std::shared_ptr<const xml::Element> presence, int priority) {
    std::lock_guard lock(presence_mutex_);
    presence_ = std::move(presence);
    priority_.store(priority, std::memory_order_relaxed);
    available_.store(presence_ != nullptr, std::memory_order_release);
  }

  // The account's roster as this session last knew it: loaded at initial presence and kept
  // current by roster pushes, so presence broadcasts and the unavailable broadcast at logout
  // need no database round trip. Null until first loaded. Thread-safe (pushes come from other
  // sessions' strands).
  std::shared_ptr<const storage::Roster> cachedRoster() const {
    std::lock_guard lock(roster_mutex_);
    return roster_;
  }
  // Versions make the copy safe against races: a change announced while the roster was being
  // loaded, or announced out of order, makes the copy null (reloaded when next needed) instead
  // of silently stale.
  void setCachedRoster(std::shared_ptr<const storage::Roster> roster) {
    std::lock_guard lock(roster_mutex_);
    roster_ = roster && roster->version >= newest_version_ ? std::move(roster) : nullptr;
  }
  // Applies one announced change (insert/replace, or remove) to the cached roster, if any.
  // Every version bump of the account's roster is announced, listed item or not.
  void updateCachedRoster(const storage::RosterItem& item, int64_t version, bool removed) {
    std::lock_guard lock(roster_mutex_);
    newest_version_ = std::max(newest_version_, version);
    if (!roster_ || version <= roster_->version) return;  // nothing cached, or already in it
    if (version != roster_->version + 1) {
      roster_ = nullptr;  // a change in between was missed (or is still on its way)
      return;
    }
    auto next = std::make_shared<storage::Roster>(*roster_);
    next->version = version;
    std::erase_if(next->items, [&](const auto& i) { return i.contact == item.contact; });
    if (!removed) next->items.push_back(item);
    roster_ = std::move(next);
  }

  // XEP-0191: whether this client asked for the blocklist (it then gets block/unblock pushes).
  bool blocklistRequested() const { return blocklist_requested_.load(std::memory_order_relaxed); }
  void setBlocklistRequested() { blocklist_requested_.store(true, std::memory_order_relaxed); }

  // XEP-0280: whether this client asked for copies of its account's other conversations.
  bool carbonsEnabled() const { return carbons_.load(std::memory_order_relaxed); }
  void setCarbons(bool enabled) { carbons_.store(enabled, std::memory_order_relaxed); }

  // What the client said it supports (its disco#info features, learnt through XEP-0115 caps):
  // "<node>+notify" asks for PEP notifications of that node. Null until known. Thread-safe
  // (publishes on other sessions' strands read it).
  std::shared_ptr<const std::set<std::string>> clientFeatures() const {
    std::lock_guard lock(features_mutex_);
    return client_features_;
  }
  // Returns the previous value.
  std::shared_ptr<const std::set<std::string>> setClientFeatures(
      std::shared_ptr<const std::set<std::string>> features) {
    std::lock_guard lock(features_mutex_);
    std::swap(client_features_, features);
    return features;
  }
  bool wantsNotify(const std::string& node) const {
    std::lock_guard lock(features_mutex_);
    return client_features_ && client_features_->count(node + "+notify") > 0;
  }

  // Full JIDs this session sent directed presence to (RFC 6121 §4.6), told when it goes
  // unavailable. Touched only on the session's own strand.
  std::set<std::string> directed_presence_targets;

 protected:
  Jid jid_;

 private:
  std::atomic<bool> available_{false};
  std::atomic<int> priority_{0};
  std::atomic<bool> roster_requested_{false};
  std::atomic<bool> carbons_{false};
  std::atomic<bool> blocklist_requested_{false};
  mutable std::mutex presence_mutex_;
  mutable std::mutex roster_mutex_;
  mutable std::mutex features_mutex_;
  std::shared_ptr<const std::set<std::string>> client_features_;
  std::shared_ptr<const storage::Roster> roster_;
  int64_t newest_version_ = 0;  // highest version announced to updateCachedRoster
  std::shared_ptr<const xml::Element> presence_;
};

using SessionPtr = std::shared_ptr<ClientSession>;

}  // namespace parley::router
