// Storage against a real PostgreSQL: every test case creates its own uniquely named database,
// migrates it and drops it at the end, so cases cannot see each other's rows and a crashed run
// leaves at most a "parley_test_*" database behind.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <unistd.h>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <future>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "storage/db_pool.hpp"
#include "storage/last_activity_writer.hpp"
#include "storage/migrations.hpp"
#include "storage/stores.hpp"
#include "storage_test_support.hpp"

// libpqxx 6.4 leaks one PGresult when BEGIN runs on a connection whose backend the server has
// terminated (reproducible with a plain pqxx::work, no Parley code involved), and the pool test
// kills a backend on purpose. Parley code never holds a raw PGresult (libpqxx wraps every one it
// hands out), so suppressing leaked PGresults hides only this library bug. libpq has no frame
// pointers, which is why the suppression names the libpq allocator, not the libpqxx caller.
extern "C" const char* __lsan_default_suppressions() { return "leak:PQmakeEmptyPGresult\n"; }

namespace st = parley::storage;
using parley::auth::ScramCredentials;
using parley::auth::ScramHash;

namespace {

long long countRows(pqxx::connection& c, const std::string& table, const std::string& column,
                    const std::string& owner) {
  pqxx::read_transaction tx(c);
  // Table and column names are test constants; the value is a parameter like everywhere else.
  return tx
      .exec_params1("SELECT count(*) FROM " + tx.quote_name(table) + " WHERE " +
                        tx.quote_name(column) + " = $1",
                    owner)[0]
      .as<long long>();
}

// "2026-11-28T18:50:44Z" (std::regex trips a GCC 12 -Wmaybe-uninitialized false positive).
bool isIso8601Utc(const std::string& s) {
  const std::string shape = "dddd-dd-ddTdd:dd:ddZ";
  if (s.size() != shape.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (shape[i] == 'd' ? !std::isdigit(static_cast<unsigned char>(s[i])) : s[i] != shape[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

TEST_CASE("bundled migrations are numbered from 1 in order", "[storage][migrations]") {
  const auto& all = st::bundledMigrations();
  REQUIRE_FALSE(all.empty());
  CHECK(all.front().version == 1);
  CHECK(all.front().name == "001_core.sql");
  for (size_t i = 1; i < all.size(); ++i) CHECK(all[i].version > all[i - 1].version);
}

TEST_CASE("migrations apply once, concurrently, and refuse a newer database",
          "[storage][migrations]") {
  TempDatabase db(/*migrate=*/false);
  const int latest = st::bundledMigrations().back().version;
  const int count = static_cast<int>(st::bundledMigrations().size());

  {
    auto c = db.connect();
    auto status = st::schemaStatus(*c);
    CHECK(status.current == 0);
    CHECK(status.latest == latest);
    CHECK(static_cast<int>(status.pending.size()) == count);
  }

  // Two processes starting at once: the advisory lock makes one wait, and between them every
  // migration is applied exactly once.
  std::promise<void> go;
  auto start = go.get_future().share();
  auto migrateOnce = [&] {
    auto c = db.connect();
    start.wait();
    return st::migrate(*c);
  };
  auto a = std::async(std::launch::async, migrateOnce);
  auto b = std::async(std::launch::async, migrateOnce);
  go.set_value();
  CHECK(a.get() + b.get() == count);

  auto c = db.connect();
  auto status = st::schemaStatus(*c);
  CHECK(status.current == latest);
  CHECK(status.pending.empty());
  CHECK(st::migrate(*c) == 0);
  {
    pqxx::read_transaction tx(*c);
    CHECK(tx.exec1("SELECT count(*) FROM schema_migrations")[0].as<int>() == count);
    CHECK(tx.exec_params1("SELECT name FROM schema_migrations WHERE version = 1")[0]
              .as<std::string>() == "001_core.sql");
  }

  // A database migrated by a newer release must not be touched by this one.
  {
    pqxx::work tx(*c);
    tx.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, 'future.sql')",
                   latest + 1);
    tx.commit();
  }
  CHECK(st::schemaStatus(*c).current == latest + 1);
  try {
    st::migrate(*c);
    FAIL("migrate accepted a database newer than the binary");
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    CHECK_THAT(what, Catch::Contains("newer than this parleyd"));
    CHECK_THAT(what, Catch::Contains("upgrade parleyd"));
  }
}

TEST_CASE("accounts: create, duplicate, credentials, disable, list, delete cascades",
          "[storage][accounts]") {
  TempDatabase db;
  auto c = db.connect();
  const std::string alice = "alice@example.org";

  CHECK_FALSE(st::accountExists(*c, alice));
  CHECK_FALSE(st::findAccount(*c, alice));
  CHECK_FALSE(st::loadLogin(*c, alice, ScramHash::Sha256));

  REQUIRE(st::createAccount(*c, alice, bothCreds('a')));
  CHECK(st::accountExists(*c, alice));
  CHECK_FALSE(st::createAccount(*c, alice, bothCreds('z')));  // duplicate

  auto acct = st::findAccount(*c, alice);
  REQUIRE(acct);
  CHECK(acct->jid == alice);
  CHECK_FALSE(acct->disabled);
  CHECK(isIso8601Utc(acct->created_at));

  SECTION("credentials round trip byte for byte, per hash") {
    for (const auto& want : bothCreds('a')) {
      auto login = st::loadLogin(*c, alice, want.hash);
      REQUIRE(login);
      CHECK_FALSE(login->disabled);
      CHECK(login->creds.hash == want.hash);
      CHECK(login->creds.salt == want.salt);
      CHECK(login->creds.iterations == want.iterations);
      CHECK(login->creds.stored_key == want.stored_key);
      CHECK(login->creds.server_key == want.server_key);
    }
    // The duplicate create above must not have touched them.
    CHECK(st::loadLogin(*c, alice, ScramHash::Sha1)->creds.salt ==
          creds(ScramHash::Sha1, 'a').salt);
  }

  SECTION("setCredentials replaces every hash; unknown account is false") {
    REQUIRE(st::setCredentials(*c, alice, {creds(ScramHash::Sha256, 'q', 10000)}));
    auto login = st::loadLogin(*c, alice, ScramHash::Sha256);
    REQUIRE(login);
    CHECK(login->creds.salt == creds(ScramHash::Sha256, 'q').salt);
    CHECK(login->creds.iterations == 10000);
    CHECK_FALSE(st::loadLogin(*c, alice, ScramHash::Sha1));  // old SHA-1 row is gone
    CHECK_FALSE(st::setCredentials(*c, "nobody@example.org", bothCreds('b')));
    CHECK_FALSE(st::accountExists(*c, "nobody@example.org"));
  }

  SECTION("disable and enable") {
    REQUIRE(st::setDisabled(*c, alice, true));
    CHECK(st::findAccount(*c, alice)->disabled);
    CHECK(st::loadLogin(*c, alice, ScramHash::Sha1)->disabled);
    REQUIRE(st::setDisabled(*c, alice, false));
    CHECK_FALSE(st::findAccount(*c, alice)->disabled);
    CHECK_FALSE(st::setDisabled(*c, "nobody@example.org", true));
  }

  SECTION("list, optionally by domain, sorted") {
    REQUIRE(st::createAccount(*c, "bob@example.org", bothCreds('b')));
    REQUIRE(st::createAccount(*c, "carol@other.example", bothCreds('c')));
    // A node that merely ends like the domain must not match it.
    REQUIRE(st::createAccount(*c, "example.org@x.example", bothCreds('d')));
    auto all = st::listAccounts(*c);
    REQUIRE(all.size() == 4);
    CHECK(all[0].jid == "alice@example.org");
    CHECK(all[1].jid == "bob@example.org");
    auto local = st::listAccounts(*c, "example.org");
    REQUIRE(local.size() == 2);
    CHECK(local[0].jid == "alice@example.org");
    CHECK(local[1].jid == "bob@example.org");
    CHECK(st::listAccounts(*c, "other.example").size() == 1);
    CHECK(st::listAccounts(*c, "none.example").empty());
  }

  SECTION("delete removes everything the account owns") {
    st::RosterItem item;
    item.contact = "bob@example.org";
    st::saveRosterItem(*c, alice, item);
    REQUIRE(st::storeOffline(*c, alice, "<message/>", 10));
    st::saveVcard(*c, alice, "<vCard xmlns='vcard-temp'/>");
    st::saveLastActivity(*c, alice, {1700000000, "bye"});

    REQUIRE(st::deleteAccount(*c, alice));
    CHECK_FALSE(st::accountExists(*c, alice));
    CHECK(countRows(*c, "account_credentials", "jid", alice) == 0);
    CHECK(countRows(*c, "roster_items", "owner", alice) == 0);
    CHECK(countRows(*c, "roster_versions", "owner", alice) == 0);
    CHECK(countRows(*c, "offline_messages", "owner", alice) == 0);
    CHECK(countRows(*c, "vcards", "owner", alice) == 0);
    CHECK(countRows(*c, "last_activity", "owner", alice) == 0);
    CHECK_FALSE(st::deleteAccount(*c, alice));
  }

  SECTION("values are parameters, never SQL") {
    const std::string evil = "x'); DROP TABLE accounts; --@example.org";
    REQUIRE(st::createAccount(*c, evil, bothCreds('e')));
    CHECK(st::accountExists(*c, evil));
    CHECK(st::accountExists(*c, alice));
  }
}

TEST_CASE("roster: save, load, version bump, delete", "[storage][roster]") {
  TempDatabase db;
  auto c = db.connect();
  const std::string owner = "alice@example.org";
  REQUIRE(st::createAccount(*c, owner, bothCreds('a')));

  auto empty = st::loadRoster(*c, owner);
  CHECK(empty.version == 0);
  CHECK(empty.items.empty());

  st::RosterItem bob;
  bob.contact = "bob@example.org";
  bob.name = "Bob \"the\" Builder";
  bob.subscription = "both";
  bob.groups = {"Friends", "a,b", "quote\"d", "back\\slash", "NULL", "{x}", "", "Ünïcødé"};
  CHECK(st::saveRosterItem(*c, owner, bob) == 1);

  st::RosterItem carol;
  carol.contact = "carol@example.org";
  carol.ask_out = true;
  carol.pending_in = true;
  carol.preapproved = true;
  carol.listed = false;
  CHECK(st::saveRosterItem(*c, owner, carol) == 2);

  auto roster = st::loadRoster(*c, owner);
  CHECK(roster.version == 2);
  REQUIRE(roster.items.size() == 2);
  const auto& b = roster.items[0];
  CHECK(b.contact == bob.contact);
  CHECK(b.name == bob.name);
  CHECK(b.subscription == "both");
  CHECK(b.groups == bob.groups);
  CHECK_FALSE(b.ask_out);
  CHECK(b.listed);
  const auto& cr = roster.items[1];
  CHECK(cr.contact == carol.contact);
  CHECK(cr.subscription == "none");
  CHECK(cr.ask_out);
  CHECK(cr.pending_in);
  CHECK(cr.preapproved);
  CHECK_FALSE(cr.listed);
  CHECK(cr.groups.empty());

  // Saving again replaces the item (no duplicate) and bumps the version.
  bob.groups.clear();
  bob.subscription = "to";
  CHECK(st::saveRosterItem(*c, owner, bob) == 3);
  auto one = st::loadRosterItem(*c, owner, bob.contact);
  REQUIRE(one);
  CHECK(one->subscription == "to");
  CHECK(one->groups.empty());
  CHECK(st::loadRoster(*c, owner).items.size() == 2);
  CHECK_FALSE(st::loadRosterItem(*c, owner, "nobody@example.org"));

  CHECK(st::deleteRosterItem(*c, owner, carol.contact) == std::optional<int64_t>(4));
  CHECK_FALSE(st::deleteRosterItem(*c, owner, carol.contact));  // absent: no bump
  auto after = st::loadRoster(*c, owner);
  CHECK(after.version == 4);
  REQUIRE(after.items.size() == 1);

  // An invalid item fails as a whole: the version bump in the same transaction rolls back.
  st::RosterItem bad;
  bad.contact = "dave@example.org";
  bad.subscription = "sideways";
  CHECK_THROWS(st::saveRosterItem(*c, owner, bad));
  CHECK(st::loadRoster(*c, owner).version == 4);

  // Rosters are per owner.
  REQUIRE(st::createAccount(*c, "bob@example.org", bothCreds('b')));
  CHECK(st::loadRoster(*c, "bob@example.org").version == 0);
  CHECK(st::saveRosterItem(*c, "bob@example.org", carol) == 1);
  CHECK(st::loadRoster(*c, owner).version == 4);
}

TEST_CASE("offline messages: cap, order, take deletes", "[storage][offline]") {
  TempDatabase db;
  auto c = db.connect();
  const std::string owner = "alice@example.org";
  REQUIRE(st::createAccount(*c, owner, bothCreds('a')));

  CHECK(st::takeOffline(*c, owner).empty());
  CHECK(st::countOffline(*c, owner) == 0);

  const std::vector<std::string> stanzas = {
      "<message id='1'><body>first</body></message>",
      "<message id='2'><body>'; DROP TABLE offline_messages; --</body></message>",
      "<message id='3'><body>Ünïcødé ✓</body></message>"};
  for (const auto& s : stanzas) REQUIRE(st::storeOffline(*c, owner, s, 3));
  CHECK_FALSE(st::storeOffline(*c, owner, "<message id='4'/>", 3));  // full
  CHECK(st::countOffline(*c, owner) == 3);
  CHECK_FALSE(st::storeOffline(*c, "nobody@example.org", "<message/>", 3));

  auto taken = st::takeOffline(*c, owner);
  REQUIRE(taken.size() == 3);
  for (size_t i = 0; i < taken.size(); ++i) {
    CHECK(taken[i].stanza == stanzas[i]);
    CHECK(isIso8601Utc(taken[i].stored_at));
    if (i > 0) CHECK(taken[i].id > taken[i - 1].id);
  }
  CHECK(st::countOffline(*c, owner) == 0);
  CHECK(st::takeOffline(*c, owner).empty());
  CHECK(st::storeOffline(*c, owner, "<message id='5'/>", 3));  // room again

  SECTION("the cap holds under concurrent delivery") {
    st::takeOffline(*c, owner);
    constexpr int kThreads = 6, kPerThread = 10;
    constexpr size_t kCap = 17;
    std::atomic<int> stored{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        auto mine = db.connect();
        for (int i = 0; i < kPerThread; ++i) {
          if (st::storeOffline(*mine, owner, "<message/>", kCap)) ++stored;
        }
      });
    }
    for (auto& t : threads) t.join();
    CHECK(stored == static_cast<int>(kCap));
    CHECK(st::countOffline(*c, owner) == kCap);
  }

  SECTION("stored_at is UTC whatever the session's time zone") {
    pqxx::nontransaction(*c).exec("SET TIME ZONE 'Pacific/Kiritimati'");  // UTC+14
    auto before = std::chrono::system_clock::now();
    st::takeOffline(*c, owner);
    REQUIRE(st::storeOffline(*c, owner, "<message/>", 3));
    auto msgs = st::takeOffline(*c, owner);
    REQUIRE(msgs.size() == 1);
    std::time_t t = std::chrono::system_clock::to_time_t(before);
    std::tm utc{};
    gmtime_r(&t, &utc);
    char day[11];
    std::strftime(day, sizeof day, "%Y-%m-%d", &utc);
    // Same UTC day (a run spanning midnight UTC is the only way this could flake).
    CHECK(msgs[0].stored_at.substr(0, 10) == day);
  }
}

TEST_CASE("vCards and last activity", "[storage][vcard][last]") {
  TempDatabase db;
  auto c = db.connect();
  const std::string owner = "alice@example.org";
  REQUIRE(st::createAccount(*c, owner, bothCreds('a')));

  CHECK_FALSE(st::loadVcard(*c, owner));
  st::saveVcard(*c, owner, "<vCard xmlns='vcard-temp'><FN>Alice</FN></vCard>");
  CHECK(st::loadVcard(*c, owner) == "<vCard xmlns='vcard-temp'><FN>Alice</FN></vCard>");
  st::saveVcard(*c, owner, "<vCard xmlns='vcard-temp'><FN>Alice B.</FN></vCard>");
  CHECK(st::loadVcard(*c, owner) == "<vCard xmlns='vcard-temp'><FN>Alice B.</FN></vCard>");
  CHECK_THROWS(st::saveVcard(*c, "nobody@example.org", "<vCard/>"));  // owner must exist

  CHECK_FALSE(st::loadLastActivity(*c, owner));
  st::saveLastActivity(*c, owner, {1700000000, "Gone fishing"});
  auto last = st::loadLastActivity(*c, owner);
  REQUIRE(last);
  CHECK(last->logout_unix == 1700000000);
  CHECK(last->status == "Gone fishing");
  st::saveLastActivity(*c, owner, {1800000000, ""});
  last = st::loadLastActivity(*c, owner);
  REQUIRE(last);
  CHECK(last->logout_unix == 1800000000);
  CHECK(last->status.empty());
}

TEST_CASE("DbPool: start-up, run, post, retry on a broken connection, drain", "[storage][pool]") {
  TempDatabase db;

  SECTION("an unreachable database fails at construction") {
    CHECK_THROWS_AS(st::DbPool("host=/nonexistent-parley-socket-dir port=1 connect_timeout=2", 2),
                    pqxx::broken_connection);
  }

  SECTION("run resumes the coroutine with the result or the exception") {
    st::DbPool pool(db.conninfo(), 2);
    boost::asio::io_context io;
    int answer = 0;
    std::string error;
    bool void_done = false;
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          answer = co_await pool.run([](pqxx::connection& c) {
            pqxx::read_transaction tx(c);
            return tx.exec1("SELECT 6 * 7")[0].as<int>();
          });
          co_await pool.run([](pqxx::connection& c) { st::countOffline(c, "x@example.org"); });
          void_done = true;
          try {
            co_await pool.run([](pqxx::connection&) -> int { throw std::logic_error("boom"); });
          } catch (const std::logic_error& e) {
            error = e.what();
          }
        },
        boost::asio::detached);
    io.run();
    CHECK(answer == 42);
    CHECK(void_done);
    CHECK(error == "boom");
  }

  SECTION("a job on a connection the server killed is retried once on a new one") {
    st::DbPool pool(db.conninfo(), 1);
    auto pidOf = [&]() {
      std::promise<int> pid;
      REQUIRE(pool.post([&](pqxx::connection& c) { pid.set_value(c.backendpid()); }));
      return pid.get_future().get();
    };
    int first = pidOf();
    {
      auto killer = db.connect();
      pqxx::nontransaction tx(*killer);
      tx.exec_params("SELECT pg_terminate_backend($1)", first);
    }
    // Give the server a moment to actually end the backend.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));

    boost::asio::io_context io;
    int attempts = 0;
    int second = 0;
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          second = co_await pool.run([&](pqxx::connection& c) {
            ++attempts;
            pqxx::read_transaction tx(c);
            tx.exec1("SELECT 1");
            return c.backendpid();
          });
        },
        boost::asio::detached);
    io.run();
    CHECK(second != 0);
    CHECK(second != first);
    CHECK(attempts >= 1);
    CHECK(attempts <= 2);
  }

  SECTION("broken_connection: exactly one retry, on a reconnected connection") {
    st::DbPool pool(db.conninfo(), 1);
    boost::asio::io_context io;
    std::vector<int> pids;
    int result = 0;
    int always_attempts = 0;
    std::string always_error;
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          result = co_await pool.run([&](pqxx::connection& c) {
            pids.push_back(c.backendpid());
            if (pids.size() == 1) throw pqxx::broken_connection("simulated network blip");
            return 7;
          });
          try {
            co_await pool.run([&](pqxx::connection&) -> int {
              ++always_attempts;
              throw pqxx::broken_connection("database is gone");
            });
          } catch (const pqxx::broken_connection& e) {
            always_error = e.what();
          }
        },
        boost::asio::detached);
    io.run();
    CHECK(result == 7);
    REQUIRE(pids.size() == 2);
    CHECK(pids[0] != pids[1]);  // the retry ran on a new connection
    CHECK(always_attempts == 2);
    CHECK_THAT(always_error, Catch::Contains("database is gone"));

    // post() jobs get the same single retry.
    std::atomic<int> posted_attempts{0};
    std::promise<void> finished;
    REQUIRE(pool.post([&](pqxx::connection&) {
      if (++posted_attempts == 1) throw pqxx::broken_connection("blip");
      finished.set_value();
    }));
    finished.get_future().wait();
    CHECK(posted_attempts == 2);
  }

  SECTION("the destructor finishes queued work; a full queue refuses") {
    std::atomic<int> done{0};
    std::promise<void> release;
    auto released = release.get_future().share();
    std::promise<void> started;
    {
      st::DbPool pool(db.conninfo(), 1, 3);
      REQUIRE(pool.post([&](pqxx::connection&) {
        started.set_value();
        released.wait();
        ++done;
      }));
      started.get_future().wait();  // the worker holds job 1; the queue is empty
      for (int i = 0; i < 3; ++i) {
        REQUIRE(pool.post([&](pqxx::connection& c) {
          pqxx::read_transaction tx(c);
          tx.exec1("SELECT 1");
          ++done;
        }));
      }
      CHECK_FALSE(pool.post([&](pqxx::connection&) { ++done; }));  // limit 3 reached
      release.set_value();
    }
    CHECK(done == 4);
  }
}

