#pragma once
// The compliance event pipeline (design.md, "Compliance events"): the EventSink the core hands
// every event to. emit() stamps the event (id, node, time) and queues it in memory; one writer
// thread with its own PostgreSQL connection takes batches off the queue and inserts each in one
// transaction; an event counts as written (acknowledged) only once committed, or once fsync'd
// to the spool (spool.hpp) while PostgreSQL is unreachable. Spooled events are replayed, in
// order and idempotently (by id), when it is back; while the spool holds anything, new batches
// go behind it. Nothing is dropped silently: if even the spool cannot be written, on_fatal
// tells the server to stop accepting traffic.
#include <pqxx/pqxx>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "events/spool.hpp"
#include "parley/event.hpp"

namespace parley::events {

struct PipelineOptions {
  // Events held in memory. When the writer is this far behind, emit() appends to the spool
  // itself (the caller pays an fsync, never a database round trip, and nothing is dropped).
  size_t queue_limit = 10000;
  size_t batch_max = 500;                         // events per INSERT transaction
  std::chrono::milliseconds flush_interval{200};  // a partial batch waits at most this long
  std::chrono::milliseconds reconnect_interval{1000};
  // Called once, from whichever thread found out, when the spool cannot be written (or
  // fsync'd): events can no longer be made durable, so the server must refuse new traffic.
  std::function<void(std::string why)> on_fatal;
};

struct PipelineMetrics {
  size_t queue_depth = 0;     // events waiting in memory
  uint64_t spool_bytes = 0;   // in spool segments not yet replayed
  uint64_t rows_written = 0;  // rows inserted (a replay of rows already there adds none)
  std::chrono::microseconds last_batch_latency{0};  // taking a batch → committed or fsync'd
  bool database_connected = false;
  uint64_t spooled = 0;    // events appended to the spool
  uint64_t replayed = 0;   // events read back from the spool and written to PostgreSQL
  uint64_t discarded = 0;  // torn or damaged spool records skipped on replay
  uint64_t rejected = 0;   // refused by PostgreSQL as data; kept in <spool_dir>/events.rejected
};

class Pipeline : public EventSink {
 public:
  // Never touches the database itself (the writer thread connects, and retries every
  // reconnect_interval), so a server starts while PostgreSQL is down. Throws SpoolError when
  // spool_dir cannot be created or is in use by another pipeline.
  Pipeline(std::string conninfo, std::string node_name, std::filesystem::path spool_dir,
           PipelineOptions options = {});
  // drain(), then stops the writer. Events still in memory go to PostgreSQL or the spool.
  ~Pipeline() override;
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Fills in id (random UUID; a valid one already set is kept), node and at (when unset;
  // rounded to microseconds, the table's resolution), makes every text valid UTF-8 and the
  // detail a JSON object, and queues the event. Thread-safe; never waits for PostgreSQL.
  void emit(ComplianceEvent event) override;

  // Returns once every event emitted before the call is committed or spooled: true, or false
  // when that is impossible because the spool failed (on_fatal has been called).
  bool drain();

  PipelineMetrics metrics() const;

 private:
  using Batch = std::vector<ComplianceEvent>;

  void run();                              // the writer thread
  void maintainConnection(bool stopping);  // reconnect when due, replay the spool
  void connect();
  bool write(const Batch& batch);           // to PostgreSQL or the spool
  bool insert(const Batch& batch);          // false: connection lost (the batch is unwritten)
  bool insertOneByOne(const Batch& batch);  // after PostgreSQL refused a batch as data
  bool toSpool(const Batch& batch);
  void replaySpool();
  void lostConnection(const std::string& why);
  void fatal(const std::string& why);

  const std::string conninfo_;
  const std::string node_;
  const PipelineOptions options_;
  Spool spool_;

  mutable std::mutex mutex_;
  std::condition_variable wake_writer_;
  std::condition_variable progress_;  // acked_, stuck_ or writer_done_ changed
  std::deque<ComplianceEvent> queue_;
  uint64_t enqueued_ = 0;      // events ever queued (not those emit() spooled itself)
  uint64_t acked_ = 0;         // of those, committed or spooled, in queue order
  uint64_t drain_target_ = 0;  // acked_ a drain() is waiting for
  bool stop_ = false;
  uint64_t attempts_ = 0;  // batches the writer has tried to write
  bool stuck_ = false;     // the last batch could be written nowhere
  bool fatal_ = false;
  bool writer_done_ = false;

  // Only the writer thread touches these.
  std::unique_ptr<pqxx::connection> conn_;
  std::chrono::steady_clock::time_point next_connect_{};
  std::chrono::steady_clock::time_point next_replay_{};  // after a spool file failed to replay
  std::chrono::steady_clock::time_point last_outage_log_{};
  bool in_outage_ = false;  // from a failed connect or write until the next successful write

  std::atomic<bool> stopping_{false};  // read by a replay between chunks
  std::atomic<bool> fatal_reported_{false};
  std::atomic<bool> connected_{false};
  std::atomic<uint64_t> rows_written_{0};
  std::atomic<int64_t> last_latency_us_{0};
  std::atomic<uint64_t> spooled_{0};
  std::atomic<uint64_t> replayed_{0};
  std::atomic<uint64_t> discarded_{0};
  std::atomic<uint64_t> rejected_{0};

  std::thread writer_;  // last: started once everything above exists
};

}  // namespace parley::events
