#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "auth/auth_throttle.hpp"

using parley::auth::AuthThrottle;
using parley::auth::ThrottleLimits;
using std::chrono::seconds;

namespace {

ThrottleLimits testLimits() {
  ThrottleLimits limits;
  limits.ip_failures_before_backoff = 3;
  limits.account_failures_before_backoff = 5;
  limits.window = seconds{300};
  limits.initial_backoff = seconds{10};
  limits.max_backoff = seconds{40};
  return limits;
}

// Seconds since an arbitrary start; steady_clock's epoch is irrelevant here.
AuthThrottle::Clock::time_point at(int s) { return AuthThrottle::Clock::time_point{} + seconds{s}; }

}  // namespace

TEST_CASE("an address backs off after repeated failures", "[throttle]") {
  AuthThrottle throttle(testLimits());
  seconds retry{0};

  throttle.recordFailure("10.0.0.1", "alice", at(0));
  throttle.recordFailure("10.0.0.1", "bob", at(1));
  CHECK(throttle.allowed("10.0.0.1", "carol", at(2)));
  throttle.recordFailure("10.0.0.1", "carol", at(2));
  // Third failure within the window: blocked for every account, for the initial backoff.
  CHECK_FALSE(throttle.allowed("10.0.0.1", "dave", at(3), &retry));
  CHECK(retry == seconds{9});
  CHECK_FALSE(throttle.allowed("10.0.0.1", "dave", at(11), &retry));
  CHECK(retry == seconds{1});
  // Other addresses are not affected.
  CHECK(throttle.allowed("10.0.0.2", "dave", at(3)));
  CHECK(throttle.allowed("10.0.0.1", "dave", at(12)));
}

TEST_CASE("backoff doubles and caps", "[throttle]") {
  AuthThrottle throttle(testLimits());
  seconds retry{0};
  int now = 0;
  for (int i = 0; i < 3; ++i) throttle.recordFailure("10.0.0.1", "alice", at(now));
  CHECK_FALSE(throttle.allowed("10.0.0.1", "alice", at(now), &retry));
  CHECK(retry == seconds{10});

  // Each further failure after waiting out the block doubles it: 20, 40, then stays at 40.
  for (const int expected : {20, 40, 40, 40}) {
    now += static_cast<int>(retry.count());
    REQUIRE(throttle.allowed("10.0.0.1", "alice", at(now)));
    throttle.recordFailure("10.0.0.1", "alice", at(now));
    CHECK_FALSE(throttle.allowed("10.0.0.1", "alice", at(now), &retry));
    CHECK(retry == seconds{expected});
  }

  // Quiet for a whole window after the block: forgiven, back to a fresh count.
  now += 40 + 301;
  CHECK(throttle.allowed("10.0.0.1", "alice", at(now)));
  throttle.recordFailure("10.0.0.1", "alice", at(now));
  throttle.recordFailure("10.0.0.1", "alice", at(now));
  CHECK(throttle.allowed("10.0.0.1", "alice", at(now)));
  throttle.recordFailure("10.0.0.1", "alice", at(now));
  CHECK_FALSE(throttle.allowed("10.0.0.1", "alice", at(now), &retry));
  CHECK(retry == seconds{10});
}

TEST_CASE("failures only count within the window", "[throttle]") {
  AuthThrottle throttle(testLimits());
  throttle.recordFailure("10.0.0.1", "alice", at(0));
  throttle.recordFailure("10.0.0.1", "alice", at(100));
  throttle.recordFailure("10.0.0.1", "alice", at(301));  // the first one has expired
  CHECK(throttle.allowed("10.0.0.1", "alice", at(301)));
}

TEST_CASE("an attacked account still admits its owner from a clean address", "[throttle]") {
  AuthThrottle throttle(testLimits());
  seconds retry{0};
  // Five addresses, one failure each: no address reaches its own limit, the account does.
  for (int i = 0; i < 5; ++i) {
    const std::string ip = "203.0.113." + std::to_string(i);
    throttle.recordFailure(ip, "alice", at(i));
    REQUIRE(throttle.allowed(ip, "bob", at(i)));
  }
  // Attacking addresses are refused for this account...
  CHECK_FALSE(throttle.allowed("203.0.113.0", "alice", at(5), &retry));
  CHECK(retry == seconds{9});
  CHECK_FALSE(throttle.allowed("203.0.113.4", "alice", at(5)));
  // ...but not for others, since they are not throttled themselves.
  CHECK(throttle.allowed("203.0.113.0", "bob", at(5)));
  // The owner on a clean address gets in, and succeeds.
  CHECK(throttle.allowed("198.51.100.7", "alice", at(5)));
  throttle.recordSuccess("198.51.100.7", "alice", at(5));
  CHECK(throttle.allowed("198.51.100.7", "alice", at(6)));

  // Further failures on the account double its backoff for the attackers.
  throttle.recordFailure("203.0.113.9", "alice", at(7));
  CHECK_FALSE(throttle.allowed("203.0.113.0", "alice", at(7), &retry));
  CHECK(retry == seconds{20});
  CHECK(throttle.allowed("198.51.100.7", "alice", at(7)));

  // Once the account's block has run out the attackers may guess again, one failure at a time.
  CHECK(throttle.allowed("203.0.113.0", "alice", at(27)));
}

