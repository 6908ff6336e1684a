#include "events/pipeline.hpp"

#include <algorithm>
#include <iterator>

#include "events/event_store.hpp"
#include "events/event_time.hpp"
#include "events/normalize.hpp"
#include "events/uuid.hpp"
#include "util/log.hpp"

namespace parley::events {
namespace {

using std::chrono::steady_clock;

// While PostgreSQL stays down the writer retries every reconnect_interval; one log line a
// minute says it still is, instead of one a second.
constexpr std::chrono::seconds kOutageLogInterval{60};

PipelineOptions checked(PipelineOptions options) {
  options.batch_max = std::max<size_t>(options.batch_max, 1);
  return options;
}

// libpq messages span lines (ERROR, DETAIL, HINT, the query) and end in a newline; a log line
// is one line, and ours goes on after it.
std::string oneLine(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  for (size_t pos = 0; (pos = text.find('\n', pos)) != std::string::npos;) {
    text.replace(pos, 1, " | ");
  }
  return text;
}

std::string describe(const std::exception& error) {
  std::string text = oneLine(error.what());
  const auto* sql = dynamic_cast<const pqxx::sql_error*>(&error);
  // Class 42 (undefined table or function, ...) here means the schema is older than this
  // parleyd; the events wait in the spool until someone migrates.
  if (sql != nullptr && sql->sqlstate().rfind("42", 0) == 0) {
    text += " (is the database schema up to date? run: parleyctl db migrate)";
  }
  return text;
}

}  // namespace

Pipeline::Pipeline(std::string conninfo, std::string node_name, std::filesystem::path spool_dir,
                   PipelineOptions options)
    : conninfo_(std::move(conninfo)),
      node_(std::move(node_name)),
      options_(checked(std::move(options))),
      spool_(std::move(spool_dir)) {
  if (!spool_.empty()) {
    log::info("events: ", spool_.bytes(), " bytes of spooled events in ", spool_.dir().string(),
              " from an earlier run; they are replayed once PostgreSQL is reachable");
  }
  writer_ = std::thread([this] { run(); });
}

Pipeline::~Pipeline() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    stopping_ = true;
  }
  wake_writer_.notify_all();
  writer_.join();
}

void Pipeline::emit(ComplianceEvent event) {
  if (!isUuid(event.id)) event.id = randomUuid();
  if (event.node.empty()) event.node = node_;
  if (event.at == Clock::time_point{}) event.at = Clock::now();
  event.at = truncateToMicros(event.at);
  normalize(event);
  {
    std::lock_guard lock(mutex_);
    // Once the spool has failed the server is refusing traffic; memory is the last place left.
    // After the writer has stopped nothing would take the event off the queue: spool it.
    if ((queue_.size() < options_.queue_limit || fatal_) && !writer_done_) {
      queue_.push_back(std::move(event));
      ++enqueued_;
      if (queue_.size() >= options_.batch_max) wake_writer_.notify_one();
      return;
    }
  }
  // The writer is far behind (PostgreSQL slow or down). The caller pays one fsync instead; this
  // event may reach the table before older ones still queued, which `at` keeps apart.
  try {
    spool_.append({event});
    ++spooled_;
    return;
  } catch (const SpoolError& e) {
    fatal(e.what());
  }
  std::lock_guard lock(mutex_);
  queue_.push_back(std::move(event));
  ++enqueued_;
}

bool Pipeline::drain() {
  std::unique_lock lock(mutex_);
  const uint64_t target = enqueued_;
  const uint64_t attempts = attempts_;
  drain_target_ = std::max(drain_target_, target);
  wake_writer_.notify_one();
  // A writer that is stuck (spool failed, PostgreSQL down) answers after one more attempt.
  progress_.wait(
      lock, [&] { return acked_ >= target || writer_done_ || (stuck_ && attempts_ > attempts); });
  return acked_ >= target;
}

