#pragma once
// What every part of the running server shares: configuration, database pool, session
// registry, hook chains and throttles. One instance lives for the life of parleyd.

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "admin/admin_worker.hpp"
#include "admin/module_control.hpp"
#include "auth/auth_throttle.hpp"
#include "config/config.hpp"
#include "modules/module_host.hpp"
#include "router/archive_prefs_cache.hpp"
#include "router/archive_writer.hpp"
#include "router/archive_writes.hpp"
#include "router/blocklist_cache.hpp"
#include "router/component_links.hpp"
#include "router/login_cache.hpp"
#include "router/offline_index.hpp"
#include "router/session_registry.hpp"
#include "storage/db_pool.hpp"
#include "storage/last_activity_writer.hpp"

namespace parley::router {

class Router;

class ServerContext {
 public:
  ServerContext(boost::asio::io_context& io, std::shared_ptr<const config::Config> config,
                storage::DbPool& db);

  boost::asio::io_context& io() { return io_; }
  storage::DbPool& db() { return db_; }
  SessionRegistry& registry() { return registry_; }
  // XEP-0114 external components, by domain (router/component_links.hpp).
  ComponentLinks& components() { return components_; }
  storage::LastActivityWriter& lastActivity() { return last_activity_; }
  OfflineIndex& offlineIndex() { return offline_index_; }
  LoginCache& loginCache() { return login_cache_; }
  BlocklistCache& blocklists() { return blocklists_; }
  // XEP-0441 archiving preferences of recently active accounts (router/archiving.hpp).
  ArchivePrefsCache& archivePrefs() { return archive_prefs_; }
  // Archives with a write in flight (router/archive_writes.hpp).
  ArchiveWrites& archiveWrites() { return archive_writes_; }
  // Group commit of delivered messages into the archives (router/archive_writer.hpp).
  ArchiveWriter& archiveWriter() { return archive_writer_; }
  // The policy modules (set once at start-up, before any listener).
  const modules::ModuleHost& modules() const { return *modules_; }
  void setModules(modules::ModuleHost* host) { modules_ = host; }
  // Admin actions (the XEP-0050 commands): run on the admin thread (set once at start-up; null
  // in tests that build no admin side, and then the commands answer service-unavailable).
  admin::ModuleControl* moduleControl() { return module_control_; }
  admin::AdminWorker* adminWorker() { return admin_worker_; }
  void setAdmin(admin::ModuleControl* control, admin::AdminWorker* worker) {
    module_control_ = control;
    admin_worker_ = worker;
  }
  auth::AuthThrottle& throttle() { return throttle_; }
  Router& router() { return *router_; }
  void setRouter(Router* router) { router_ = router; }

  // The configuration in force; a reload swaps it (sessions keep the one they started with for
  // their own limits).
  std::shared_ptr<const config::Config> config() const;
  void setConfig(std::shared_ptr<const config::Config> config);

  bool isLocalDomain(std::string_view domain) const;

  // Set once compliance events can no longer be made durable (the spool failed): from then
  // on no client stanza is accepted, since none could be recorded.
  void setRecordingFailed() { recording_failed_.store(true, std::memory_order_release); }
  bool recordingFailed() const { return recording_failed_.load(std::memory_order_acquire); }
  std::chrono::steady_clock::time_point startedAt() const { return started_; }

 private:
  boost::asio::io_context& io_;
  storage::DbPool& db_;
  mutable std::mutex config_mutex_;
  std::shared_ptr<const config::Config> config_;
  SessionRegistry registry_;
  ComponentLinks components_;
  storage::LastActivityWriter last_activity_{db_, io_};
  OfflineIndex offline_index_;
  // About 200 bytes per entry: 50,000 recent accounts cost some 10 MB.
  LoginCache login_cache_{50000};
  BlocklistCache blocklists_;
  // A few hundred bytes per entry (more for long always/never lists).
  ArchivePrefsCache archive_prefs_{100000};
  ArchiveWrites archive_writes_;
  ArchiveWriter archive_writer_{db_, io_};
  modules::ModuleHost* modules_ = nullptr;
  admin::ModuleControl* module_control_ = nullptr;
  admin::AdminWorker* admin_worker_ = nullptr;
  auth::AuthThrottle throttle_;
  Router* router_ = nullptr;
  std::atomic<bool> recording_failed_{false};
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace parley::router
