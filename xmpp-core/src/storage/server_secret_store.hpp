#pragma once
// Secrets the server keeps across restarts (schemas/010_server_secrets.sql). Blocking, like every
// storage function: the server calls it through DbPool::run.

#include <pqxx/pqxx>
#include <string>

namespace parley::storage {

// The raw bytes of the secret named `name`; the first caller creates it from `bytes` random
// bytes. Concurrent first callers (several threads, several nodes) all get the one that won.
std::string loadOrCreateServerSecret(pqxx::connection& c, const std::string& name, size_t bytes);

}  // namespace parley::storage
