#include "storage/private_store.hpp"

namespace parley::storage {

std::optional<std::string> loadPrivateFragment(pqxx::connection& c, const std::string& owner,
                                               const std::string& ns, const std::string& name) {
  pqxx::nontransaction tx(c);
  auto r = tx.exec_params(
      "SELECT payload FROM private_storage WHERE owner = $1 AND ns = $2 AND name = $3", owner, ns,
      name);
  if (r.empty()) return std::nullopt;
  return r[0][0].as<std::string>();
}

void savePrivateFragments(pqxx::connection& c, const std::string& owner,
                          const std::vector<PrivateFragment>& fragments) {
  pqxx::work tx(c);
  for (const auto& f : fragments) {
    tx.exec_params(
        "INSERT INTO private_storage (owner, ns, name, payload) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (owner, ns, name) DO UPDATE SET payload = EXCLUDED.payload,"
        " updated_at = now()",
        owner, f.ns, f.name, f.payload);
  }
  tx.commit();
}

}  // namespace parley::storage
