// The pipeline against a real PostgreSQL: every case gets its own migrated database and spool
// directory. Outages are real: the database refuses connections and its backends are
// terminated (TempDatabase::reachable), so the writer sees what it would see in production.

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "event_test_support.hpp"
#include "events/event_store.hpp"
#include "events/event_time.hpp"
#include "events/pipeline.hpp"
#include "events/spool.hpp"
#include "events/uuid.hpp"

// libpqxx 6.4 leaks one PGresult when BEGIN runs on a connection whose backend the server has
// terminated (see tests/unit/storage/storage_test.cpp); these tests terminate backends on
// purpose. libpq has no frame pointers, hence the libpq allocator in the suppression.
extern "C" const char* __lsan_default_suppressions() { return "leak:PQmakeEmptyPGresult\n"; }

namespace ev = parley::events;
namespace fs = std::filesystem;
using ev::testing::eventually;
using ev::testing::sampleEvent;
using ev::testing::TempDatabase;
using ev::testing::TempDir;
using namespace std::chrono_literals;

namespace {

ev::PipelineOptions fastOptions() {
  ev::PipelineOptions o;
  o.flush_interval = 20ms;
  o.reconnect_interval = 100ms;  // the default is a second; the tests wait for recoveries
  return o;
}

// Spooled events as an earlier run would have left them (ids and times already stamped).
std::vector<parley::ComplianceEvent> stamped(int from, int count) {
  std::vector<parley::ComplianceEvent> out;
  for (int i = from; i < from + count; ++i) {
    auto e = sampleEvent(i);
    e.id = ev::randomUuid();
    e.node = "node-0";
    e.at = ev::truncateToMicros(ev::Clock::now());
    out.push_back(e);
  }
  return out;
}

}  // namespace

TEST_CASE("pipeline: an event reaches the table with every field", "[events][pipeline]") {
  TempDatabase db;
  TempDir spool;
  ev::Pipeline pipeline(db.conninfo(), "node-1", spool.path(), fastOptions());

  auto e = sampleEvent(1);
  e.at = ev::fromMicros(1714566896123456);  // 2024-05-01T12:34:56.123456Z
  e.action = parley::EventAction::Redacted;
  e.severity = parley::Severity::Critical;
  e.direction = parley::Direction::Inbound;
  e.detail_json = R"({"card": "****1234", "n": 1})";
  pipeline.emit(e);
  auto plain = sampleEvent(2);  // no time, no detail: now and {}
  plain.detail_json.clear();
  auto before = ev::Clock::now();
  pipeline.emit(plain);
  REQUIRE(pipeline.drain());

  pqxx::connection c(db.conninfo());
  pqxx::read_transaction tx(c);
  auto r = tx.exec1(
      "SELECT id::text, at = '2024-05-01 12:34:56.123456+00', node, module, clause, kind, action, "
      "severity, actor, target, stanza_id, direction, session, detail->>'card', "
      "(detail->>'n')::int, tableoid::regclass::text FROM events WHERE stanza_id = 's1'");
  CHECK(ev::isUuid(r[0].as<std::string>()));
  CHECK(r[1].as<bool>());
  CHECK(r[2].as<std::string>() == "node-1");
  CHECK(r[3].as<std::string>() == "test_module");
  CHECK(r[4].as<std::string>() == "§9 Testing");
  CHECK(r[5].as<std::string>() == "test.event");
  CHECK(r[6].as<std::string>() == "redacted");
  CHECK(r[7].as<std::string>() == "critical");
  CHECK(r[8].as<std::string>() == "alice@example.org/phone");
  CHECK(r[9].as<std::string>() == "bob@example.net");
  CHECK(r[10].as<std::string>() == "s1");
  CHECK(r[11].as<std::string>() == "inbound");
  CHECK(r[12].as<std::string>() == "c2s 192.0.2.7");
  CHECK(r[13].as<std::string>() == "****1234");
  CHECK(r[14].as<int>() == 1);
  CHECK(r[15].as<std::string>() == "events_2024_05");  // its month's partition, not the default

  auto p = tx.exec1(
      "SELECT detail::text, (extract(epoch FROM at) * 1000000)::bigint FROM events "
      "WHERE stanza_id = 's2'");
  CHECK(p[0].as<std::string>() == "{}");
  auto at = ev::fromMicros(p[1].as<int64_t>());
  CHECK(at >= ev::truncateToMicros(before));
  CHECK(at <= ev::Clock::now());

  auto m = pipeline.metrics();
  CHECK(m.rows_written == 2);
  CHECK(m.queue_depth == 0);
  CHECK(m.spool_bytes == 0);
  CHECK(m.database_connected);
}

