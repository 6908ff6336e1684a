#pragma once
// A parley::Host for module unit tests: it records what a module registers, emits, sends and
// logs, answers group membership from a table, keeps timers and queries for the test to run
// and answer, and refuses the hook points the real core does not dispatch yet (as the core
// does, so a module's reaction to that is testable).

#include <catch2/catch.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "parley/host.hpp"

namespace parley::testing {

class RecordingHost : public Host {
 public:
  // What this "core" dispatches; registering elsewhere throws std::logic_error.
  std::set<HookPoint> dispatched{
      HookPoint::SessionOpened,  HookPoint::SessionClosed,       HookPoint::StanzaFromClient,
      HookPoint::PreRoute,       HookPoint::BeforeLocalDelivery, HookPoint::Decided,
      HookPoint::StreamFeatures, HookPoint::DiscoInfo,           HookPoint::SaslAuthenticated,
      HookPoint::IqNamespace,    HookPoint::ServerMessage,       HookPoint::Timer,
      HookPoint::PepPublish};
  std::map<std::string, std::set<std::string>> groups;  // group → bare JIDs
  bool send_fails = false;                              // sendFromServer throws
  struct Query;
  // When set, each query is answered as soon as it is asked (rows, error); otherwise it waits
  // in `queries` for answer().
  std::function<std::pair<DbRows, std::string>(const Query&)> responder;

  struct Query {
    std::string sql;
    std::vector<std::optional<std::string>> params;
    DbDone done;
  };

  std::vector<std::pair<HookPoint, StanzaHook>> stanza_hooks;
  std::vector<std::pair<HookPoint, SessionHook>> session_hooks;
  std::vector<DiscoHook> disco_hooks;
  std::vector<ServerMessageHook> server_message_hooks;
  std::vector<std::pair<std::chrono::milliseconds, TimerJob>> timers;
  std::deque<Query> queries;  // in the order asked, until answer() takes them
  std::vector<ComplianceEvent> events;
  std::vector<xml::Element> sent;
  std::vector<std::pair<LogLevel, std::string>> logs;
  mutable std::vector<std::string> membership_queries;

  // Host
  void onStanza(HookPoint point, StanzaHook hook) override {
    require(point);
    stanza_hooks.emplace_back(point, std::move(hook));
  }
  void onSession(HookPoint point, SessionHook hook) override {
    require(point);
    session_hooks.emplace_back(point, std::move(hook));
  }
  void onDiscoInfo(DiscoHook hook) override {
    require(HookPoint::DiscoInfo);
    disco_hooks.push_back(std::move(hook));
  }
  void onDecided(DecidedHook) override { require(HookPoint::Decided); }
  void onLogin(LoginHook) override { require(HookPoint::SaslAuthenticated); }
  void onStreamFeatures(FeaturesHook) override { require(HookPoint::StreamFeatures); }
  void onIq(std::string, IqHook) override { require(HookPoint::IqNamespace); }
  void onServerMessage(ServerMessageHook hook) override {
    require(HookPoint::ServerMessage);
    server_message_hooks.push_back(std::move(hook));
  }
  void every(std::chrono::milliseconds period, TimerJob job) override {
    require(HookPoint::Timer);
    timers.emplace_back(period, std::move(job));
  }
  void query(std::string sql, std::vector<std::optional<std::string>> params,
             DbDone done) override {
    queries.push_back({std::move(sql), std::move(params), std::move(done)});
    if (responder) {
      auto [rows, error] = responder(queries.back());
      answer(std::move(rows), std::move(error));
    }
  }
  void emit(ComplianceEvent event) override { events.push_back(std::move(event)); }
  void sendFromServer(xml::Element stanza) override {
    if (send_fails) throw std::runtime_error("session gone");
    sent.push_back(std::move(stanza));
  }
  bool isMember(const Jid& user, std::string_view group) const override {
    // Looked up by the full string: a module asking with a full JID finds nobody.
    membership_queries.push_back(user.full());
    auto it = groups.find(std::string(group));
    return it != groups.end() && it->second.count(user.full()) > 0;
  }
  void log(LogLevel level, std::string_view message) override {
    logs.emplace_back(level, std::string(message));
  }

  // Driving the module as the core would.
  size_t hooksAt(HookPoint point) const {
    size_t n = 0;
    for (const auto& [p, hook] : stanza_hooks) n += p == point;
    return n;
  }
  // The chain at one point: the first verdict that stops or carries an event, else pass (also
  // when nothing is registered there, as in the core: check hooksAt() where that matters).
  Verdict run(HookPoint point, Stanza& stanza) const {
    for (const auto& [p, hook] : stanza_hooks) {
      if (p != point) continue;
      Verdict v = hook(stanza);
      if (v.stops() || v.event) return v;
    }
    return Verdict::pass();
  }
  void session(HookPoint point, std::string_view full) const {
    auto jid = Jid::parse(full);
    REQUIRE(jid);
    size_t called = 0;
    for (const auto& [p, hook] : session_hooks) {
      if (p != point) continue;
      hook(*jid);
      ++called;
    }
    REQUIRE(called > 0);
  }
  void open(std::string_view full) const { session(HookPoint::SessionOpened, full); }
  std::vector<std::string> disco(std::vector<std::string> features,
                                 std::string_view entity = "example.com") const {
    const Jid about = *Jid::parse(entity);
    for (const auto& hook : disco_hooks) hook(about, features);
    return features;
  }
  // message.server: the first verdict that takes (drop) or refuses the message, if any.
  std::optional<Verdict> serverMessage(const Stanza& message) const {
    for (const auto& hook : server_message_hooks) {
      Verdict v = hook(message);
      if (v.stops()) return v;
    }
    return std::nullopt;
  }
  void tick() const {
    for (const auto& [period, job] : timers) job();
  }
  // Answers the oldest query (rows, or an error), as the core's pool would.
  Query answer(DbRows rows, std::string error = {}) {
    REQUIRE_FALSE(queries.empty());
    Query q = std::move(queries.front());
    queries.pop_front();
    q.done(std::move(rows), std::move(error));
    return q;
  }

 private:
  void require(HookPoint point) const {
    if (!dispatched.count(point)) {
      throw std::logic_error(std::string(hookPointName(point)) +
                             " is not dispatched by this parleyd yet");
    }
  }
};

}  // namespace parley::testing
