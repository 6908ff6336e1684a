#pragma once
// Login throttling (XEP-0205): repeated failures slow an address down, and an account under
// attack only refuses addresses that have themselves failed on it, so an attacker can slow the
// real owner's account but cannot lock its owner out from a clean address. Thread-safe.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace parley::auth {

struct ThrottleLimits {
  unsigned ip_failures_before_backoff = 5;        // per address, within `window`
  unsigned account_failures_before_backoff = 10;  // per account, within `window`
  std::chrono::seconds window{300};
  std::chrono::seconds initial_backoff{30};
  std::chrono::seconds max_backoff{900};  // doubles per further failure up to this
};

class AuthThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  explicit AuthThrottle(ThrottleLimits limits = {});

  // May this address try to authenticate as this account now? When not, `retry_after` tells how
  // long until it may (for the <text/> of <temporary-auth-failure/>).
  bool allowed(const std::string& ip, const std::string& account, Clock::time_point now,
               std::chrono::seconds* retry_after = nullptr);
  void recordFailure(const std::string& ip, const std::string& account, Clock::time_point now);
  // A success clears the address's record for that account and its own failure count.
  void recordSuccess(const std::string& ip, const std::string& account, Clock::time_point now);
  // Drops records older than the window and expired backoffs (call from a timer).
  void prune(Clock::time_point now);

 private:
  struct Record {
    unsigned failures = 0;
    Clock::time_point first_failure{};
    Clock::time_point last_failure{};
    Clock::time_point blocked_until{};
    std::chrono::seconds backoff{0};
  };
  ThrottleLimits limits_;
  std::mutex mutex_;
  std::unordered_map<std::string, Record> by_ip_;
  std::unordered_map<std::string, Record> by_account_;
  std::unordered_map<std::string, Record> by_ip_account_;  // key ip + '\n' + account
};

}  // namespace parley::auth