TEST_CASE("pipeline: a batch of 1000 is written", "[events][pipeline]") {
  TempDatabase db;
  TempDir spool;
  auto options = fastOptions();
  options.batch_max = 1000;
  options.flush_interval = 10s;  // the batch goes because it is full, not because of the timer
  ev::Pipeline pipeline(db.conninfo(), "node-1", spool.path(), options);
  for (int i = 0; i < 1000; ++i) pipeline.emit(sampleEvent(i));
  REQUIRE(eventually([&] { return pipeline.metrics().rows_written == 1000; }));
  CHECK(db.rows() == 1000);
  CHECK(db.distinctIds() == 1000);
  CHECK(db.scalar("SELECT count(DISTINCT stanza_id) FROM events") == 1000);
  CHECK(pipeline.metrics().last_batch_latency > 0us);
  CHECK(pipeline.metrics().spooled == 0);
}

TEST_CASE("pipeline: while PostgreSQL is unreachable events are spooled, then written once",
          "[events][pipeline][outage]") {
  TempDatabase db;
  TempDir spool;
  ev::Pipeline pipeline(db.conninfo(), "node-1", spool.path(), fastOptions());
  for (int i = 0; i < 100; ++i) pipeline.emit(sampleEvent(i));
  REQUIRE(pipeline.drain());
  REQUIRE(db.rows() == 100);

  db.reachable(false);
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 50; ++i) pipeline.emit(sampleEvent(100 + round * 50 + i));
    REQUIRE(pipeline.drain());  // acknowledged: in the spool, fsync'd
  }
  auto during = pipeline.metrics();
  CHECK_FALSE(during.database_connected);
  CHECK(during.spooled == 200);
  CHECK(during.spool_bytes > 0);
  CHECK(during.queue_depth == 0);

  db.reachable(true);
  REQUIRE(eventually([&] { return pipeline.metrics().spool_bytes == 0; }));
  CHECK(pipeline.metrics().replayed == 200);
  CHECK(db.rows() == 300);
  CHECK(db.distinctIds() == 300);
  // Written after the outage: straight to the table again.
  pipeline.emit(sampleEvent(999));
  REQUIRE(pipeline.drain());
  CHECK(db.rows() == 301);
  CHECK(pipeline.metrics().spooled == 200);
}

TEST_CASE("pipeline: started while PostgreSQL is down, it spools and catches up",
          "[events][pipeline][outage]") {
  TempDatabase db;
  TempDir spool;
  db.reachable(false);
  ev::Pipeline pipeline(db.conninfo(), "node-1", spool.path(), fastOptions());
  for (int i = 0; i < 30; ++i) pipeline.emit(sampleEvent(i));
  REQUIRE(pipeline.drain());
  CHECK(pipeline.metrics().spooled == 30);
  db.reachable(true);
  REQUIRE(eventually([&] { return pipeline.metrics().spool_bytes == 0; }));
  CHECK(db.rows() == 30);
  CHECK(db.distinctIds() == 30);
}

TEST_CASE("pipeline: a spool with a torn last record replays every complete record",
          "[events][pipeline][spool]") {
  TempDatabase db;
  TempDir spool;
  auto spooled = stamped(0, 20);
  {
    ev::Spool s(spool.path());
    for (const auto& e : spooled) s.append({e});
    auto segment = s.seal().front();
    fs::resize_file(segment, fs::file_size(segment) - 3);  // the crash cut the last write short
  }
  ev::Pipeline pipeline(db.conninfo(), "node-1", spool.path(), fastOptions());
  REQUIRE(eventually([&] { return pipeline.metrics().spool_bytes == 0; }));
  CHECK(pipeline.metrics().replayed == 19);
  CHECK(pipeline.metrics().discarded == 1);
  CHECK(db.rows() == 19);
  CHECK(db.scalar("SELECT count(*) FROM events WHERE stanza_id = 's19'") == 0);
  CHECK(db.scalar("SELECT count(*) FROM events WHERE id = '" + spooled[18].id + "'") == 1);
}

