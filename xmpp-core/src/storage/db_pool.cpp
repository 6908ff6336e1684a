#include "storage/db_pool.hpp"

#include <cstdio>
#include <memory>
#include <utility>

namespace parley::storage {

namespace {

// parley_storage does not link the logger (parleyctl and tests use it without one), so the rare
// failure of a fire-and-forget job goes straight to stderr rather than vanishing.
void reportJobFailure(const char* what) {
  std::fprintf(stderr, "parley db pool: a queued database job failed: %s\n", what);
}

}  // namespace

DbPool::DbPool(std::string conninfo, unsigned threads, size_t max_queue)
    : conninfo_(std::move(conninfo)), max_queue_(max_queue == 0 ? 1 : max_queue) {
  if (threads == 0) threads = 1;
  // Every connection is opened before any thread starts so an unreachable database or a wrong
  // conninfo fails start-up here, with libpq's message, instead of on the first query.
  connections_.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) {
    connections_.push_back(std::make_unique<pqxx::connection>(conninfo_));
  }
  threads_.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) {
    threads_.emplace_back([this, i] { worker(i); });
  }
}

DbPool::~DbPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

bool DbPool::post(std::function<void(pqxx::connection&)> job) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= max_queue_) return false;
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
  return true;
}

void DbPool::worker(unsigned index) {
  auto& conn = connections_[index];
  // A failed reconnect keeps the old (broken) connection: the job still runs and reports the
  // failure to its caller, which is better than a coroutine that never resumes.
  auto reconnect = [&]() {
    try {
      conn = std::make_unique<pqxx::connection>(conninfo_);
    } catch (const std::exception& e) {
      reportJobFailure(e.what());
    }
  };
  for (;;) {
    std::function<void(pqxx::connection&)> job;
    {
      std::unique_lock lock(mutex_);
      // Stopping only ends the loop once the queue is empty: queued work is finished, not lost.
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    if (!conn->is_open()) reconnect();
    try {
      try {
        job(*conn);
      } catch (const pqxx::broken_connection&) {
        // The server restarted or a network blip killed the connection: nothing the job did was
        // committed, so one more try on a new connection is safe and hides the blip.
        reconnect();
        job(*conn);
      }
    } catch (const std::exception& e) {
      reportJobFailure(e.what());
    } catch (...) {
      reportJobFailure("unknown exception");
    }
  }
}

}  // namespace parley::storage
