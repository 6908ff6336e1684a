#pragma once
// XEP-0198 stream management, the bookkeeping half: how many stanzas the server handled from
// the client (h), and which stanzas it sent that the client has not acknowledged yet, in
// order. Counters wrap at 2^32 as the XEP says. The connection half (elements on the wire,
// hibernation, resumption) is in C2sSession; this part is pure and unit-tested.
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>

#include "parley/xml/element.hpp"

namespace parley::net {

inline constexpr std::string_view kSmNs = "urn:xmpp:sm:3";

class StreamManagement {
 public:
  // A stanza sent (or queued to be sent) after <enable/>: its element when the router gave
  // one (so a message can go back to the router if it is never acknowledged), else its bytes.
  struct Unacked {
    std::shared_ptr<const xml::Element> stanza;
    std::string bytes;
  };

  bool enabled() const { return enabled_; }
  bool resumable() const { return !id_.empty(); }
  const std::string& id() const { return id_; }
  // `id` empty: acknowledgements only.
  void enable(std::string id) {
    enabled_ = true;
    id_ = std::move(id);
  }

  // One more stanza handled from the client.
  void handled() { ++handled_; }
  uint32_t handledCount() const { return handled_; }

  void sent(Unacked stanza) {
    if (!unacked_) unacked_ = std::make_unique<std::deque<Unacked>>();
    unacked_->push_back(std::move(stanza));
    ++sent_;
  }
  uint32_t sentCount() const { return sent_; }
  size_t unackedCount() const { return unacked_ ? unacked_->size() : 0; }

  // The client acknowledged everything up to `h`. False (and nothing changes) when h counts
  // stanzas that were never sent (<handled-count-too-high/>). An h behind what was already
  // acknowledged changes nothing: acknowledgements are cumulative.
  bool acknowledge(uint32_t h) {
    const size_t pending = unackedCount();
    const uint32_t acked = sent_ - static_cast<uint32_t>(pending);
    const uint32_t newly = h - acked;                    // modulo 2^32
    if (newly > pending) return acked - h < (1u << 31);  // stale, or too high
    if (newly > 0) unacked_->erase(unacked_->begin(), unacked_->begin() + newly);
    return true;
  }

  // For resumption: the state moves to the new connection, which continues the counters.
  std::deque<Unacked> takeUnacked() {
    if (!unacked_) return {};
    return std::exchange(*unacked_, {});
  }
  void restore(std::string id, uint32_t handled, uint32_t client_h) {
    enabled_ = true;
    id_ = std::move(id);
    handled_ = handled;
    sent_ = client_h;
    unacked_.reset();
  }

 private:
  bool enabled_ = false;
  std::string id_;
  uint32_t handled_ = 0;
  uint32_t sent_ = 0;
  // Allocated on first use: std::deque allocates even when empty, and most sessions never
  // enable stream management (idle sessions are what the server holds most of).
  std::unique_ptr<std::deque<Unacked>> unacked_;
};

}  // namespace parley::net
