#pragma once
// XEP-0049 private XML storage: fragments an account keeps on the server, by root element.
// Blocking, like every storage function: the server calls them through DbPool::run.
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace parley::storage {

struct PrivateFragment {
  std::string ns, name;
  std::string payload;  // serialized element
};

std::optional<std::string> loadPrivateFragment(pqxx::connection& c, const std::string& owner,
                                               const std::string& ns, const std::string& name);
// Stores (or replaces) every fragment in one transaction.
void savePrivateFragments(pqxx::connection& c, const std::string& owner,
                          const std::vector<PrivateFragment>& fragments);

}  // namespace parley::storage