PipelineMetrics Pipeline::metrics() const {
  PipelineMetrics m;
  {
    std::lock_guard lock(mutex_);
    m.queue_depth = queue_.size();
  }
  m.spool_bytes = spool_.bytes();
  m.rows_written = rows_written_;
  m.last_batch_latency = std::chrono::microseconds(last_latency_us_.load());
  m.database_connected = connected_;
  m.spooled = spooled_;
  m.replayed = replayed_;
  m.discarded = discarded_;
  m.rejected = rejected_;
  return m;
}

void Pipeline::run() {
  for (;;) {
    Batch batch;
    bool stopping = false;
    {
      std::unique_lock lock(mutex_);
      // A partial batch waits up to flush_interval for company; a full one, a drain or a stop
      // goes at once. The timeout also paces reconnect attempts and spool replays.
      wake_writer_.wait_for(lock, options_.flush_interval, [&] {
        return stop_ || queue_.size() >= options_.batch_max || acked_ < drain_target_;
      });
      size_t n = std::min(queue_.size(), options_.batch_max);
      batch.assign(std::make_move_iterator(queue_.begin()),
                   std::make_move_iterator(queue_.begin() + static_cast<ptrdiff_t>(n)));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<ptrdiff_t>(n));
      stopping = stop_;
    }
    maintainConnection(stopping);
    const bool written = batch.empty() || write(batch);

    std::unique_lock lock(mutex_);
    ++attempts_;
    stuck_ = !written;
    if (written) {
      acked_ += batch.size();
    } else if (stop_) {
      // Shutting down with neither PostgreSQL nor the spool writable: there is no later.
      log::error("events: ", batch.size(),
                 " compliance events lost at shutdown: neither PostgreSQL nor the spool in ",
                 spool_.dir().string(), " could take them");
    } else {
      // Back to the front, in order, for the next attempt.
      queue_.insert(queue_.begin(), std::make_move_iterator(batch.begin()),
                    std::make_move_iterator(batch.end()));
    }
    progress_.notify_all();
    if (stop_ && queue_.empty()) break;
    if (!written && !stop_) {
      wake_writer_.wait_for(lock, options_.reconnect_interval, [&] { return stop_; });
    }
  }
  conn_.reset();
  connected_ = false;
  std::lock_guard lock(mutex_);
  writer_done_ = true;
  progress_.notify_all();
}

void Pipeline::maintainConnection(bool stopping) {
  if (!conn_ && steady_clock::now() >= next_connect_) connect();
  // At shutdown a long replay would hold the server up; the spool keeps until the next start.
  if (conn_ && !stopping && !spool_.empty() && steady_clock::now() >= next_replay_) {
    replaySpool();
  }
}

void Pipeline::connect() {
  next_connect_ = steady_clock::now() + options_.reconnect_interval;
  try {
    conn_ = std::make_unique<pqxx::connection>(conninfo_);
  } catch (const std::exception& e) {
    lostConnection("cannot connect to PostgreSQL: " + describe(e));
    return;
  }
  connected_ = true;
  // The outage ends with a successful write (insert()), not here: a database that accepts
  // connections but not the INSERT (schema not migrated) would otherwise log twice a second.
}

void Pipeline::lostConnection(const std::string& why) {
  conn_.reset();
  connected_ = false;
  auto now = steady_clock::now();
  next_connect_ = now + options_.reconnect_interval;
  if (!in_outage_ || now - last_outage_log_ >= kOutageLogInterval) {
    log::warn("events: ", why, "; events are spooled to ", spool_.dir().string(),
              " and replayed when PostgreSQL is back (retrying every ",
              options_.reconnect_interval.count(), " ms)");
    last_outage_log_ = now;
  }
  in_outage_ = true;
}

bool Pipeline::write(const Batch& batch) {
  auto start = steady_clock::now();
  // Behind anything spooled, to keep the order the events happened in.
  bool written = conn_ && spool_.empty() && insert(batch);
  if (!written) written = toSpool(batch);
  if (!written) {
    // The spool failed (on_fatal has been called): PostgreSQL is the only place left, and
    // writing there out of order beats not writing at all.
    if (!conn_ && steady_clock::now() >= next_connect_) connect();
    written = conn_ && insert(batch);
  }
  if (written) {
    last_latency_us_ =
        std::chrono::duration_cast<std::chrono::microseconds>(steady_clock::now() - start).count();
  }
  return written;
}

