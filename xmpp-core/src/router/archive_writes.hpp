#pragma once
// Which archives have a write in flight. The router writes a message into the archives after
// delivering it, a few milliseconds later in a group commit (router/archive_writer.hpp), so for
// that long a client may hold a message, and its stanza-id, that a query of its archive would
// not find yet: a client that answers a message by asking for what came after it would get
// item-not-found. Archive
// queries therefore wait (briefly, see xep/mam.cpp) while their owner's archive has writes in
// flight. Thread-safe.
#include <memory>
#include <mutex>
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

 private:
  struct State {
    std::mutex mutex;
    std::unordered_map<std::string, int> in_flight;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace parley::router
