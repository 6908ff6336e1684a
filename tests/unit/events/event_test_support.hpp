#pragma once
// Shared by the events tests: a throwaway migrated database (as in tests/unit/storage), a
// throwaway spool directory, a way to make PostgreSQL really unreachable for one database, and
// polling with a deadline for what the writer thread does in the background.

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include <unistd.h>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <thread>

#include "parley/event.hpp"
#include "storage/migrations.hpp"

namespace parley::events::testing {

inline std::string adminConninfo() {
  const char* v = std::getenv("PARLEY_TEST_PG_CONNINFO");
  if (v == nullptr || *v == '\0') {
    FAIL(
        "PARLEY_TEST_PG_CONNINFO is not set. The events tests need a PostgreSQL server where "
        "they may CREATE DATABASE; run them via deploy/test, which starts a private one and sets "
        "the variable (or set it yourself to a libpq conninfo such as "
        "\"host=/tmp/pgh port=55432 user=postgres dbname=postgres\").");
  }
  return v;
}

// In the keyword form a later keyword wins, so appending is enough.
inline std::string withDbname(const std::string& conninfo, const std::string& dbname) {
  if (conninfo.rfind("postgresql://", 0) == 0 || conninfo.rfind("postgres://", 0) == 0) {
    return conninfo + (conninfo.find('?') == std::string::npos ? "?" : "&") + "dbname=" + dbname;
  }
  return conninfo + " dbname=" + dbname;
}

inline std::string uniqueSuffix() {
  std::random_device rd;
  return std::to_string(::getpid()) + "_" + std::to_string(rd() % 1000000);
}

class TempDatabase {
 public:
  explicit TempDatabase(bool migrated = true)
      : admin_(adminConninfo()), name_("parley_test_ev_" + uniqueSuffix()) {
    {
      pqxx::connection c(admin_);
      pqxx::nontransaction tx(c);  // CREATE DATABASE cannot run inside a transaction block
      tx.exec("CREATE DATABASE " + tx.quote_name(name_));
    }
    conninfo_ = withDbname(admin_, name_);
    if (migrated) migrate();
  }
  ~TempDatabase() {
    try {
      pqxx::connection c(admin_);
      pqxx::nontransaction tx(c);
      // FORCE: a failed assertion may leave a connection of the test open.
      tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name_) + " WITH (FORCE)");
    } catch (const std::exception& e) {
      WARN("could not drop test database " << name_ << ": " << e.what());
    }
  }
  TempDatabase(const TempDatabase&) = delete;
  TempDatabase& operator=(const TempDatabase&) = delete;

  const std::string& conninfo() const { return conninfo_; }

  void migrate() {
    pqxx::connection c(conninfo_);
    storage::migrate(c);
  }

  // A real outage for this database: new connections are refused by the server ("database is
  // not currently accepting connections") and the open ones are terminated, exactly what a
  // client sees when PostgreSQL goes away. reachable(true) ends it.
  void reachable(bool yes) {
    pqxx::connection c(admin_);
    pqxx::nontransaction tx(c);
    tx.exec("ALTER DATABASE " + tx.quote_name(name_) + " ALLOW_CONNECTIONS " +
            (yes ? "true" : "false"));
    if (!yes) {
      tx.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = " +
              tx.quote(name_) + " AND pid <> pg_backend_pid()");
    }
  }

  long long scalar(const std::string& sql) const {
    pqxx::connection c(conninfo_);
    pqxx::read_transaction tx(c);
    return tx.exec1(sql)[0].as<long long>();
  }
  long long rows() const { return scalar("SELECT count(*) FROM events"); }
  long long distinctIds() const { return scalar("SELECT count(DISTINCT id) FROM events"); }

 private:
  std::string admin_;
  std::string name_;
  std::string conninfo_;
};

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() / ("parley_spool_" + uniqueSuffix());
    std::filesystem::remove_all(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Polls `done` until it holds or `limit` passes; the result of the last poll.
inline bool eventually(const std::function<bool()>& done,
                       std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// An event as a module and the core would fill it in; `i` makes it distinguishable.
inline ComplianceEvent sampleEvent(int i) {
  ComplianceEvent e;
  e.kind = "test.event";
  e.action = EventAction::Blocked;
  e.severity = Severity::High;
  e.actor = "alice@example.org/phone";
  e.target = "bob@example.net";
  e.stanza_id = "s" + std::to_string(i);
  e.direction = Direction::Outbound;
  e.session = "c2s 192.0.2.7";
  e.detail_json = "{\"n\":" + std::to_string(i) + "}";
  e.module = "test_module";
  e.clause = "§9 Testing";
  return e;
}

}  // namespace parley::events::testing
