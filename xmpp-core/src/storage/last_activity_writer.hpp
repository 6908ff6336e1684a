#pragma once
// Write-behind for last activity (XEP-0012). Every logout records one row; awaiting a database
// round trip for each would put a thread hand-off and a commit on the logout path of every
// session, and a mass disconnect would queue thousands of them in front of logins. Instead a
// logout is recorded in memory and, a moment later (kDelay), one database job writes whatever
// has accumulated, in one statement. Reads see recorded values before they reach the table.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
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
  static constexpr std::chrono::milliseconds kDelay{100};

  // The delay runs on `io`, the writes on `db`; `db` must outlive this object, `io` too.
  LastActivityWriter(DbPool& db, boost::asio::io_context& io);
  // Hands whatever is still waiting to the pool (which writes it before it stops).
  ~LastActivityWriter();
  LastActivityWriter(const LastActivityWriter&) = delete;
  LastActivityWriter& operator=(const LastActivityWriter&) = delete;

  // Records `owner`'s logout; the row is written by a database job soon after. Never blocks.
  void record(const std::string& owner, LastActivity activity);

  // A value recorded but not yet known to be in the table, if any.
  std::optional<LastActivity> pending(const std::string& owner) const;

 private:
  // Shared with the timer handler and the flush job, which may run after this object is gone
  // (the pool drains its queue when it is destroyed, after the server context that owns this).
  struct State {
    explicit State(DbPool& pool) : db(pool) {}
    DbPool& db;
    std::mutex mutex;
    std::map<std::string, LastActivity> waiting;    // not yet taken by a flush job
    std::map<std::string, LastActivity> in_flight;  // taken, not yet committed
    bool timer_armed = false;
    bool flush_queued = false;
  };
  static void postFlush(const std::shared_ptr<State>& state);  // with state->mutex held
  static void flush(const std::shared_ptr<State>& state, pqxx::connection& c);

  std::shared_ptr<State> state_;
  boost::asio::steady_timer timer_;  // used under state_->mutex
};

}  // namespace parley::storage
