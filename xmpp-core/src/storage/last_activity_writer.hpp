#pragma once
// Write-behind for last activity (XEP-0012). Every logout records one row; awaiting a database
// round trip for each would put a thread hand-off and a commit on the logout path of every
// session, and a mass disconnect would queue thousands of them in front of logins. Instead a
// logout is recorded in memory and one database job writes whatever has accumulated, in one
// statement. Reads see recorded values before they reach the table.
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "storage/db_pool.hpp"
#include "storage/stores.hpp"

namespace parley::storage {

class LastActivityWriter {
 public:
  explicit LastActivityWriter(DbPool& db);

  // Records `owner`'s logout; the row is written by a database job soon after. Never blocks.
  void record(const std::string& owner, LastActivity activity);

  // A value recorded but not yet known to be in the table, if any.
  std::optional<LastActivity> pending(const std::string& owner) const;

 private:
  // Shared with the queued flush job, which may run after this object is gone (the pool drains
  // its queue when it is destroyed, and it outlives the server context that owns the writer).
  struct State {
    explicit State(DbPool& pool) : db(pool) {}
    DbPool& db;
    std::mutex mutex;
    std::map<std::string, LastActivity> waiting;    // not yet taken by a flush job
    std::map<std::string, LastActivity> in_flight;  // taken, not yet committed
    bool flush_queued = false;
  };
  static void schedule(const std::shared_ptr<State>& state);  // with state->mutex held
  static void flush(const std::shared_ptr<State>& state, pqxx::connection& c);

  std::shared_ptr<State> state_;
};

}  // namespace parley::storage
