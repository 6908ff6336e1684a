#pragma once
// A small pool of database threads, each owning one libpqxx connection. Network threads never
// touch the database: they hand a function to the pool and co_await its result, which resumes
// the coroutine on its own executor. The queue is bounded so a slow database applies
// backpressure instead of growing memory without limit.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <variant>
#include <vector>

namespace parley::storage {

// Thrown by run() when the queue is full; callers answer with a temporary error
// (<resource-constraint/> / <internal-server-error/>) instead of waiting forever.
struct DbOverloaded : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class DbPool {
 public:
  // Connects `threads` connections eagerly; throws pqxx::broken_connection (with libpq's message)
  // when the database is unreachable, so start-up can fail with a clear error.
  DbPool(std::string conninfo, unsigned threads, size_t max_queue = 10000);
  ~DbPool();  // finishes queued work, then joins
  DbPool(const DbPool&) = delete;
  DbPool& operator=(const DbPool&) = delete;

  // Queues `job` to run on a database thread with that thread's connection. A job that finds
  // its connection broken is retried once on a fresh connection. Returns false when full.
  bool post(std::function<void(pqxx::connection&)> job);

  // Runs fn(pqxx::connection&) on a database thread and resumes the awaiting coroutine on its
  // executor with the result (or the exception fn threw).
  template <class Fn>
  auto run(Fn fn) -> boost::asio::awaitable<std::invoke_result_t<Fn, pqxx::connection&>>;

  const std::string& conninfo() const { return conninfo_; }

 private:
  void worker(unsigned index);

  std::string conninfo_;
  size_t max_queue_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void(pqxx::connection&)>> queue_;
  bool stopping_ = false;
  std::vector<std::unique_ptr<pqxx::connection>> connections_;
  std::vector<std::thread> threads_;
};

template <class Fn>
auto DbPool::run(Fn fn) -> boost::asio::awaitable<std::invoke_result_t<Fn, pqxx::connection&>> {
  using R = std::invoke_result_t<Fn, pqxx::connection&>;
  using Stored = std::conditional_t<std::is_void_v<R>, std::monostate, R>;
  auto initiate = [this, fn = std::move(fn)](auto handler) mutable {
    auto work = std::make_shared<decltype(handler)>(std::move(handler));
    bool queued = post([work, fn = std::move(fn), retried = false](pqxx::connection& c) mutable {
      std::exception_ptr error;
      std::optional<Stored> value;
      try {
        if constexpr (std::is_void_v<R>) {
          fn(c);
          value.emplace();
        } else {
          value.emplace(fn(c));
        }
      } catch (const pqxx::broken_connection&) {
        // The first time, let the pool see it: it reconnects and calls this job once more.
        if (!retried) {
          retried = true;
          throw;
        }
        error = std::current_exception();
      } catch (...) {
        error = std::current_exception();
      }
      // The handler owns the coroutine frame, which Asio allocates from the io thread's
      // recycling cache: it must be released on the io thread, so this thread keeps no copy.
      auto ex = boost::asio::get_associated_executor(*work);
      boost::asio::post(ex, [work = std::move(work), error, value = std::move(value)]() mutable {
        (*work)(error, value ? std::move(*value) : Stored{});
      });
    });
    if (!queued) {
      auto ex = boost::asio::get_associated_executor(*work);
      boost::asio::post(ex, [work]() mutable {
        (*work)(std::make_exception_ptr(DbOverloaded("database queue full")), Stored{});
      });
    }
  };
  if constexpr (std::is_void_v<R>) {
    co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable),
                                         void(std::exception_ptr, Stored)>(
        std::move(initiate), boost::asio::use_awaitable);
  } else {
    co_return co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable),
                                                   void(std::exception_ptr, Stored)>(
        std::move(initiate), boost::asio::use_awaitable);
  }
}

}  // namespace parley::storage
