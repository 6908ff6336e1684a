#pragma once
// What the storage tests share: a private, migrated database per test case (created under the
// PostgreSQL named by PARLEY_TEST_PG_CONNINFO, dropped at the end) and SCRAM credentials made
// of awkward bytes.

#include <catch2/catch.hpp>

#include <unistd.h>
#include <cstdlib>
#include <memory>
#include <pqxx/pqxx>
#include <random>
#include <string>
#include <vector>

#include "auth/scram.hpp"
#include "storage/migrations.hpp"

namespace parley::storage::testing {

using auth::ScramCredentials;
using auth::ScramHash;

inline std::string adminConninfo() {
  const char* v = std::getenv("PARLEY_TEST_PG_CONNINFO");
  if (v == nullptr || *v == '\0') {
    FAIL(
        "PARLEY_TEST_PG_CONNINFO is not set. The storage tests need a PostgreSQL server where "
        "they may CREATE DATABASE; run them via deploy/test, which starts a private one and sets "
        "the variable (or set it yourself to a libpq conninfo such as "
        "\"host=/tmp/pgh port=55432 user=postgres dbname=postgres\").");
  }
  return v;
}

// Points a conninfo (keyword=value form, or a postgresql:// URI) at another database. In the
// keyword form a later keyword wins, so appending is enough.
inline std::string withDbname(const std::string& conninfo, const std::string& dbname) {
  if (conninfo.rfind("postgresql://", 0) == 0 || conninfo.rfind("postgres://", 0) == 0) {
    return conninfo + (conninfo.find('?') == std::string::npos ? "?" : "&") + "dbname=" + dbname;
  }
  return conninfo + " dbname=" + dbname;
}

class TempDatabase {
 public:
  explicit TempDatabase(bool migrate = true) {
    admin_ = adminConninfo();
    std::random_device rd;
    name_ = "parley_test_" + std::to_string(::getpid()) + "_" + std::to_string(rd() % 1000000);
    {
      pqxx::connection c(admin_);
      pqxx::nontransaction tx(c);  // CREATE DATABASE cannot run inside a transaction block
      tx.exec("CREATE DATABASE " + tx.quote_name(name_));
    }
    conninfo_ = withDbname(admin_, name_);
    if (migrate) {
      pqxx::connection c(conninfo_);
      storage::migrate(c);
    }
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
  std::unique_ptr<pqxx::connection> connect() const {
    return std::make_unique<pqxx::connection>(conninfo_);
  }

 private:
  std::string admin_;
  std::string name_;
  std::string conninfo_;
};

// Bytes that break naive text handling: NUL, high bytes, quote and backslash.
inline std::string awkwardBytes(char seed, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += static_cast<char>(seed + i * 37);
  out[0] = '\0';
  out[1] = '\xff';
  out[2] = '\'';
  out[3] = '\\';
  return out;
}

inline ScramCredentials creds(ScramHash hash, char seed, uint32_t iterations = 4096) {
  ScramCredentials c;
  c.hash = hash;
  c.salt = awkwardBytes(seed, 16);
  c.iterations = iterations;
  c.stored_key = awkwardBytes(seed + 1, hash == ScramHash::Sha1 ? 20 : 32);
  c.server_key = awkwardBytes(seed + 2, hash == ScramHash::Sha1 ? 20 : 32);
  return c;
}

inline std::vector<ScramCredentials> bothCreds(char seed) {
  return {creds(ScramHash::Sha1, seed), creds(ScramHash::Sha256, seed + 10, 8192)};
}

}  // namespace parley::storage::testing

using parley::storage::testing::bothCreds;
using parley::storage::testing::creds;
using parley::storage::testing::TempDatabase;