TEST_CASE("LastActivityWriter: pending values are visible, batches reach the table",
          "[storage][last]") {
  TempDatabase db;
  auto c = db.connect();
  std::vector<std::string> owners;
  for (int i = 0; i < 50; ++i) {
    owners.push_back("user" + std::to_string(i) + "@example.org");
    REQUIRE(st::createAccount(*c, owners.back(), bothCreds('a')));
  }
  {
    st::DbPool pool(db.conninfo(), 1);
    boost::asio::io_context io;  // never run: the destructor must flush without the timer
    // Destroyed before the pool drains its queue, as in parleyd: the queued flush must not
    // depend on it.
    auto writer = std::make_unique<st::LastActivityWriter>(pool, io);
    // Hold the only database thread so the writes below accumulate in one batch.
    std::promise<void> release;
    auto released = release.get_future().share();
    std::promise<void> started;
    REQUIRE(pool.post([&started, released](pqxx::connection&) {
      started.set_value();
      released.wait();
    }));
    started.get_future().wait();
    for (size_t i = 0; i < owners.size(); ++i) {
      writer->record(owners[i], {1700000000 + static_cast<int64_t>(i), "first"});
    }
    writer->record(owners[0], {1900000000, "it's \\ 'quoted'"});  // the latest value wins
    auto pending = writer->pending(owners[0]);
    REQUIRE(pending);
    CHECK(pending->logout_unix == 1900000000);
    CHECK_FALSE(st::loadLastActivity(*c, owners[0]));  // not in the table yet
    CHECK_FALSE(writer->pending("nobody@example.org"));
    writer.reset();
    release.set_value();
  }  // the pool drains its queue before it is destroyed: the batch is written
  auto first = st::loadLastActivity(*c, owners[0]);
  REQUIRE(first);
  CHECK(first->logout_unix == 1900000000);
  CHECK(first->status == "it's \\ 'quoted'");
  for (size_t i = 1; i < owners.size(); ++i) {
    auto last = st::loadLastActivity(*c, owners[i]);
    REQUIRE(last);
    CHECK(last->logout_unix == 1700000000 + static_cast<int64_t>(i));
  }
}

