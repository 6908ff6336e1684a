#include "storage/server_secret_store.hpp"

#include <stdexcept>

#include "auth/scram.hpp"

namespace parley::storage {

std::string loadOrCreateServerSecret(pqxx::connection& c, const std::string& name, size_t bytes) {
  pqxx::work tx(c);
  const std::string fresh = auth::base64Encode(auth::randomBytes(bytes));
  tx.exec_params(
      "INSERT INTO server_secrets (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
      name, fresh);
  auto row = tx.exec_params1("SELECT secret FROM server_secrets WHERE name = $1", name);
  tx.commit();
  auto raw = auth::base64Decode(row[0].as<std::string>());
  if (!raw || raw->empty()) throw std::runtime_error("server secret '" + name + "' is not base64");
  return *raw;
}

}  // namespace parley::storage
