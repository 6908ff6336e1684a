#pragma once
// The admin thread: one thread that runs admin actions one after another (module changes,
// configuration reloads, the admin socket). Those block on files, dlopen and fsync, which must
// never happen on an io thread, and running them in order means two admins never interleave.
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <memory>
#include <optional>
#include <thread>
#include <type_traits>
#include <variant>

namespace parley::admin {

class AdminWorker {
 public:
  AdminWorker() : thread_([this]() { io_.run(); }) {}
  ~AdminWorker() { stop(); }
  AdminWorker(const AdminWorker&) = delete;
  AdminWorker& operator=(const AdminWorker&) = delete;

  boost::asio::io_context& io() { return io_; }

  // Finishes what is queued, then joins the thread.
  void stop() {
    guard_.reset();
    if (thread_.joinable()) thread_.join();
  }

  // Runs fn() on the admin thread and resumes the awaiting coroutine on its own executor with
  // the result (or the exception fn threw).
  template <class Fn>
  auto run(Fn fn) -> boost::asio::awaitable<std::invoke_result_t<Fn>>;

 private:
  boost::asio::io_context io_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_{
      io_.get_executor()};
  std::thread thread_;
};

template <class Fn>
auto AdminWorker::run(Fn fn) -> boost::asio::awaitable<std::invoke_result_t<Fn>> {
  using R = std::invoke_result_t<Fn>;
  using Stored = std::conditional_t<std::is_void_v<R>, std::monostate, R>;
  auto initiate = [this, fn = std::move(fn)](auto handler) mutable {
    auto work = std::make_shared<decltype(handler)>(std::move(handler));
    boost::asio::post(io_, [work, fn = std::move(fn)]() mutable {
      std::exception_ptr error;
      std::optional<Stored> value;
      try {
        if constexpr (std::is_void_v<R>) {
          fn();
          value.emplace();
        } else {
          value.emplace(fn());
        }
      } catch (...) {
        error = std::current_exception();
      }
      // The handler owns the coroutine frame, allocated from the io thread's recycling cache:
      // it is released on that thread, so this one keeps no copy.
      auto ex = boost::asio::get_associated_executor(*work);
      boost::asio::post(ex, [work = std::move(work), error, value = std::move(value)]() mutable {
        (*work)(error, value ? std::move(*value) : Stored{});
      });
    });
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

}  // namespace parley::admin
