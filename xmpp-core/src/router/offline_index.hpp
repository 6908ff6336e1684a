#pragma once
// Which accounts may have offline messages (XEP-0160) waiting. Most logins find none; asking
// the database each time costs a round trip on every login. The index is filled from the table
// at start-up and by every store, and emptied for an account when its messages are taken, so
// "no" is exact while this process is the only writer of offline_messages (parleyd is).
//
// A store racing a login is safe because each side checks the other after its own step: the
// login marks itself available before it asks the index, and the storer marks the index
// before it looks for available sessions. At least one of them sees the other.
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

namespace parley::router {

class OfflineIndex {
 public:
  void load(std::vector<std::string> owners);
  void add(const std::string& owner);
  // True if `owner` may have messages; clears the mark (the caller is about to take them).
  bool takeMark(const std::string& owner);

 private:
  std::mutex mutex_;
  std::unordered_set<std::string> owners_;
};

}  // namespace parley::router