TEST_CASE("pipeline: a replay interrupted and run again writes no duplicates",
          "[events][pipeline][spool]") {
  TempDatabase db;
  TempDir spool;
  TempDir saved;
  auto spooled = stamped(0, 300);
  fs::path segment;
  {
    ev::Spool s(spool.path());
    s.append(spooled);
    segment = s.seal().front();
  }
  fs::create_directories(saved.path());
  fs::copy_file(segment, saved.path() / segment.filename());
  {
    // The interrupted replay: its first batches were committed, then the process died before
    // the segment was removed.
    pqxx::connection c(db.conninfo());
    ev::insertEvents(c, {spooled.begin(), spooled.begin() + 120});
  }
  {
    auto options = fastOptions();
    options.batch_max = 50;
    ev::Pipeline pipeline(db.conninfo(), "node-1", spool.path(), options);
    REQUIRE(eventually([&] { return pipeline.metrics().spool_bytes == 0; }));
    CHECK(pipeline.metrics().replayed == 300);
    CHECK(pipeline.metrics().rows_written == 180);  // the 120 already in were skipped by id
  }
  CHECK(db.rows() == 300);
  // And the whole segment once more, as if the removal itself had been lost.
  fs::copy_file(saved.path() / segment.filename(), segment);
  {
    ev::Pipeline pipeline(db.conninfo(), "node-1", spool.path(), fastOptions());
    REQUIRE(eventually([&] { return pipeline.metrics().spool_bytes == 0; }));
    CHECK(pipeline.metrics().replayed == 300);
    CHECK(pipeline.metrics().rows_written == 0);
  }
  CHECK(db.rows() == 300);
  CHECK(db.distinctIds() == 300);
}

TEST_CASE("pipeline: shutdown writes everything still queued", "[events][pipeline]") {
  TempDatabase db;
  TempDir spool;
  auto options = fastOptions();
  options.flush_interval = 60s;  // nothing would be written before the destructor runs
  options.batch_max = 400;

  SECTION("to PostgreSQL") {
    {
      ev::Pipeline pipeline(db.conninfo(), "node-1", spool.path(), options);
      for (int i = 0; i < 750; ++i) pipeline.emit(sampleEvent(i));
    }
    CHECK(db.rows() == 750);
    CHECK(db.distinctIds() == 750);
  }
  SECTION("to the spool while PostgreSQL is down, replayed by the next run") {
    db.reachable(false);
    {
      ev::Pipeline pipeline(db.conninfo(), "node-1", spool.path(), options);
      for (int i = 0; i < 750; ++i) pipeline.emit(sampleEvent(i));
    }
    db.reachable(true);
    CHECK(db.rows() == 0);
    ev::Pipeline next(db.conninfo(), "node-1", spool.path(), fastOptions());
    REQUIRE(eventually([&] { return next.metrics().spool_bytes == 0; }));
    CHECK(db.rows() == 750);
    CHECK(db.distinctIds() == 750);
  }
}

TEST_CASE("pipeline: a full queue spills into the spool instead of dropping",
          "[events][pipeline]") {
  TempDatabase db;
  TempDir spool;
  auto options = fastOptions();
  options.queue_limit = 5;
  options.batch_max = 1000;
  options.flush_interval = 60s;  // the writer takes nothing: the queue stays full
  ev::Pipeline pipeline(db.conninfo(), "node-1", spool.path(), options);
  for (int i = 0; i < 20; ++i) pipeline.emit(sampleEvent(i));
  auto m = pipeline.metrics();
  CHECK(m.queue_depth == 5);
  CHECK(m.spooled == 15);
  REQUIRE(pipeline.drain());
  REQUIRE(eventually([&] { return pipeline.metrics().spool_bytes == 0; }));
  CHECK(db.rows() == 20);
  CHECK(db.distinctIds() == 20);
}

TEST_CASE("pipeline: when the spool cannot be written, on_fatal is called once",
          "[events][pipeline][outage]") {
  TempDatabase db;
  TempDir spool;
  std::atomic<int> fatal_calls{0};
  std::string why;
  auto options = fastOptions();
  options.on_fatal = [&](std::string reason) {
    why = std::move(reason);
    ++fatal_calls;
  };
  db.reachable(false);
  ev::Pipeline pipeline(db.conninfo(), "node-1", spool.path(), options);
  // Occupy the names of the next segments: every append fails (as on a full or broken disk).
  for (int i = 1; i <= 1000; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "events-%010d.spool", i);
    std::ofstream(spool.path() / name).put('\0');
  }
  for (int i = 0; i < 10; ++i) pipeline.emit(sampleEvent(i));
  CHECK_FALSE(pipeline.drain());
  CHECK(fatal_calls == 1);
  CHECK(why.find("events-") != std::string::npos);
  // Kept in memory, not dropped (the writer takes them out only while it retries).
  CHECK(eventually([&] { return pipeline.metrics().queue_depth == 10; }));

  // PostgreSQL comes back: the events go there (the only durable place left).
  db.reachable(true);
  REQUIRE(eventually([&] { return pipeline.metrics().rows_written == 10; }));
  CHECK(db.rows() == 10);
  CHECK(fatal_calls == 1);
}

