#pragma once
// Which archives have a write in flight. The router writes a message into the archives after
// delivering it, a few milliseconds later in a group commit (router/archive_writer.hpp), so for
// that long a client may hold a message, and its stanza-id, that a query of its archive would
// not find yet: a client that answers a message by asking for what came after it would get
// item-not-found. Archive
// queries therefore wait (briefly, see xep/mam.cpp) while their owner's archive has writes in
// flight. Thread-safe.
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace parley::router {

class ArchiveWrites {
 public:
  // Held for as long as the write to these owners' archives is in flight; releasing the last
  // copy ends it. A hold may outlive this object (a coroutine destroyed at shutdown).
  using Hold = std::shared_ptr<void>;
  Hold begin(const std::vector<std::string>& owners);
  bool pending(const std::string& owner) const { return inFlight(owner) > 0; }
  // How many messages of `owner`'s archive are in flight.
  int inFlight(const std::string& owner) const;

  // A point in time for pendingBefore(): an archive query waits for the writes begun before it
  // arrived, not for the ones that keep arriving (a busy account always has some in flight).
  uint64_t mark() const;
  bool pendingBefore(const std::string& owner, uint64_t mark) const;

 private:
  struct State {
    std::mutex mutex;
    uint64_t last = 0;  // sequence number of the latest begin()
    std::unordered_map<std::string, std::set<uint64_t>> in_flight;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace parley::router
