#include "router/archive_writer.hpp"

#include <algorithm>
#include <iterator>
#include <string>
#include <utility>

#include "util/log.hpp"

namespace parley::router {

ArchiveWriter::ArchiveWriter(storage::DbPool& db, boost::asio::io_context& io)
    : state_(std::make_shared<State>(db)), timer_(io) {
  state_->timer = &timer_;
}

ArchiveWriter::~ArchiveWriter() {
  std::lock_guard lock(state_->mutex);
  // The io threads may already be gone: from now on every flush is posted at once, and the
  // flush jobs no longer touch the timer, which goes with this object.
  state_->timer = nullptr;
  state_->timer_armed = false;
  timer_.cancel();
  postFlush(state_);
  if (!state_->flush_queued && !state_->queued.empty())
    log::warn(state_->queued.size(), " delivered messages were not archived: shutting down");
}

bool ArchiveWriter::write(storage::ArchiveRecord&& record, ArchiveWrites::Hold&& hold) {
  std::lock_guard lock(state_->mutex);
  if (state_->queued.size() + state_->writing >= kMaxBacklog) return false;
  state_->queued.push_back({std::move(record), std::move(hold)});
  if (state_->flush_queued) return true;  // the running flush takes care of what follows it
  if (state_->queued.size() >= kMaxBatch) {
    state_->timer_armed = false;
    postFlush(state_);
  } else if (!state_->timer_armed) {
    armTimer(state_);
  }
  return true;
}

size_t ArchiveWriter::backlog() const {
  std::lock_guard lock(state_->mutex);
  return state_->queued.size() + state_->writing;
}

ArchiveWriter::Counters ArchiveWriter::counters() const {
  std::lock_guard lock(state_->mutex);
  return state_->counters;
}

void ArchiveWriter::armTimer(const std::shared_ptr<State>& state) {
  if (!state->timer) {
    postFlush(state);
    return;
  }
  state->timer_armed = true;
  state->timer->expires_after(kDelay);
  state->timer->async_wait([state](const boost::system::error_code&) {
    std::lock_guard lock(state->mutex);
    if (!state->timer_armed) return;  // flushed meanwhile, or the writer is gone
    state->timer_armed = false;
    postFlush(state);
  });
}

void ArchiveWriter::postFlush(const std::shared_ptr<State>& state) {
  if (state->flush_queued || state->queued.empty()) return;
  // The job keeps its batch across the pool's one retry on a fresh connection.
  auto job = [state, batch = std::vector<Item>{}, attempt = 0](pqxx::connection& c) mutable {
    if (attempt++ == 0) batch = take(state);
    for (;;) {
      const size_t failed = writeBatch(c, batch, /*retry_on_new_connection=*/attempt == 1);
      if (!finish(state, std::move(batch), failed)) return;
      // The writer is gone and the pool may refuse new jobs (it is draining): write the rest
      // here.
      batch = take(state);
      attempt = 2;
    }
  };
  state->flush_queued = state->db.post(std::move(job));
  // A full pool queue leaves the records queued for another try after the delay.
  if (!state->flush_queued && state->timer && !state->timer_armed) armTimer(state);
}

std::vector<ArchiveWriter::Item> ArchiveWriter::take(const std::shared_ptr<State>& state) {
  std::lock_guard lock(state->mutex);
  const size_t n = std::min(state->queued.size(), kMaxBatch);
  std::vector<Item> batch(std::make_move_iterator(state->queued.begin()),
                          std::make_move_iterator(state->queued.begin() + n));
  state->queued.erase(state->queued.begin(), state->queued.begin() + n);
  state->writing = n;
  return batch;
}

size_t ArchiveWriter::writeBatch(pqxx::connection& c, const std::vector<Item>& batch,
                                 bool retry_on_new_connection) {
  std::vector<const storage::ArchiveRecord*> records;
  for (const auto& item : batch) records.push_back(&item.record);
  std::string failure;
  try {
    storage::archiveMessages(c, records);
    return 0;
  } catch (const pqxx::broken_connection& e) {
    if (retry_on_new_connection) throw;  // the pool reconnects and runs the job again
    failure = e.what();
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (records.size() == 1 || !c.is_open()) {
    log::warn(records.size(), " delivered messages were not archived: ", failure);
    return records.size();
  }
  // One record the database refuses must not cost the others their place in the archives.
  size_t failed = 0;
  for (const auto* record : records) {
    try {
      storage::archiveMessage(c, *record);
    } catch (const std::exception& e) {
      ++failed;
      log::warn("a delivered message was not archived: ", e.what());
    }
  }
  return failed;
}

bool ArchiveWriter::finish(const std::shared_ptr<State>& state, std::vector<Item> batch,
                           size_t failed) {
  const size_t n = batch.size();
  batch.clear();  // releases the holds: the archive queries waiting for these may go on
  std::lock_guard lock(state->mutex);
  state->writing = 0;
  state->counters.written += n - failed;
  state->counters.failed += failed;
  ++state->counters.batches;
  if (!state->timer) return !state->queued.empty();  // this job keeps flush_queued
  state->flush_queued = false;
  // What arrived during the write: a full batch goes at once, a partial one after the delay
  // (posting it at once would degrade a steady trickle into one job per record again).
  if (state->queued.size() >= kMaxBatch) {
    postFlush(state);
  } else if (!state->queued.empty() && !state->timer_armed) {
    armTimer(state);
  }
  return false;
}

}  // namespace parley::router
