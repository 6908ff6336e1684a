#include "storage/migrations.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace parley::storage {

namespace {

// One advisory-lock key for "migrating this database": two parleyd/parleyctl processes starting
// at once would otherwise both see a migration pending and both try to apply it. The value is
// arbitrary but fixed forever ('PRLYMIGR' in ASCII).
constexpr long long kMigrationLockKey = 0x50524c594d494752LL;

constexpr const char* kCreateSchemaMigrations =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version integer PRIMARY KEY,"
    " name text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

int latestBundled() {
  const auto& all = bundledMigrations();
  int latest = 0;
  for (const auto& m : all) latest = std::max(latest, m.version);
  return latest;
}

std::set<int> appliedVersions(pqxx::transaction_base& tx) {
  std::set<int> applied;
  // to_regclass answers NULL instead of failing when the table does not exist yet (a fresh
  // database), which would otherwise abort the surrounding transaction.
  auto exists = tx.exec1("SELECT to_regclass('schema_migrations') IS NOT NULL");
  if (!exists[0].as<bool>()) return applied;
  for (const auto& row : tx.exec("SELECT version FROM schema_migrations")) {
    applied.insert(row[0].as<int>());
  }
  return applied;
}

SchemaStatus statusFrom(const std::set<int>& applied) {
  SchemaStatus status;
  status.current = applied.empty() ? 0 : *applied.rbegin();
  status.latest = latestBundled();
  for (const auto& m : bundledMigrations()) {
    if (!applied.count(m.version)) status.pending.push_back(m);
  }
  return status;
}

void refuseNewer(const SchemaStatus& status) {
  if (status.current > status.latest) {
    throw std::runtime_error("database schema version " + std::to_string(status.current) +
                             " is newer than this parleyd (" + std::to_string(status.latest) +
                             "); upgrade parleyd (and parleyctl) to the release that created it "
                             "instead of running an older binary against this database");
  }
}

}  // namespace

SchemaStatus schemaStatus(pqxx::connection& c) {
  pqxx::read_transaction tx(c, "parley_schema_status");
  auto status = statusFrom(appliedVersions(tx));
  tx.commit();
  return status;
}

int migrate(pqxx::connection& c) {
  int applied_count = 0;
  for (;;) {
    // Each migration gets its own transaction so a failure leaves the database at the last good
    // version. The advisory lock is released at commit/rollback, so a second process waits here
    // and then sees what the first one applied.
    pqxx::work tx(c, "parley_migrate");
    tx.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLockKey);
    tx.exec(kCreateSchemaMigrations);
    auto status = statusFrom(appliedVersions(tx));
    refuseNewer(status);
    if (status.pending.empty()) {
      tx.commit();
      return applied_count;
    }
    const Migration& next = status.pending.front();
    try {
      tx.exec(next.sql);
    } catch (const std::exception& e) {
      throw std::runtime_error("migration " + next.name + " failed: " + e.what());
    }
    tx.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", next.version,
                   next.name);
    tx.commit();
    ++applied_count;
  }
}

}  // namespace parley::storage