TEST_CASE("LastActivityWriter: written after the delay while the server runs", "[storage][last]") {
  TempDatabase db;
  auto c = db.connect();
  REQUIRE(st::createAccount(*c, "alice@example.org", bothCreds('a')));
  st::DbPool pool(db.conninfo(), 1);
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  std::thread runner([&io] { io.run(); });
  {
    st::LastActivityWriter writer(pool, io);
    writer.record("alice@example.org", {1700000123, "lunch"});
    std::optional<st::LastActivity> stored;
    for (int i = 0; i < 100 && !stored; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      stored = st::loadLastActivity(*c, "alice@example.org");
    }
    REQUIRE(stored);
    CHECK(stored->logout_unix == 1700000123);
    // Forgotten once the write is known to be committed (just after the row is visible).
    for (int i = 0; i < 100 && writer.pending("alice@example.org"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    CHECK_FALSE(writer.pending("alice@example.org"));
  }
  guard.reset();
  runner.join();
}

TEST_CASE("updateRosterItem: concurrent read-modify-writes of one roster lose nothing",
          "[storage][roster]") {
  TempDatabase db;
  {
    auto c = db.connect();
    REQUIRE(st::createAccount(*c, "alice@example.org", bothCreds('a')));
  }
  // Two connections each add 1 to a counter kept in the item's name, 40 times, on a roster
  // that does not exist yet: a read and a write in separate transactions would lose updates.
  auto worker = [&]() {
    auto c = db.connect();
    for (int i = 0; i < 40; ++i) {
      st::updateRosterItem(*c, "alice@example.org", "bob@example.org",
                           [](const std::optional<st::RosterItem>& before) {
                             st::RosterItem item = before.value_or(st::RosterItem{});
                             item.name =
                                 std::to_string(item.name.empty() ? 1 : std::stoi(item.name) + 1);
                             return std::optional<st::RosterItem>(item);
                           });
    }
  };
  std::thread a(worker), b(worker);
  a.join();
  b.join();
  auto c = db.connect();
  auto item = st::loadRosterItem(*c, "alice@example.org", "bob@example.org");
  REQUIRE(item);
  CHECK(item->name == "80");
  CHECK(st::loadRoster(*c, "alice@example.org").version == 80);
  // Declining to change stores nothing and keeps the version.
  auto unchanged =
      st::updateRosterItem(*c, "alice@example.org", "bob@example.org",
                           [](const auto&) { return std::optional<st::RosterItem>(); });
  CHECK(unchanged.before);
  CHECK_FALSE(unchanged.version);
  CHECK(st::loadRoster(*c, "alice@example.org").version == 80);
}
