#include "storage/last_activity_writer.hpp"

#include <cstdio>
#include <utility>

namespace parley::storage {

LastActivityWriter::LastActivityWriter(DbPool& db, boost::asio::io_context& io)
    : state_(std::make_shared<State>(db)), timer_(io) {}

LastActivityWriter::~LastActivityWriter() {
  std::lock_guard lock(state_->mutex);
  if (!state_->timer_armed) return;
  // The io threads may already be gone: flush now rather than rely on the timer.
  state_->timer_armed = false;
  timer_.cancel();
  postFlush(state_);
}

void LastActivityWriter::record(const std::string& owner, LastActivity activity) {
  std::lock_guard lock(state_->mutex);
  state_->waiting[owner] = std::move(activity);
  if (state_->timer_armed || state_->flush_queued) return;
  // Waiting a moment turns a burst of logouts into one write instead of one each.
  state_->timer_armed = true;
  timer_.expires_after(kDelay);
  timer_.async_wait([state = state_](const boost::system::error_code&) {
    std::lock_guard lock(state->mutex);
    if (!state->timer_armed) return;  // the destructor flushed already
    state->timer_armed = false;
    postFlush(state);
  });
}

std::optional<LastActivity> LastActivityWriter::pending(const std::string& owner) const {
  std::lock_guard lock(state_->mutex);
  if (auto it = state_->waiting.find(owner); it != state_->waiting.end()) return it->second;
  if (auto it = state_->in_flight.find(owner); it != state_->in_flight.end()) return it->second;
  return std::nullopt;
}

void LastActivityWriter::postFlush(const std::shared_ptr<State>& state) {
  if (state->flush_queued || state->waiting.empty()) return;
  // A full queue leaves the values waiting; the next record() tries again.
  state->flush_queued = state->db.post([state](pqxx::connection& c) { flush(state, c); });
}

void LastActivityWriter::flush(const std::shared_ptr<State>& state, pqxx::connection& c) {
  std::map<std::string, LastActivity> batch;
  {
    std::lock_guard lock(state->mutex);
    state->flush_queued = false;
    batch.swap(state->waiting);
    for (const auto& [owner, activity] : batch) state->in_flight[owner] = activity;
  }
  bool written = false;
  try {
    saveLastActivities(c, batch);
    written = true;
  } catch (const std::exception& e) {
    // parley_storage does not link the logger; stderr is where parleyd's log goes by default.
    std::fprintf(stderr, "parley: %zu last-activity rows not written: %s\n", batch.size(),
                 e.what());
  }
  std::lock_guard lock(state->mutex);
  for (auto& [owner, activity] : batch) {
    state->in_flight.erase(owner);
    // A failed write goes back to waiting unless a newer logout replaced it meanwhile; it is
    // retried with the next logout rather than in a loop against a database that is down.
    if (!written) state->waiting.try_emplace(owner, std::move(activity));
  }
  // What arrived during the write goes at once, unless the timer will take it anyway.
  if (written && !state->timer_armed) postFlush(state);
}

}  // namespace parley::storage
