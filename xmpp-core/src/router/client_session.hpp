#pragma once
// What the router knows of a bound client session, independent of how its bytes travel. The
// network layer (net/c2s_session) implements it; the router reads presence state from any
// thread and hands stanzas over with deliver(), which never blocks the caller.

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "parley/jid.hpp"
#include "xml/element.hpp"

namespace parley::router {

class ClientSession {
 public:
  virtual ~ClientSession() = default;

  // The bound full JID; fixed once the session is registered.
  const Jid& jid() const { return jid_; }

  // Queues a stanza for this client. Thread-safe, non-blocking; a client that stops reading is
  // disconnected when its queue exceeds the configured bound, without slowing the sender.
  virtual void deliver(std::shared_ptr<const xml::Element> stanza) = 0;
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

  // Full JIDs this session sent directed presence to (RFC 6121 §4.6), told when it goes
  // unavailable. Touched only on the session's own strand.
  std::set<std::string> directed_presence_targets;

 protected:
  Jid jid_;

 private:
  std::atomic<bool> available_{false};
  std::atomic<int> priority_{0};
  std::atomic<bool> roster_requested_{false};
  mutable std::mutex presence_mutex_;
  std::shared_ptr<const xml::Element> presence_;
};

using SessionPtr = std::shared_ptr<ClientSession>;

}  // namespace parley::router
