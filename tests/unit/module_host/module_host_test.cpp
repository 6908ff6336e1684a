#include "modules/module_host.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "parley/module.hpp"
#include "parley/stanza.hpp"
#include "storage/db_pool.hpp"
#include "support/recording_sink.hpp"

namespace {

using parley::EventAction;
using parley::HookPoint;
using parley::Verdict;
using parley::modules::ModuleHost;

using parley::testing::RecordingSink;

parley::config::ModuleSettings module(const std::string& name, const std::string& verdict,
                                      const std::string& tag) {
  parley::config::ModuleSettings m;
  m.name = name;
  m.line = 7;
  m.options = YAML::Node(YAML::NodeType::Map);
  m.options["verdict"] = verdict;
  m.options["tag"] = tag;
  return m;
}

parley::config::Config configWith(std::vector<parley::config::ModuleSettings> list) {
  parley::config::Config cfg;
  cfg.path = "parley.yaml";
  cfg.modules.dir = PARLEY_TEST_MODULE_DIR;
  cfg.modules.list = std::move(list);
  return cfg;
}

parley::Stanza message() {
  parley::Stanza s;
  s.element = parley::xml::Element(std::string(parley::ns::kClient), "message");
  s.element.setAttr("id", "m1");
  s.from = *parley::Jid::parse("alice@example.org/desk");
  s.to = *parley::Jid::parse("bob@example.org");
  return s;
}

std::string errorOf(ModuleHost& host, const parley::config::Config& cfg) {
  try {
    host.apply(cfg);
  } catch (const parley::config::ConfigError& e) {
    return e.key() + " | " + e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("module host: verdicts in priority order, clause-prefixed rejections, events",
          "[modules]") {
  RecordingSink sink;
  ModuleHost host(
      sink, [](parley::xml::Element) {}, PARLEY_TEST_MODULE_DIR);
  auto first = module("probe", "modify", "A");
  first.priority = 10;
  auto second = module("probe_b", "reject", "B");
  second.priority = 20;
  auto changes = host.apply(configWith({second, first}));
  CHECK(changes.size() == 2);

  auto stanza = message();
  Verdict v = host.runStanza(HookPoint::PreRoute, stanza);
  CHECK(v.kind == Verdict::Kind::Reject);
  CHECK(v.condition == "policy-violation");
  CHECK(v.text == "Blocked by the IM policy (§0 Testing): probe says no.");
  CHECK(stanza.element.attrOr("trace") == "A;B;");  // priority 10 before 20
  REQUIRE(sink.events.size() == 1);
  CHECK(sink.events[0].module == "probe_b");
  CHECK(sink.events[0].clause == "§0 Testing");
  CHECK(sink.events[0].kind == "probe.reject");
  CHECK(sink.events[0].actor == "alice@example.org/desk");

  // Other points are untouched; disco features come from every module.
  auto other = message();
  CHECK(host.runStanza(HookPoint::StanzaFromClient, other).kind == Verdict::Kind::Pass);
  std::vector<std::string> features;
  host.runDiscoInfo(*parley::Jid::parse("example.org"), features);
  CHECK(features == std::vector<std::string>{"urn:test:probe:A", "urn:test:probe:B"});
}

TEST_CASE("module host: each applied module set has a new generation", "[modules]") {
  // What the server derives from the modules' hooks (its caps hash) is keyed on this.
  RecordingSink sink;
  ModuleHost host(
      sink, [](parley::xml::Element) {}, PARLEY_TEST_MODULE_DIR);
  const uint64_t start = host.generation();
  host.apply(configWith({module("probe", "pass", "A")}));
  const uint64_t first = host.generation();
  CHECK(first != start);
  host.apply(configWith({}));
  CHECK(host.generation() != first);
}

TEST_CASE("module host: monitor_only records would_block and lets the stanza pass", "[modules]") {
  RecordingSink sink;
  ModuleHost host(
      sink, [](parley::xml::Element) {}, PARLEY_TEST_MODULE_DIR);
  auto m = module("probe", "reject", "M");
  m.monitor_only = true;
  host.apply(configWith({m}));
  auto stanza = message();
  CHECK(host.runStanza(HookPoint::PreRoute, stanza).kind == Verdict::Kind::Pass);
  REQUIRE(sink.events.size() == 1);
  CHECK(sink.events[0].action == EventAction::WouldBlock);
  CHECK(sink.events[0].kind == "probe.reject");
}

TEST_CASE("module host: fail closed on a throw or an overrun budget, on_error pass", "[modules]") {
  RecordingSink sink;
  ModuleHost host(
      sink, [](parley::xml::Element) {}, PARLEY_TEST_MODULE_DIR);

  host.apply(configWith({module("probe", "throw", "T")}));
  auto stanza = message();
  Verdict v = host.runStanza(HookPoint::PreRoute, stanza);
  CHECK(v.kind == Verdict::Kind::Reject);
  CHECK(v.text.find("Blocked by the IM policy (§0 Testing): the check could not be completed") ==
        0);
  REQUIRE(sink.events.size() == 1);
  CHECK(sink.events[0].action == EventAction::Error);
  CHECK(sink.events[0].kind == "probe.failure");
  CHECK(sink.events[0].detail_json.find("probe failure") != std::string::npos);

  auto slow = module("probe", "slow", "S");
  slow.budget = std::chrono::milliseconds(5);
  host.apply(configWith({slow}));
  stanza = message();
  CHECK(host.runStanza(HookPoint::PreRoute, stanza).kind == Verdict::Kind::Reject);
  CHECK(sink.events.back().detail_json.find("over its budget") != std::string::npos);

  auto lenient = module("probe", "throw", "P");
  lenient.on_error = "pass";
  host.apply(configWith({lenient}));
  stanza = message();
  CHECK(host.runStanza(HookPoint::PreRoute, stanza).kind == Verdict::Kind::Pass);
  CHECK(sink.events.back().action == EventAction::Error);
  auto info = host.active();
  REQUIRE(info.size() == 1);
  CHECK(info[0].failures == 1);
}

TEST_CASE("module host: refusals name the module, the key and both versions", "[modules]") {
  RecordingSink sink;
  ModuleHost host(
      sink, [](parley::xml::Element) {}, PARLEY_TEST_MODULE_DIR);
  host.apply(configWith({module("probe", "reject", "R")}));

  parley::config::ModuleSettings missing;
  missing.name = "no_such_module";
  std::string e = errorOf(host, configWith({missing}));
  CHECK(e.find("modules.no_such_module |") == 0);
  CHECK(e.find("does not exist") != std::string::npos);

  parley::config::ModuleSettings version;
  version.name = "wrong_version";
  e = errorOf(host, configWith({version}));
  const std::string theirs = "API version " + std::to_string(parley::kApiVersion + 98);
  const std::string ours = "this parleyd has version " + std::to_string(parley::kApiVersion);
  CHECK(e.find(theirs) != std::string::npos);
  CHECK(e.find(ours) != std::string::npos);

  parley::config::ModuleSettings signature;
  signature.name = "wrong_signature";
  e = errorOf(host, configWith({signature}));
  CHECK(e.find("compiler other 1.0") != std::string::npos);
  CHECK(e.find(PARLEY_BUILD_SIGNATURE) != std::string::npos);

  parley::config::ModuleSettings undispatched;
  undispatched.name = "undispatched";
  e = errorOf(host, configWith({undispatched}));
  CHECK(e.find("stanza.out.s2s is not dispatched") != std::string::npos);

  auto bad = module("probe", "maybe", "X");
  e = errorOf(host, configWith({bad}));
  CHECK(e.find("modules.probe.verdict |") == 0);

  // Every failed apply left the running set in place.
  auto stanza = message();
  CHECK(host.runStanza(HookPoint::PreRoute, stanza).kind == Verdict::Kind::Reject);
  CHECK(host.active().size() == 1);
}

TEST_CASE("module host: disabling removes the hooks", "[modules]") {
  RecordingSink sink;
  ModuleHost host(
      sink, [](parley::xml::Element) {}, PARLEY_TEST_MODULE_DIR);
  host.apply(configWith({module("probe", "reject", "R")}));
  auto off = module("probe", "reject", "R");
  off.enabled = false;
  auto changes = host.apply(configWith({off}));
  CHECK(changes == std::vector<std::string>{"probe: disabled"});
  CHECK(host.apply(configWith({off})).empty());  // nothing changed, nothing reported
  auto on = module("probe", "reject", "R");
  CHECK(host.apply(configWith({on})) == std::vector<std::string>{"probe: enabled"});
  CHECK(host.apply(configWith({on})).empty());
  on.monitor_only = true;
  CHECK(host.apply(configWith({on})) == std::vector<std::string>{"probe: reconfigured"});
  off.enabled = false;
  host.apply(configWith({off}));
  auto stanza = message();
  CHECK(host.runStanza(HookPoint::PreRoute, stanza).kind == Verdict::Kind::Pass);
  CHECK_FALSE(host.hasHooks(HookPoint::PreRoute));
}

TEST_CASE("module host: stanza.deliver hooks and stanza.decided observers", "[modules]") {
  RecordingSink sink;
  ModuleHost host(
      sink, [](parley::xml::Element) {}, PARLEY_TEST_MODULE_DIR);
  auto plain = module("probe", "pass", "P");
  host.apply(configWith({plain}));
  CHECK_FALSE(host.hasHooks(HookPoint::BeforeLocalDelivery));
  CHECK_FALSE(host.hasHooks(HookPoint::Decided));

  auto probe = module("probe", "pass", "P");
  probe.options["deliver"] = "reject";
  probe.options["observe"] = true;
  host.apply(configWith({probe}));
  REQUIRE(host.hasHooks(HookPoint::BeforeLocalDelivery));
  REQUIRE(host.hasHooks(HookPoint::Decided));

  auto stanza = message();
  stanza.element.addChild(std::string(parley::ns::kClient), "body").addText("hi");
  Verdict v = host.runStanza(HookPoint::BeforeLocalDelivery, stanza);
  CHECK(v.kind == Verdict::Kind::Reject);
  CHECK(v.text == "Blocked by the IM policy (§0 Testing): probe refuses delivery.");

  sink.taken();
  host.runDecided(stanza, Verdict::reject("no"));
  host.runDecided(stanza, Verdict::pass());
  auto events = sink.taken();
  REQUIRE(events.size() == 2);
  CHECK(events[0].kind == "probe.decided.reject");
  CHECK(events[1].kind == "probe.decided.pass");
  CHECK(events[0].module == "probe");
  CHECK(events[0].stanza_id == "m1");

  // A rewrite at delivery is reported as modify, the rewrite kept.
  probe.options["deliver"] = "modify";
  host.apply(configWith({probe}));
  auto again = message();
  again.element.addChild(std::string(parley::ns::kClient), "body").addText("hi");
  CHECK(host.runStanza(HookPoint::BeforeLocalDelivery, again).kind == Verdict::Kind::Modify);
  CHECK(again.element.attrOr("delivered-to") == "bob@example.org");
}

namespace {

// Waits (up to 5 s) until `sink` holds an event of `kind`; returns how many it holds.
size_t waitForEvents(RecordingSink& sink, const std::string& kind, size_t at_least) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    size_t n = 0;
    {
      std::lock_guard lock(sink.mutex);
      for (const auto& e : sink.events) n += e.kind == kind ? 1 : 0;
    }
    if (n >= at_least || std::chrono::steady_clock::now() > deadline) return n;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

TEST_CASE("module host: timers tick until their module is disabled or replaced", "[modules]") {
  RecordingSink sink;
  ModuleHost host(
      sink, [](parley::xml::Element) {}, PARLEY_TEST_MODULE_DIR);
  auto ticking = module("probe", "pass", "T");
  ticking.options["tick_ms"] = 20;
  host.apply(configWith({ticking}));
  CHECK(waitForEvents(sink, "probe.tick", 3) >= 3);

  // Disabled: no more ticks (one already due may still land).
  auto off = ticking;
  off.enabled = false;
  host.apply(configWith({off}));
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  const size_t after_stop = waitForEvents(sink, "probe.tick", 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  CHECK(waitForEvents(sink, "probe.tick", 0) == after_stop);

  // A reload replaces the instance: the new one ticks, the old one does not double it.
  host.apply(configWith({ticking}));
  sink.taken();
  std::this_thread::sleep_for(std::chrono::milliseconds(210));
  const size_t ticks = waitForEvents(sink, "probe.tick", 0);
  CHECK(ticks >= 3);
  CHECK(ticks <= 12);  // about 10 from one timer; two timers would make about 20
}

TEST_CASE("module host: queries run on the core's database pool", "[modules][db]") {
  const char* conninfo = std::getenv("PARLEY_TEST_PG_CONNINFO");
  if (!conninfo || !*conninfo) {
    FAIL("PARLEY_TEST_PG_CONNINFO is not set; run through deploy/test");
  }
  parley::storage::DbPool pool(conninfo, 1);
  RecordingSink sink;
  ModuleHost host(
      sink, [](parley::xml::Element) {}, PARLEY_TEST_MODULE_DIR,
      [&pool](std::function<void(pqxx::connection&)> job) { return pool.post(std::move(job)); });
  auto asking = module("probe", "pass", "Q");
  asking.options["query"] = "SELECT $1::int + 1 AS answer, $2::text IS NULL AS second_is_null";
  host.apply(configWith({asking}));
  REQUIRE(waitForEvents(sink, "probe.query", 1) == 1);
  auto events = sink.taken();
  auto it = std::find_if(events.begin(), events.end(),
                         [](const auto& e) { return e.kind == "probe.query"; });
  REQUIRE(it != events.end());
  CHECK(it->detail_json == R"({"first":"42","column":"answer","error":""})");

  // SQL the database refuses comes back as an error, not an exception in the core.
  auto broken = module("probe", "pass", "Q");
  broken.options["query"] = "SELECT * FROM no_such_table";
  host.apply(configWith({broken}));
  REQUIRE(waitForEvents(sink, "probe.query", 1) == 1);
  events = sink.taken();
  it = std::find_if(events.begin(), events.end(),
                    [](const auto& e) { return e.kind == "probe.query"; });
  REQUIRE(it != events.end());
  CHECK(it->detail_json.find("no_such_table") != std::string::npos);
}

TEST_CASE("module host: without a database, queries fail with a message", "[modules]") {
  RecordingSink sink;
  ModuleHost host(
      sink, [](parley::xml::Element) {}, PARLEY_TEST_MODULE_DIR);
  auto asking = module("probe", "pass", "Q");
  asking.options["query"] = "SELECT 1";
  host.apply(configWith({asking}));
  REQUIRE(waitForEvents(sink, "probe.query", 1) == 1);
  std::lock_guard lock(sink.mutex);
  auto it = std::find_if(sink.events.begin(), sink.events.end(),
                         [](const auto& e) { return e.kind == "probe.query"; });
  CHECK(it->detail_json.find("no database") != std::string::npos);
}

TEST_CASE("module host: sasl.authenticated may refuse a login; iq.<namespace> answers",
          "[modules]") {
  RecordingSink sink;
  ModuleHost host(
      sink, [](parley::xml::Element) {}, PARLEY_TEST_MODULE_DIR);
  ModuleHost::reserveNamespaces({"jabber:iq:roster"});
  auto probe = module("probe", "pass", "L");
  probe.options["refuse_login"] = "mallory@example.org";
  probe.options["iq_ns"] = "urn:test:probe";
  host.apply(configWith({probe}));

  parley::LoginInfo info{"192.0.2.7", "SCRAM-SHA-256", true};
  CHECK(host.runLogin(*parley::Jid::parse("alice@example.org"), info).kind == Verdict::Kind::Pass);
  sink.taken();
  Verdict refused = host.runLogin(*parley::Jid::parse("mallory@example.org"), info);
  CHECK(refused.kind == Verdict::Kind::Reject);
  CHECK(refused.text == "Blocked by the IM policy (§0 Testing): your IM access is suspended.");
  auto events = sink.taken();
  REQUIRE(events.size() == 1);
  CHECK(events[0].kind == "probe.login_refused");

  parley::Stanza iq;
  iq.element = parley::xml::Element(std::string(parley::ns::kClient), "iq");
  iq.element.setAttr("type", "get");
  iq.element.addChild("urn:test:probe", "question");
  iq.from = *parley::Jid::parse("alice@example.org/desk");
  parley::xml::Element reply;
  auto answered = host.runIq(iq, reply);
  REQUIRE(answered);
  CHECK(answered->kind == Verdict::Kind::Pass);
  CHECK(reply.name() == "answer");
  CHECK(reply.attrOr("to") == "alice@example.org/desk");
  parley::Stanza other = iq;
  other.element = parley::xml::Element(std::string(parley::ns::kClient), "iq");
  other.element.addChild("urn:test:other", "question");
  CHECK_FALSE(host.runIq(other, reply));

  // The core's own namespaces cannot be taken over, nor can two modules share one.
  auto roster = module("probe", "pass", "R");
  roster.options["iq_ns"] = "jabber:iq:roster";
  CHECK(errorOf(host, configWith({roster})).find("serves jabber:iq:roster itself") !=
        std::string::npos);
  auto first = module("probe", "pass", "A");
  first.options["iq_ns"] = "urn:test:probe";
  auto second = module("probe_b", "pass", "B");
  second.options["iq_ns"] = "urn:test:probe";
  CHECK(errorOf(host, configWith({first, second})).find("already answers urn:test:probe") !=
        std::string::npos);
  ModuleHost::reserveNamespaces({});
}

TEST_CASE("module host: message.server asks modules in priority order until one takes it",
          "[modules]") {
  RecordingSink sink;
  std::vector<parley::xml::Element> sent;
  ModuleHost host(
      sink, [&sent](parley::xml::Element e) { sent.push_back(std::move(e)); },
      PARLEY_TEST_MODULE_DIR);
  CHECK_FALSE(host.hasHooks(HookPoint::ServerMessage));
  auto first = module("probe", "pass", "A");
  first.options["server_message"] = true;
  first.priority = 10;
  auto second = module("probe_b", "pass", "B");
  second.options["server_message"] = true;
  second.priority = 20;
  host.apply(configWith({second, first}));
  REQUIRE(host.hasHooks(HookPoint::ServerMessage));
  sink.taken();

  auto to_server = [](const std::string& body) {
    parley::Stanza s;
    s.element = parley::xml::Element(std::string(parley::ns::kClient), "message");
    s.element.setAttr("id", "m-" + body);
    s.element.addChild(std::string(parley::ns::kClient), "body").addText(body);
    s.from = *parley::Jid::parse("alice@example.org/desk");
    s.to = *parley::Jid::parse("example.org");
    return s;
  };
  // B's message passes A (not A's) and is taken by B, which answers the sender.
  auto taken = host.runServerMessage(to_server("take B"));
  REQUIRE(taken);
  CHECK(taken->kind == Verdict::Kind::Drop);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].attrOr("to") == "alice@example.org/desk");
  CHECK(sent[0].child("body", std::string(parley::ns::kClient))->text() == "taken by B");
  auto events = sink.taken();
  REQUIRE(events.size() == 1);
  CHECK(events[0].module == "probe_b");
  CHECK(events[0].kind == "probe.server_message");
  CHECK(events[0].stanza_id == "m-take B");
  // A refusal is the service's own answer: its condition and text, no policy prefix.
  auto refused = host.runServerMessage(to_server("refuse A"));
  REQUIRE(refused);
  CHECK(refused->kind == Verdict::Kind::Reject);
  CHECK(refused->condition == "not-acceptable");
  CHECK(refused->text == "probe refuses.");
  // Nobody's: the router answers service-unavailable.
  CHECK_FALSE(host.runServerMessage(to_server("hello")));
  CHECK(sent.size() == 1);
}

TEST_CASE("module host: stream.features lets a module edit what clients are offered", "[modules]") {
  RecordingSink sink;
  ModuleHost host(
      sink, [](parley::xml::Element) {}, PARLEY_TEST_MODULE_DIR);
  CHECK_FALSE(host.hasHooks(HookPoint::StreamFeatures));
  auto probe = module("probe", "pass", "F");
  probe.options["feature"] = "urn:test:probe:feature";
  host.apply(configWith({probe}));
  REQUIRE(host.hasHooks(HookPoint::StreamFeatures));
  parley::xml::Element before_auth(std::string(parley::ns::kClient), "features");
  host.runStreamFeatures(parley::Jid(), before_auth);
  CHECK(before_auth.children().empty());
  parley::xml::Element after_auth(std::string(parley::ns::kClient), "features");
  host.runStreamFeatures(*parley::Jid::parse("alice@example.org"), after_auth);
  const auto* added = after_auth.child("probe", "urn:test:probe:feature");
  REQUIRE(added != nullptr);
  CHECK(added->attrOr("for") == "alice@example.org");
}

TEST_CASE("module host: an observer that throws is counted and recorded, the rest still run",
          "[modules]") {
  RecordingSink sink;
  ModuleHost host(
      sink, [](parley::xml::Element) {}, PARLEY_TEST_MODULE_DIR);
  auto failing = module("probe", "pass", "X");
  failing.options["observe"] = true;
  failing.options["observe_throws"] = true;
  auto working = module("probe_b", "pass", "Y");
  working.options["observe"] = true;
  host.apply(configWith({failing, working}));
  sink.taken();
  auto stanza = message();
  host.runDecided(stanza, Verdict::pass());
  auto events = sink.taken();
  REQUIRE(events.size() == 2);
  auto failure = std::find_if(events.begin(), events.end(),
                              [](const auto& e) { return e.kind == "probe.failure"; });
  REQUIRE(failure != events.end());
  CHECK(failure->action == EventAction::Error);
  CHECK(failure->stanza_id == "m1");  // whom it concerns comes along
  CHECK(failure->detail_json.find("stanza.decided") != std::string::npos);
  CHECK(failure->detail_json.find("archive unavailable") != std::string::npos);
  CHECK(std::any_of(events.begin(), events.end(),
                    [](const auto& e) { return e.kind == "probe.decided.pass"; }));
  for (const auto& info : host.active()) {
    if (info.name == "probe") CHECK(info.failures == 1);
  }
}
