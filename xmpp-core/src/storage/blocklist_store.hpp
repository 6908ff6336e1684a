#pragma once
// The queries behind XEP-0191 blocklists (schemas/006_blocklist.sql). Blocking and taking a
// connection, like every query in storage/: the server calls them through DbPool::run on a
// database thread. JIDs are passed prepared (Jid::full() of a parsed Jid); owners are bare.

#include <cstdint>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace parley::storage {

struct StoredBlocklist {
  int64_t version = 0;            // 0 until the account first changes its list
  std::vector<std::string> jids;  // in the order they were blocked
};

StoredBlocklist loadBlocklist(pqxx::connection& c, const std::string& owner);
// Adds `jids` (an address already blocked keeps its place) and bumps the version, in one
// transaction; returns the list as that transaction left it.
StoredBlocklist blockJids(pqxx::connection& c, const std::string& owner,
                          const std::vector<std::string>& jids);
// Removes `jids`, or every address when `jids` is empty (XEP-0191 "unblock all"), and bumps the
// version, in one transaction; returns the list as that transaction left it.
StoredBlocklist unblockJids(pqxx::connection& c, const std::string& owner,
                            const std::vector<std::string>& jids);
// Every account that has blocked at least one address (parleyd's index at start-up).
std::vector<std::string> ownersWithBlocklist(pqxx::connection& c);

}  // namespace parley::storage
