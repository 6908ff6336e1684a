#pragma once
// Schema migrations: the SQL files under schemas/ (NNN_what.sql) are compiled into the binary and
// applied in order inside one transaction each, recorded in schema_migrations. A database whose
// schema is newer than the binary knows is refused with a clear error.

#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace parley::storage {

struct Migration {
  int version;
  std::string name;  // file name, e.g. "001_accounts.sql"
  std::string sql;
};

// The migrations compiled into this binary, in version order.
const std::vector<Migration>& bundledMigrations();

struct SchemaStatus {
  int current = 0;  // highest applied version (0: none)
  int latest = 0;   // highest bundled version
  std::vector<Migration> pending;
};

SchemaStatus schemaStatus(pqxx::connection& c);
// Applies pending migrations; returns how many. Throws std::runtime_error when the database is
// newer than this binary ("database schema version N is newer than this parleyd (M) ...").
int migrate(pqxx::connection& c);

}  // namespace parley::storage