bool Pipeline::insert(const Batch& batch) {
  try {
    rows_written_ += insertEvents(*conn_, batch);
    if (in_outage_) {
      in_outage_ = false;
      log::info("events: PostgreSQL takes events again",
                spool_.empty()
                    ? std::string()
                    : "; replaying " + std::to_string(spool_.bytes()) + " bytes of spooled events");
    }
    return true;
  } catch (const std::exception& e) {
    if (isBadData(e) && conn_->is_open()) return insertOneByOne(batch);
    lostConnection("writing events failed: " + describe(e));
    return false;
  }
}

bool Pipeline::insertOneByOne(const Batch& batch) {
  // One bad row must neither hold up the others nor be retried forever: each row alone, and
  // whatever PostgreSQL refuses as data is set aside, loudly.
  for (const auto& event : batch) {
    try {
      rows_written_ += insertEvents(*conn_, {event});
    } catch (const std::exception& e) {
      if (!isBadData(e) || !conn_->is_open()) {
        lostConnection("writing events failed: " + describe(e));
        return false;  // rows already in are skipped by id when the batch is written again
      }
      log::error("events: PostgreSQL refused event ", event.id, " (", event.kind,
                 ") as data: ", describe(e), "; it is kept in ",
                 (spool_.dir() / "events.rejected").string());
      try {
        spool_.reject(event);
        ++rejected_;
      } catch (const SpoolError& se) {
        fatal(se.what());
        return false;
      }
    }
  }
  return true;
}

bool Pipeline::toSpool(const Batch& batch) {
  try {
    spool_.append(batch);
    spooled_ += batch.size();
    return true;
  } catch (const SpoolError& e) {
    fatal(e.what());
    return false;
  }
}

void Pipeline::replaySpool() {
  // Segments are sealed first, so whatever emit() appends meanwhile goes to a new one, which
  // the next round of the loop replays.
  while (conn_ && !spool_.empty() && !stopping_) {
    for (const auto& segment : spool_.seal()) {
      Spool::Contents contents;
      try {
        contents = Spool::read(segment);
      } catch (const SpoolError& e) {
        log::error("events: cannot replay the spool: ", e.what(), "; trying again in ",
                   kOutageLogInterval.count(), " s");
        next_replay_ = steady_clock::now() + kOutageLogInterval;
        return;
      }
      const auto& events = contents.events;
      for (size_t i = 0; i < events.size(); i += options_.batch_max) {
        if (stopping_) return;
        auto end = events.begin() +
                   static_cast<ptrdiff_t>(std::min(events.size(), i + options_.batch_max));
        // On failure the segment stays; replaying it again skips the rows already in (by id).
        if (!insert(Batch(events.begin() + static_cast<ptrdiff_t>(i), end))) return;
      }
      replayed_ += events.size();
      discarded_ += contents.discarded;
      try {
        spool_.remove(segment);
      } catch (const SpoolError& e) {
        log::error("events: ", e.what(), "; it will be replayed again (without duplicates) in ",
                   kOutageLogInterval.count(), " s");
        next_replay_ = steady_clock::now() + kOutageLogInterval;
        return;
      }
      log::info("events: replayed ", events.size(), " spooled events from ", segment.string(),
                contents.discarded ? " (" + std::to_string(contents.discarded) +
                                         " damaged records skipped, see above)"
                                   : std::string());
    }
  }
}

void Pipeline::fatal(const std::string& why) {
  {
    std::lock_guard lock(mutex_);
    fatal_ = true;
  }
  log::error("events: ", why, "; compliance events can no longer be made durable");
  if (!fatal_reported_.exchange(true) && options_.on_fatal) options_.on_fatal(why);
}

}  // namespace parley::events