TEST_CASE("pipeline: an event PostgreSQL refuses is set aside, the rest of its batch written",
          "[events][pipeline]") {
  TempDatabase db;
  TempDir spool;
  ev::Pipeline pipeline(db.conninfo(), "node-1", spool.path(), fastOptions());
  pipeline.emit(sampleEvent(0));
  auto bad = sampleEvent(1);
  bad.action = static_cast<parley::EventAction>(99);  // fails the table's CHECK constraint
  pipeline.emit(bad);
  pipeline.emit(sampleEvent(2));
  REQUIRE(pipeline.drain());
  CHECK(db.rows() == 2);
  CHECK(db.scalar("SELECT count(*) FROM events WHERE stanza_id = 's1'") == 0);
  CHECK(pipeline.metrics().rejected == 1);
  // Not silently lost: kept, in the spool's record format, next to the spool.
  fs::path rejected = spool.path() / "events.rejected";
  REQUIRE(fs::exists(rejected));
  CHECK(fs::file_size(rejected) > 0);
  CHECK(pipeline.metrics().spool_bytes == 0);  // and not retried
}

TEST_CASE("pipeline: events wait in the spool until the schema is migrated",
          "[events][pipeline][outage]") {
  TempDatabase db(/*migrated=*/false);
  TempDir spool;
  ev::Pipeline pipeline(db.conninfo(), "node-1", spool.path(), fastOptions());
  for (int i = 0; i < 10; ++i) pipeline.emit(sampleEvent(i));
  REQUIRE(pipeline.drain());
  CHECK(pipeline.metrics().spooled == 10);
  db.migrate();
  REQUIRE(eventually([&] { return pipeline.metrics().spool_bytes == 0; }));
  CHECK(db.rows() == 10);
}

TEST_CASE("event search: filters by module, actor, action and time", "[events][store]") {
  TempDatabase db;
  pqxx::connection c(db.conninfo());
  auto make = [](std::string module, std::string actor, parley::EventAction action, int64_t at_us) {
    auto e = sampleEvent(0);
    e.id = ev::randomUuid();
    e.module = std::move(module);
    e.actor = std::move(actor);
    e.action = action;
    e.at = ev::fromMicros(at_us);
    e.stanza_id = std::to_string(at_us);
    return e;
  };
  const int64_t day = 86400LL * 1000000;
  const int64_t t0 = 1714566896000000;  // 2024-05-01; t0 + 40 days is in June
  using A = parley::EventAction;
  ev::insertEvents(c, {make("dlp", "alice@x.org/phone", A::Blocked, t0),
                       make("dlp", "alice@x.org", A::Flagged, t0 + day),
                       make("file_transfer", "alice@x.org/laptop", A::Blocked, t0 + 2 * day),
                       make("dlp", "alice@x.organic/y", A::Blocked, t0 + 3 * day),
                       make("dlp", "bob@x.org/phone", A::Blocked, t0 + 40 * day)});
  CHECK(db.scalar("SELECT count(*) FROM events_default") == 0);

  auto ids = [&](const ev::EventQuery& q) {
    std::vector<std::string> out;
    for (const auto& e : ev::findEvents(c, q)) out.push_back(e.stanza_id);
    return out;
  };
  auto at = [&](int days) { return std::to_string(t0 + days * day); };

  ev::EventQuery all;
  CHECK(ids(all) == std::vector<std::string>{at(0), at(1), at(2), at(3), at(40)});
  ev::EventQuery newest;
  newest.limit = 2;
  CHECK(ids(newest) == std::vector<std::string>{at(3), at(40)});  // newest two, oldest first
  ev::EventQuery by_module;
  by_module.module = "file_transfer";
  CHECK(ids(by_module) == std::vector<std::string>{at(2)});
  ev::EventQuery by_actor;  // a bare JID matches its full JIDs, not a longer domain
  by_actor.actor = "alice@x.org";
  CHECK(ids(by_actor) == std::vector<std::string>{at(0), at(1), at(2)});
  ev::EventQuery by_full;
  by_full.actor = "alice@x.org/phone";
  CHECK(ids(by_full) == std::vector<std::string>{at(0)});
  ev::EventQuery by_action;
  by_action.action = A::Flagged;
  CHECK(ids(by_action) == std::vector<std::string>{at(1)});
  ev::EventQuery window;
  window.since = ev::fromMicros(t0 + day);
  window.until = ev::fromMicros(t0 + 3 * day);
  CHECK(ids(window) == std::vector<std::string>{at(1), at(2)});

  auto one = ev::findEvents(c, by_module).front();
  CHECK(one.module == "file_transfer");
  CHECK(one.action == A::Blocked);
  CHECK(one.severity == parley::Severity::High);
  CHECK(one.direction == parley::Direction::Outbound);
  CHECK(one.detail_json == R"({"n": 0})");
  CHECK(one.at == ev::fromMicros(t0 + 2 * day));
}
