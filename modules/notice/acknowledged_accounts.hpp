#pragma once
// The accounts that acknowledged one version of the notice: what the table
// policy_acknowledgements holds, plus the acknowledgements recorded since it was last read.
// Hooks read it on network threads; the module-jobs thread changes it.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace parley::modules::notice {

class AcknowledgedAccounts {
 public:
  // One set per policy version, shared by every instance of the module in this process: a
  // reload builds a new instance while the old one still runs, and the new one must neither
  // forget who acknowledged nor make them wait while it reads the table again.
  static std::shared_ptr<AcknowledgedAccounts> forVersion(const std::string& version);

  bool contains(std::string_view account) const;  // bare JID
  bool loaded() const;                            // the table was read at least once
  void add(const std::string& account);

  // Reading the table: beginRefresh() before the query is sent (false when one is already in
  // flight), then finishRefresh() with its rows, which become the set together with what
  // add() recorded meanwhile, or abandonRefresh() when it failed.
  bool beginRefresh();
  void finishRefresh(std::vector<std::string> accounts);
  void abandonRefresh();
  // Waits until no read is in flight (it finished or failed), or `limit` passed; returns
  // loaded().
  bool waitRefreshed(std::chrono::milliseconds limit) const;

 private:
  mutable std::shared_mutex mutex_;
  std::set<std::string, std::less<>> accounts_;
  std::set<std::string> added_during_refresh_;
  bool refreshing_ = false;
  bool loaded_ = false;
  mutable std::mutex refreshed_mutex_;
  mutable std::condition_variable refreshed_;
};

}  // namespace parley::modules::notice
