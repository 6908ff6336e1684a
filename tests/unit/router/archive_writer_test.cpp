// The archive's group commit against a real PostgreSQL: records written while the database is
// busy go in a few big batches, not one job each; the holds that archive queries wait on are
// released once their batch is committed; a full backlog refuses without consuming the record;
// one record the database refuses does not cost the others; and what is queued when the writer
// goes is still written.
#include <catch2/catch.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "router/archive_writer.hpp"
#include "router/archive_writes.hpp"
#include "storage/storage_test_support.hpp"
#include "storage/stores.hpp"

namespace st = parley::storage;
using parley::router::ArchiveWriter;
using parley::router::ArchiveWrites;
using namespace parley::storage::testing;

namespace {

const std::string kAlice = "alice@example.org";
const std::string kBob = "bob@example.org";

std::string uuid(int n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", n);
  return buf;
}

// Message n from alice to bob, in both archives (two entries, ids 2n and 2n+1).
st::ArchiveRecord record(int n) {
  st::ArchiveRecord r;
  r.at_us = 1'800'000'000'000'000 + n;
  r.stanza =
      "<message xmlns='jabber:client' type='chat'><body>" + std::to_string(n) + "</body></message>";
  r.entries.push_back({kAlice, uuid(2 * n), kBob, "pc", true});
  r.entries.push_back({kBob, uuid(2 * n + 1), kAlice, "", false});
  return r;
}

int64_t rows(pqxx::connection& c) {
  pqxx::nontransaction tx(c);
  return tx.exec1("SELECT count(*) FROM mam_messages")[0].as<int64_t>();
}

// Occupies the pool's only thread until the returned promise is set.
std::promise<void> blockPool(st::DbPool& pool) {
  std::promise<void> release;
  auto released = release.get_future().share();
  std::promise<void> started;
  REQUIRE(pool.post([&started, released](pqxx::connection&) {
    started.set_value();
    released.wait();
  }));
  started.get_future().wait();
  return release;
}

// Generous: under AddressSanitizer on a busy 2-core machine 40,000 rows take seconds.
template <class Pred>
bool waitFor(Pred pred) {
  for (int i = 0; i < 6000 && !pred(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

// An io_context running on its own thread until the end of the scope, also when a REQUIRE
// throws (a joinable std::thread would terminate the test run instead of reporting).
struct IoThread {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard =
      boost::asio::make_work_guard(io);
  std::thread runner{[this] { io.run(); }};
  ~IoThread() {
    guard.reset();
    io.stop();
    runner.join();
  }
};

struct Fixture {
  TempDatabase db;
  std::unique_ptr<pqxx::connection> c = db.connect();
  Fixture() {
    REQUIRE(st::createAccount(*c, kAlice, bothCreds('a')));
    REQUIRE(st::createAccount(*c, kBob, bothCreds('b')));
  }
};

}  // namespace

TEST_CASE("ArchiveWriter: a busy database gets a few batches, holds last until committed",
          "[router][archive]") {
  Fixture f;
  st::DbPool pool(f.db.conninfo(), 1);
  IoThread thread;
  auto& io = thread.io;
  {
    ArchiveWriter writer(pool, io);
    ArchiveWrites writes;
    constexpr int kRecords = 1200;  // more than two full batches
    auto release = blockPool(pool);
    for (int n = 0; n < kRecords; ++n) {
      auto r = record(n);
      auto hold = writes.begin({kAlice, kBob});
      REQUIRE(writer.write(std::move(r), std::move(hold)));
    }
    CHECK(writer.backlog() == kRecords);
    CHECK(writes.pending(kAlice));
    CHECK(rows(*f.c) == 0);
    release.set_value();
    REQUIRE(waitFor([&] { return writer.counters().written == kRecords; }));
    CHECK(rows(*f.c) == 2 * kRecords);
    CHECK(writer.counters().failed == 0);
    // At most kMaxBatch records a job: three jobs, give or take one for timing.
    CHECK(writer.counters().batches >= 3);
    CHECK(writer.counters().batches <= 4);
    CHECK(writer.backlog() == 0);
    CHECK_FALSE(writes.pending(kAlice));
    CHECK_FALSE(writes.pending(kBob));

    // A lone record on an idle server is written after the delay, without another write.
    auto hold = writes.begin({kAlice});
    REQUIRE(writer.write(record(kRecords), std::move(hold)));
    REQUIRE(waitFor([&] { return !writes.pending(kAlice); }));
    CHECK(rows(*f.c) == 2 * kRecords + 2);
  }
}

TEST_CASE("ArchiveWriter: a full backlog refuses and leaves the record to the caller",
          "[router][archive]") {
  Fixture f;
  st::DbPool pool(f.db.conninfo(), 1);
  IoThread thread;
  auto& io = thread.io;
  {
    ArchiveWriter writer(pool, io);
    ArchiveWrites writes;
    auto release = blockPool(pool);
    for (size_t n = 0; n < ArchiveWriter::kMaxBacklog; ++n) {
      auto r = record(static_cast<int>(n));
      REQUIRE(writer.write(std::move(r), writes.begin({kAlice})));
    }
    auto extra = record(999999);
    auto hold = writes.begin({kBob});
    CHECK_FALSE(writer.write(std::move(extra), std::move(hold)));
    CHECK(extra.entries.size() == 2);  // not consumed
    CHECK(writes.pending(kBob));       // the hold was not consumed either
    release.set_value();
    // Room again once the database catches up.
    REQUIRE(waitFor([&] { return writer.backlog() < ArchiveWriter::kMaxBacklog; }));
    CHECK(writer.write(std::move(extra), std::move(hold)));
    REQUIRE(waitFor([&] { return writer.backlog() == 0; }));
    CHECK(rows(*f.c) == 2 * static_cast<int64_t>(ArchiveWriter::kMaxBacklog + 1));
  }
}

TEST_CASE("ArchiveWriter: a record the database refuses costs only itself", "[router][archive]") {
  Fixture f;
  st::DbPool pool(f.db.conninfo(), 1);
  IoThread thread;
  auto& io = thread.io;
  {
    ArchiveWriter writer(pool, io);
    ArchiveWrites writes;
    auto release = blockPool(pool);
    for (int n = 0; n < 10; ++n) {
      auto r = record(n);
      if (n == 4) r.entries[1].owner = "nobody@example.org";  // no such account
      REQUIRE(writer.write(std::move(r), writes.begin({kAlice})));
    }
    release.set_value();
    REQUIRE(waitFor([&] { return writer.backlog() == 0; }));
    CHECK(writer.counters().written == 9);
    CHECK(writer.counters().failed == 1);
    CHECK(rows(*f.c) == 18);
    CHECK_FALSE(writes.pending(kAlice));  // the failed record's hold went too
  }
}

TEST_CASE("ArchiveWriter: what is queued when the writer goes is still written",
          "[router][archive]") {
  Fixture f;
  {
    st::DbPool pool(f.db.conninfo(), 1);
    boost::asio::io_context io;  // never run: the destructor must flush without the timer
    auto writer = std::make_unique<ArchiveWriter>(pool, io);
    ArchiveWrites writes;
    auto release = blockPool(pool);
    for (int n = 0; n < 700; ++n) REQUIRE(writer->write(record(n), writes.begin({kAlice})));
    writer.reset();  // as in parleyd, before the pool drains its queue
    release.set_value();
  }
  CHECK(rows(*f.c) == 1400);
}

TEST_CASE("ArchiveWrites: a query waits for the writes begun before it, not for later ones",
          "[router][archive]") {
  ArchiveWrites writes;
  auto first = writes.begin({kAlice, kBob});
  const uint64_t mark = writes.mark();
  auto later = writes.begin({kAlice});
  CHECK(writes.inFlight(kAlice) == 2);
  CHECK(writes.pendingBefore(kAlice, mark));
  first.reset();
  CHECK_FALSE(writes.pendingBefore(kAlice, mark));  // only a later write is in flight
  CHECK(writes.pending(kAlice));
  CHECK_FALSE(writes.pending(kBob));
  later.reset();
  CHECK_FALSE(writes.pending(kAlice));
}
