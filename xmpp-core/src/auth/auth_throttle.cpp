#include "auth/auth_throttle.hpp"

#include <algorithm>
#include <limits>

namespace parley::auth {
namespace {

std::string ipAccountKey(const std::string& ip, const std::string& account) {
  std::string key;
  key.reserve(ip.size() + 1 + account.size());
  key += ip;
  key.push_back('\n');
  key += account;
  return key;
}

}  // namespace

AuthThrottle::AuthThrottle(ThrottleLimits limits) : limits_(limits) {
  // A zero threshold would block before any failure; a first step above the cap makes no sense.
  limits_.ip_failures_before_backoff = std::max(limits_.ip_failures_before_backoff, 1u);
  limits_.account_failures_before_backoff = std::max(limits_.account_failures_before_backoff, 1u);
  limits_.initial_backoff = std::min(limits_.initial_backoff, limits_.max_backoff);
}

namespace {

// A record without backoff only counts failures within `window` of the first one. Once backing
// off it is kept until it has been quiet for a whole window after its block ended, so an attacker
// who waits out each block keeps doubling it instead of starting over.
bool isStale(const ThrottleLimits& limits, unsigned failures, AuthThrottle::Clock::time_point first,
             AuthThrottle::Clock::time_point last, AuthThrottle::Clock::time_point blocked_until,
             std::chrono::seconds backoff, AuthThrottle::Clock::time_point now) {
  if (backoff.count() == 0) return failures == 0 || now - first > limits.window;
  return now >= blocked_until && now - last > limits.window;
}

}  // namespace

void AuthThrottle::recordFailure(const std::string& ip, const std::string& account,
                                 Clock::time_point now) {
  const auto bump = [&](Record& r, unsigned threshold) {
    if (isStale(limits_, r.failures, r.first_failure, r.last_failure, r.blocked_until, r.backoff,
                now)) {
      r = Record{};
    }
    if (r.failures == 0) r.first_failure = now;
    r.last_failure = now;
    if (r.failures < std::numeric_limits<unsigned>::max()) ++r.failures;
    if (r.failures >= threshold) {
      r.backoff = r.backoff.count() == 0 ? limits_.initial_backoff
                                         : std::min(r.backoff * 2, limits_.max_backoff);
      r.blocked_until = now + r.backoff;
    }
  };

  std::lock_guard lock(mutex_);
  bump(by_ip_[ip], limits_.ip_failures_before_backoff);
  bump(by_account_[account], limits_.account_failures_before_backoff);
  // Only "has this address failed on this account lately" matters here, never a backoff.
  Record& pair = by_ip_account_[ipAccountKey(ip, account)];
  if (pair.failures == 0) pair.first_failure = now;
  pair.last_failure = now;
  if (pair.failures < std::numeric_limits<unsigned>::max()) ++pair.failures;
}

bool AuthThrottle::allowed(const std::string& ip, const std::string& account, Clock::time_point now,
                           std::chrono::seconds* retry_after) {
  std::lock_guard lock(mutex_);
  Clock::time_point until = now;
  if (const auto it = by_ip_.find(ip); it != by_ip_.end()) {
    until = std::max(until, it->second.blocked_until);
  }
  // An account under attack refuses only addresses that took part in the attack; its owner on a
  // clean address gets through.
  if (const auto acct = by_account_.find(account);
      acct != by_account_.end() && acct->second.blocked_until > now) {
    const auto pair = by_ip_account_.find(ipAccountKey(ip, account));
    if (pair != by_ip_account_.end() && now - pair->second.last_failure <= limits_.window) {
      until = std::max(until, acct->second.blocked_until);
    }
  }
  if (until <= now) return true;
  if (retry_after != nullptr) {
    *retry_after =
        std::max(std::chrono::ceil<std::chrono::seconds>(until - now), std::chrono::seconds{1});
  }
  return false;
}

void AuthThrottle::recordSuccess(const std::string& ip, const std::string& account,
                                 Clock::time_point now) {
  std::lock_guard lock(mutex_);
  by_ip_account_.erase(ipAccountKey(ip, account));
  if (const auto it = by_ip_.find(ip); it != by_ip_.end()) {
    Record& r = it->second;
    // The count and any block go, but the backoff level stays until the address has been quiet
    // for a window: otherwise an attacker holding one valid account could reset its address
    // after every few guesses at others and never escalate.
    r.failures = 0;
    r.blocked_until = now;
    if (r.backoff.count() == 0) by_ip_.erase(it);
  }
}

void AuthThrottle::prune(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  const auto prune_map = [&](std::unordered_map<std::string, Record>& map) {
    std::erase_if(map, [&](const auto& entry) {
      const Record& r = entry.second;
      return isStale(limits_, r.failures, r.first_failure, r.last_failure, r.blocked_until,
                     r.backoff, now);
    });
  };
  prune_map(by_ip_);
  prune_map(by_account_);
  std::erase_if(by_ip_account_, [&](const auto& entry) {
    return now - entry.second.last_failure > limits_.window;
  });
}

}  // namespace parley::auth
