#include "router/server_context.hpp"

#include <algorithm>

#include "storage/blocklist_store.hpp"

namespace parley::router {
namespace {

auth::ThrottleLimits throttleLimits(const config::Config& c) {
  auth::ThrottleLimits l;
  l.ip_failures_before_backoff = c.auth.ip_failures_before_backoff;
  l.account_failures_before_backoff = c.auth.account_failures_before_backoff;
  l.initial_backoff = c.auth.backoff_initial;
  l.max_backoff = c.auth.backoff_max;
  return l;
}

boost::asio::awaitable<std::shared_ptr<const Blocklist>> loadBlocklist(storage::DbPool& db,
                                                                       std::string owner) {
  auto job = [owner](pqxx::connection& c) {
    auto stored = storage::loadBlocklist(c, owner);
    return std::make_shared<const Blocklist>(owner, stored.version, std::move(stored.jids));
  };
  co_return co_await db.run(std::move(job));
}

}  // namespace

ServerContext::ServerContext(boost::asio::io_context& io,
                             std::shared_ptr<const config::Config> config, storage::DbPool& db)
    : io_(io),
      db_(db),
      config_(std::move(config)),
      blocklists_(
          [pool = &db](std::string owner) { return loadBlocklist(*pool, std::move(owner)); }),
      throttle_(throttleLimits(*config_)) {}

std::shared_ptr<const config::Config> ServerContext::config() const {
  std::lock_guard lock(config_mutex_);
  return config_;
}

void ServerContext::setConfig(std::shared_ptr<const config::Config> config) {
  std::lock_guard lock(config_mutex_);
  config_ = std::move(config);
}

bool ServerContext::isLocalDomain(std::string_view domain) const {
  auto c = config();
  return std::find(c->hosts.begin(), c->hosts.end(), domain) != c->hosts.end();
}

}  // namespace parley::router
