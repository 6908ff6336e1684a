#include <catch2/catch.hpp>

#include "router/subscription.hpp"

using parley::router::applySubscription;
using parley::router::SubscriptionEvent;
using parley::router::SubscriptionState;

namespace {
SubscriptionState none() { return {}; }
SubscriptionState with(bool to, bool from, bool ask = false, bool pending = false) {
  SubscriptionState s;
  s.to = to;
  s.from = from;
  s.ask_out = ask;
  s.pending_in = pending;
  return s;
}
}  // namespace

TEST_CASE("a full handshake ends in 'both' on each side") {
  // alice subscribes to bob
  auto a = applySubscription(none(), SubscriptionEvent::OutSubscribe);
  REQUIRE(a.route);
  REQUIRE(a.state.ask_out);
  REQUIRE(a.state.subscription() == "none");
  auto b = applySubscription(none(), SubscriptionEvent::InSubscribe);
  REQUIRE(b.deliver);
  REQUIRE(b.state.pending_in);
  // bob approves
  auto b2 = applySubscription(b.state, SubscriptionEvent::OutSubscribed);
  REQUIRE(b2.route);
  REQUIRE(b2.send_presence);
  REQUIRE(b2.state.subscription() == "from");
  auto a2 = applySubscription(a.state, SubscriptionEvent::InSubscribed);
  REQUIRE(a2.deliver);
  REQUIRE(a2.state.subscription() == "to");
  REQUIRE_FALSE(a2.state.ask_out);
  // and back: bob subscribes to alice, alice approves
  auto b3 = applySubscription(b2.state, SubscriptionEvent::OutSubscribe);
  auto a3 = applySubscription(a2.state, SubscriptionEvent::InSubscribe);
  auto a4 = applySubscription(a3.state, SubscriptionEvent::OutSubscribed);
  auto b4 = applySubscription(b3.state, SubscriptionEvent::InSubscribed);
  REQUIRE(a4.state.subscription() == "both");
  REQUIRE(b4.state.subscription() == "both");
}

TEST_CASE("subscribe while already subscribed is not routed") {
  auto out = applySubscription(with(true, false), SubscriptionEvent::OutSubscribe);
  REQUIRE_FALSE(out.route);
  REQUIRE_FALSE(out.changed);
}

TEST_CASE("inbound subscribe from an approved contact is answered automatically") {
  auto out = applySubscription(with(false, true), SubscriptionEvent::InSubscribe);
  REQUIRE(out.auto_subscribed);
  REQUIRE_FALSE(out.deliver);
  REQUIRE_FALSE(out.changed);
}

TEST_CASE("pre-approval turns a later request into an automatic 'from'") {
  auto pre = applySubscription(none(), SubscriptionEvent::OutSubscribed);
  REQUIRE(pre.state.preapproved);
  REQUIRE_FALSE(pre.route);
  auto in = applySubscription(pre.state, SubscriptionEvent::InSubscribe);
  REQUIRE(in.auto_subscribed);
  REQUIRE(in.send_presence);
  REQUIRE(in.state.from);
  REQUIRE_FALSE(in.state.preapproved);
}

TEST_CASE("unsolicited 'subscribed' is ignored") {
  auto out = applySubscription(none(), SubscriptionEvent::InSubscribed);
  REQUIRE_FALSE(out.deliver);
  REQUIRE_FALSE(out.changed);
}

TEST_CASE("cancelling and unsubscribing") {
  SECTION("owner cancels the contact's subscription: both -> to, unavailable sent") {
    auto out = applySubscription(with(true, true), SubscriptionEvent::OutUnsubscribed);
    REQUIRE(out.state.subscription() == "to");
    REQUIRE(out.route);
    REQUIRE(out.send_unavailable);
  }
  SECTION("owner denies a pending request: routed, no presence") {
    auto out =
        applySubscription(with(false, false, false, true), SubscriptionEvent::OutUnsubscribed);
    REQUIRE(out.route);
    REQUIRE_FALSE(out.send_unavailable);
    REQUIRE_FALSE(out.state.pending_in);
  }
  SECTION("owner unsubscribes: both -> from") {
    auto out = applySubscription(with(true, true), SubscriptionEvent::OutUnsubscribe);
    REQUIRE(out.state.subscription() == "from");
    REQUIRE(out.route);
  }
  SECTION("contact unsubscribes from owner: both -> to, delivered") {
    auto out = applySubscription(with(true, true), SubscriptionEvent::InUnsubscribe);
    REQUIRE(out.state.subscription() == "to");
    REQUIRE(out.deliver);
  }
  SECTION("contact cancels owner's subscription: to -> none, delivered") {
    auto out = applySubscription(with(true, false), SubscriptionEvent::InUnsubscribed);
    REQUIRE(out.state.subscription() == "none");
    REQUIRE(out.deliver);
  }
  SECTION("unsubscribed for nothing is neither delivered nor changes state") {
    auto out = applySubscription(none(), SubscriptionEvent::InUnsubscribed);
    REQUIRE_FALSE(out.deliver);
    REQUIRE_FALSE(out.changed);
  }
}

TEST_CASE("subscription attribute names the four RFC 6121 states") {
  auto [to, from, expected] = GENERATE(table<bool, bool, std::string>(
      {{false, false, "none"}, {true, false, "to"}, {false, true, "from"}, {true, true, "both"}}));
  REQUIRE(with(to, from).subscription() == expected);
}