TEST_CASE("a throttled address stays throttled on every account", "[throttle]") {
  AuthThrottle throttle(testLimits());
  for (int i = 0; i < 3; ++i) throttle.recordFailure("10.0.0.1", "mallory", at(0));
  // Even the owner's account refuses this address while its own block lasts.
  CHECK_FALSE(throttle.allowed("10.0.0.1", "alice", at(1)));
  CHECK(throttle.allowed("10.0.0.2", "alice", at(1)));
}

TEST_CASE("success clears the address's failures", "[throttle]") {
  AuthThrottle throttle(testLimits());
  seconds retry{0};

  SECTION("the count restarts") {
    throttle.recordFailure("10.0.0.1", "alice", at(0));
    throttle.recordFailure("10.0.0.1", "alice", at(1));
    throttle.recordSuccess("10.0.0.1", "alice", at(2));
    throttle.recordFailure("10.0.0.1", "alice", at(3));
    throttle.recordFailure("10.0.0.1", "alice", at(4));
    CHECK(throttle.allowed("10.0.0.1", "alice", at(4)));
  }
  SECTION("the owner's own typo no longer marks it once it logged in") {
    throttle.recordFailure("198.51.100.7", "alice", at(0));
    throttle.recordSuccess("198.51.100.7", "alice", at(1));
    for (int i = 0; i < 5; ++i)
      throttle.recordFailure("203.0.113." + std::to_string(i), "alice", at(2));
    CHECK_FALSE(throttle.allowed("203.0.113.1", "alice", at(3)));
    CHECK(throttle.allowed("198.51.100.7", "alice", at(3)));
  }
  SECTION("a typo without a later success does mark it while the account is attacked") {
    throttle.recordFailure("198.51.100.7", "alice", at(0));
    for (int i = 0; i < 4; ++i)
      throttle.recordFailure("203.0.113." + std::to_string(i), "alice", at(2));
    CHECK_FALSE(throttle.allowed("198.51.100.7", "alice", at(3), &retry));
    CHECK(retry == seconds{9});
  }
  SECTION("the escalation level survives a success until the address has been quiet") {
    for (int i = 0; i < 3; ++i) throttle.recordFailure("10.0.0.1", "mallory", at(0));
    throttle.recordSuccess("10.0.0.1", "own-account", at(10));
    CHECK(throttle.allowed("10.0.0.1", "mallory", at(10)));
    for (int i = 0; i < 3; ++i) throttle.recordFailure("10.0.0.1", "mallory", at(11));
    CHECK_FALSE(throttle.allowed("10.0.0.1", "mallory", at(11), &retry));
    CHECK(retry == seconds{20});
  }
}

TEST_CASE("prune drops old records but keeps active blocks", "[throttle]") {
  AuthThrottle throttle(testLimits());
  seconds retry{0};
  for (int i = 0; i < 3; ++i) throttle.recordFailure("10.0.0.1", "alice", at(0));
  throttle.recordFailure("10.0.0.2", "bob", at(0));

  throttle.prune(at(5));
  CHECK_FALSE(throttle.allowed("10.0.0.1", "alice", at(5), &retry));
  CHECK(retry == seconds{5});

  // Still within a window of the last failure: the backoff level is kept.
  throttle.prune(at(20));
  throttle.recordFailure("10.0.0.1", "alice", at(20));
  CHECK_FALSE(throttle.allowed("10.0.0.1", "alice", at(20), &retry));
  CHECK(retry == seconds{20});

  // Long after: everything is gone and the address starts afresh.
  throttle.prune(at(1000));
  throttle.recordFailure("10.0.0.1", "alice", at(1000));
  throttle.recordFailure("10.0.0.1", "alice", at(1000));
  CHECK(throttle.allowed("10.0.0.1", "alice", at(1000)));
  throttle.recordFailure("10.0.0.1", "alice", at(1000));
  CHECK_FALSE(throttle.allowed("10.0.0.1", "alice", at(1000), &retry));
  CHECK(retry == seconds{10});
}
