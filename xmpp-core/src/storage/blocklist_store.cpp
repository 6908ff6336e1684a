#include "storage/blocklist_store.hpp"

#include <stdexcept>

namespace parley::storage {
namespace {

// libpqxx 6.4 cannot bind a std::vector, so a change's JIDs travel as one text parameter, one
// JID per line, split by string_to_array in SQL. A prepared JID never contains a line feed
// (nodeprep and resourceprep prohibit control characters, and a domain's labels pass the IDNA
// STD3 rules), so the split is exact; anything else is a caller's bug and refused before it reaches
// SQL.
std::string oneJidPerLine(const std::vector<std::string>& jids) {
  std::string out;
  for (const auto& jid : jids) {
    if (jid.empty() || jid.find('\n') != std::string::npos) {
      throw std::invalid_argument("not a prepared JID: '" + jid + "'");
    }
    if (!out.empty()) out += '\n';
    out += jid;
  }
  return out;
}

constexpr const char* kItemsInOrder =
    "SELECT jid FROM blocklist_items WHERE owner = $1 ORDER BY blocked_at, jid";

// Bumps the version first: its row lock makes concurrent changes to one list wait for each
// other, so versions are handed out in commit order and the list read back is exactly this
// version's.
template <class Change>
StoredBlocklist changeBlocklist(pqxx::connection& c, const std::string& owner, Change change) {
  pqxx::work tx(c);
  StoredBlocklist out;
  out.version = tx.exec_params1(
                      "INSERT INTO blocklist_versions (owner, version) VALUES ($1, 1) "
                      "ON CONFLICT (owner) DO UPDATE SET version = blocklist_versions.version + 1 "
                      "RETURNING version",
                      owner)[0]
                    .as<int64_t>();
  change(tx);
  auto r = tx.exec_params(kItemsInOrder, owner);
  tx.commit();
  out.jids.reserve(r.size());
  for (const auto& row : r) out.jids.push_back(row[0].as<std::string>());
  return out;
}

}  // namespace

StoredBlocklist loadBlocklist(pqxx::connection& c, const std::string& owner) {
  // One statement (one round trip, one snapshot): a row per item, or a single row with a null
  // jid when the list is empty.
  pqxx::nontransaction tx(c);
  auto r = tx.exec_params(
      "SELECT v.version, i.jid FROM (SELECT $1::text AS owner) o "
      "LEFT JOIN blocklist_versions v ON v.owner = o.owner "
      "LEFT JOIN blocklist_items i ON i.owner = o.owner "
      "ORDER BY i.blocked_at, i.jid",
      owner);
  tx.commit();
  StoredBlocklist out;
  for (const auto& row : r) {
    if (!row[0].is_null()) out.version = row[0].as<int64_t>();
    if (!row[1].is_null()) out.jids.push_back(row[1].as<std::string>());
  }
  return out;
}

StoredBlocklist blockJids(pqxx::connection& c, const std::string& owner,
                          const std::vector<std::string>& jids) {
  const std::string lines = oneJidPerLine(jids);
  return changeBlocklist(c, owner, [&](pqxx::work& tx) {
    tx.exec_params(
        "INSERT INTO blocklist_items (owner, jid) "
        "SELECT $1, j FROM unnest(string_to_array($2, chr(10))) AS j "
        "ON CONFLICT (owner, jid) DO NOTHING",
        owner, lines);
  });
}

StoredBlocklist unblockJids(pqxx::connection& c, const std::string& owner,
                            const std::vector<std::string>& jids) {
  const std::string lines = oneJidPerLine(jids);
  return changeBlocklist(c, owner, [&](pqxx::work& tx) {
    if (jids.empty()) {
      tx.exec_params("DELETE FROM blocklist_items WHERE owner = $1", owner);
    } else {
      tx.exec_params(
          "DELETE FROM blocklist_items WHERE owner = $1 "
          "AND jid = ANY (string_to_array($2, chr(10)))",
          owner, lines);
    }
  });
}

std::vector<std::string> ownersWithBlocklist(pqxx::connection& c) {
  pqxx::nontransaction tx(c);
  auto r = tx.exec("SELECT DISTINCT owner FROM blocklist_items");
  tx.commit();
  std::vector<std::string> owners;
  owners.reserve(r.size());
  for (const auto& row : r) owners.push_back(row[0].as<std::string>());
  return owners;
}

}  // namespace parley::storage
