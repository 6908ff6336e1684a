#pragma once
// Group commit for the users' message archives (XEP-0313). Every archived chat message needs a
// row per archive; a database job and a commit for each would cost more than routing the
// message (a thread hand-off, a round trip and a WAL flush per message) and put PostgreSQL at
// a core's worth of load at a few thousand messages a second. Instead a delivered message's
// record waits here for a few milliseconds (kDelay) and one job writes whatever accumulated in
// one INSERT. While a write is running the next batch collects, so a busy server writes bigger
// batches rather than more of them.
//
// The write is after delivery and not awaited (router.cpp explains why the users' archive may
// trail delivery); ArchiveWrites holds, released once a record's batch is committed, let an
// archive query wait for it. The backlog is bounded: when the database cannot keep up, write()
// refuses and the router makes the sender wait for room (see Router::archiveDelivered).
// Thread-safe.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "router/archive_writes.hpp"
#include "storage/db_pool.hpp"
#include "storage/mam_store.hpp"

namespace parley::router {

class ArchiveWriter {
 public:
  static constexpr std::chrono::milliseconds kDelay{5};
  static constexpr size_t kMaxBatch = 500;      // records per database job
  static constexpr size_t kMaxBacklog = 20000;  // records queued or being written

  // The delay runs on `io`, the writes on `db`; both must outlive this object.
  ArchiveWriter(storage::DbPool& db, boost::asio::io_context& io);
  // Hands whatever is still queued to the pool (which writes it before it stops).
  ~ArchiveWriter();
  ArchiveWriter(const ArchiveWriter&) = delete;
  ArchiveWriter& operator=(const ArchiveWriter&) = delete;

  // Queues `record`; `hold` is released when its batch is committed or given up. False, with
  // both left as they were, when the backlog is full. Never blocks on the database.
  bool write(storage::ArchiveRecord&& record, ArchiveWrites::Hold&& hold);

  // Records queued or being written.
  size_t backlog() const;

  struct Counters {
    uint64_t written = 0;  // records committed
    uint64_t failed = 0;   // records the database refused (logged)
    uint64_t batches = 0;  // database jobs that wrote something
  };
  Counters counters() const;

 private:
  struct Item {
    storage::ArchiveRecord record;
    ArchiveWrites::Hold hold;
  };
  // Shared with the timer handler and the flush jobs, which may run after this object is gone
  // (the pool drains its queue when it is destroyed, after the server context that owns this).
  struct State {
    explicit State(storage::DbPool& pool) : db(pool) {}
    storage::DbPool& db;
    mutable std::mutex mutex;
    std::vector<Item> queued;                    // not yet taken by a flush job
    size_t writing = 0;                          // taken by the flush job in progress
    boost::asio::steady_timer* timer = nullptr;  // the writer's; null once it is gone
    bool timer_armed = false;
    bool flush_queued = false;  // a flush job is queued or running
    Counters counters;
  };
  // These three with state->mutex held.
  static void armTimer(const std::shared_ptr<State>& state);
  static void postFlush(const std::shared_ptr<State>& state);
  // The flush job's steps, on a database thread.
  static std::vector<Item> take(const std::shared_ptr<State>& state);
  // Returns how many records were not written. A broken connection is rethrown when the pool
  // may still retry the job on a new one.
  static size_t writeBatch(pqxx::connection& c, const std::vector<Item>& batch,
                           bool retry_on_new_connection);
  // Bookkeeping after a batch; true when this job must go on with the next one (the writer is
  // gone and records remain).
  static bool finish(const std::shared_ptr<State>& state, std::vector<Item> batch, size_t failed);

  std::shared_ptr<State> state_;
  boost::asio::steady_timer timer_;  // used under state_->mutex
};

}  // namespace parley::router
