// parleyd: the Parley XMPP server daemon.
//
//   parleyd [--config FILE]
//
// Runs in the foreground. SIGTERM/SIGINT stop it gracefully (sessions get <system-shutdown/>);
// SIGHUP reloads the configuration and certificates, keeping the running ones on error.

#include <dlfcn.h>
#include <expat.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include "admin/admin_socket.hpp"
#include "admin/admin_worker.hpp"
#include "admin/module_control.hpp"
#include "config/config.hpp"
#include "events/pipeline.hpp"
#include "modules/module_host.hpp"
#include "net/listener.hpp"
#include "net/tls_context.hpp"
#include "router/router.hpp"
#include "storage/account_change_listener.hpp"
#include "storage/blocklist_store.hpp"
#include "storage/db_pool.hpp"
#include "storage/migrations.hpp"
#include "storage/stores.hpp"
#include "util/log.hpp"
#include "xep/services.hpp"

namespace {

namespace asio = boost::asio;
using namespace parley;

constexpr int kExitConfig = 2;
constexpr int kExitDatabase = 3;
constexpr int kExitRuntime = 1;

std::string findConfig(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) return argv[i + 1];
    if (arg.rfind("--config=", 0) == 0) return arg.substr(9);
    if (arg == "--help" || arg == "-h") {
      std::cout << "usage: parleyd [--config FILE]\n"
                   "Looks for the configuration in --config, $PARLEY_CONFIG, ./var/parley.yaml, "
                   "/etc/parley/parley.yaml.\n";
      std::exit(0);
    }
    if (arg == "--version") {
      std::cout << "parleyd " << PARLEY_VERSION << "\n";
      std::exit(0);
    }
    std::cerr << "parleyd: unknown argument '" << arg << "' (try --help)\n";
    std::exit(kExitConfig);
  }
  if (const char* env = std::getenv("PARLEY_CONFIG")) return env;
  for (const char* candidate : {"var/parley.yaml", "/etc/parley/parley.yaml"}) {
    if (std::filesystem::exists(candidate)) return candidate;
  }
  std::cerr << "parleyd: no configuration found (tried --config, $PARLEY_CONFIG, "
               "./var/parley.yaml, /etc/parley/parley.yaml)\n";
  std::exit(kExitConfig);
}

// Hides a password in a libpq conninfo before it is logged.
std::string maskConninfo(std::string conninfo) {
  auto pos = conninfo.find("password=");
  if (pos == std::string::npos) return conninfo;
  auto end = conninfo.find(' ', pos);
  conninfo.replace(pos + 9, (end == std::string::npos ? conninfo.size() : end) - pos - 9, "***");
  return conninfo;
}

class TlsHolder {
 public:
  void set(std::shared_ptr<asio::ssl::context> ctx) {
    std::lock_guard lock(mutex_);
    ctx_ = std::move(ctx);
  }
  std::shared_ptr<asio::ssl::context> get() {
    std::lock_guard lock(mutex_);
    return ctx_;
  }

 private:
  std::mutex mutex_;
  std::shared_ptr<asio::ssl::context> ctx_;
};

void applyLogging(const config::Config& c) {
  log::Level level = log::Level::Info;
  log::parseLevel(c.log.level, level);
  log::configure(level, c.log.target);
}

void writePortsFile(const std::string& path,
                    const std::vector<std::shared_ptr<net::Listener>>& listeners) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    for (const auto& l : listeners) out << l->kind() << " " << l->port() << "\n";
  }
  std::filesystem::rename(tmp, path);  // readers never see a half-written file
}

// Which malloc the process runs on: jemalloc in release builds (xmpp-core/CMakeLists.txt says
// why), the C library's or the sanitizer's otherwise. Logged because it moves CPU figures a lot.
std::string allocatorName() {
  using Mallctl = int (*)(const char*, void*, size_t*, void*, size_t);
  auto mallctl = reinterpret_cast<Mallctl>(dlsym(RTLD_DEFAULT, "mallctl"));
  if (mallctl == nullptr) return "system malloc";
  const char* version = nullptr;
  size_t length = sizeof version;
  if (mallctl("version", &version, &length, nullptr, 0) != 0 || version == nullptr) {
    return "jemalloc";
  }
  return std::string("jemalloc ") + version;
}

}  // namespace

int main(int argc, char** argv) {
  std::string path = findConfig(argc, argv);
  std::shared_ptr<const config::Config> cfg;
  try {
    cfg = std::make_shared<const config::Config>(config::loadConfig(path));
  } catch (const config::ConfigError& e) {
    std::cerr << "parleyd: configuration error: " << e.what() << "\n";
    return kExitConfig;
  }
  applyLogging(*cfg);
  log::info("parleyd ", PARLEY_VERSION, " starting with ", path, " (", XML_ExpatVersion(), ", ",
            allocatorName(), ")");

  // Schema first, on a connection of its own, so a database problem is reported before
  // anything listens.
  try {
    pqxx::connection c(cfg->database.conninfo);
    int applied = storage::migrate(c);
    if (applied > 0) log::info("applied ", applied, " schema migration(s)");
  } catch (const pqxx::broken_connection& e) {
    std::cerr << "parleyd: cannot connect to PostgreSQL (" << maskConninfo(cfg->database.conninfo)
              << "): " << e.what() << "Check database.conninfo in " << path
              << " and that the server is running.\n";
    return kExitDatabase;
  } catch (const std::exception& e) {
    std::cerr << "parleyd: database schema: " << e.what() << "\n";
    return kExitDatabase;
  }

  TlsHolder tls;
  try {
    tls.set(net::makeServerTlsContext(cfg->tls.certificate, cfg->tls.key));
  } catch (const std::exception& e) {
    std::cerr << "parleyd: " << path << ": " << e.what() << "\n";
    return kExitConfig;
  }

  std::unique_ptr<storage::DbPool> db;
  try {
    db = std::make_unique<storage::DbPool>(cfg->database.conninfo, cfg->database.pool_size,
                                           cfg->database.queue_limit);
  } catch (const std::exception& e) {
    std::cerr << "parleyd: cannot open the database pool: " << e.what() << "\n";
    return kExitDatabase;
  }

  unsigned threads = cfg->io_threads ? cfg->io_threads : std::thread::hardware_concurrency();
  if (threads == 0) threads = 1;
  asio::io_context io(static_cast<int>(threads));
  router::ServerContext ctx(io, cfg, *db);
  try {
    // Before any listener exists, so no login can ask the index before it is complete.
    pqxx::connection c(cfg->database.conninfo);
    ctx.offlineIndex().load(storage::ownersWithOffline(c));
  } catch (const std::exception& e) {
    std::cerr << "parleyd: cannot read the offline message index: " << e.what() << "\n";
    return kExitDatabase;
  }
  try {
    // Likewise: which accounts have a blocklist (XEP-0191); the others' logins read none.
    pqxx::connection c(cfg->database.conninfo);
    ctx.blocklists().markOwners(storage::ownersWithBlocklist(c));
  } catch (const std::exception& e) {
    std::cerr << "parleyd: cannot read the blocklist index: " << e.what() << "\n";
    return kExitDatabase;
  }
  // Credentials are cached only while changes to them can be heard.
  storage::AccountChangeListener account_changes(
      cfg->database.conninfo,
      [&ctx](const std::string& account) {
        // A deleted account takes its archiving preferences with it (ON DELETE CASCADE).
        if (account == "*") {
          ctx.loginCache().forgetAll();
          ctx.archivePrefs().forgetAll();
        } else {
          ctx.loginCache().forget(account);
          ctx.archivePrefs().forget(account);
        }
      },
      [&ctx](bool listening, const std::string& why) {
        ctx.loginCache().setEnabled(listening);
        if (listening) {
          log::info("listening for account changes; login cache on");
        } else if (why != "stopping") {
          log::warn("account changes cannot be heard (", why, "); login cache off");
        }
      });
  router::Router router(ctx);
  ctx.setRouter(&router);
  xep::registerCoreServices(router);
  modules::ModuleHost::reserveNamespaces(router.serviceNamespaces());

  // Compliance events: batched into PostgreSQL, spooled to disk while it is unreachable. If
  // even the spool fails, traffic is refused (new connections and every client stanza)
  // rather than going unrecorded.
  std::vector<std::shared_ptr<net::Listener>> listeners;
  std::string node = cfg->events.node;
  if (node.empty()) {
    char host[256] = {};
    node = gethostname(host, sizeof host - 1) == 0 ? host : "parleyd";
  }
  std::unique_ptr<events::Pipeline> events;
  try {
    events::PipelineOptions options;
    options.on_fatal = [&io, &listeners, &ctx](std::string why) {
      log::error("compliance events can no longer be recorded (", why,
                 "); refusing all traffic and new connections until restarted");
      ctx.setRecordingFailed();
      asio::post(io, [&listeners]() {
        for (auto& l : listeners) l->stop();
      });
    };
    events = std::make_unique<events::Pipeline>(cfg->database.conninfo, node, cfg->events.spool_dir,
                                                options);
  } catch (const std::exception& e) {
    std::cerr << "parleyd: compliance event spool: " << e.what() << "\n";
    return kExitConfig;
  }
  modules::ModuleHost module_host(
      *events, [&router](xml::Element stanza) { router.sendFromServer(std::move(stanza)); },
      PARLEY_DEFAULT_MODULE_DIR,
      [&db](std::function<void(pqxx::connection&)> job) { return db->post(std::move(job)); });
  ctx.setModules(&module_host);
  // A reload prepares the certificate first, swaps the modules, then installs the rest.
  admin::ModuleControl module_control(
      module_host, *events, cfg,
      [&tls, &ctx](std::shared_ptr<const config::Config> fresh) -> std::function<void()> {
        auto fresh_tls = net::makeServerTlsContext(fresh->tls.certificate, fresh->tls.key);
        return [&tls, &ctx, fresh, fresh_tls]() {
          tls.set(fresh_tls);
          ctx.setConfig(fresh);
          applyLogging(*fresh);
        };
      });
  try {
    for (const auto& change : module_control.start()) log::info("module ", change);
  } catch (const std::exception& e) {
    std::cerr << "parleyd: " << e.what() << "\n";
    return kExitConfig;
  }
  admin::AdminWorker admin_worker;
  ctx.setAdmin(&module_control, &admin_worker);
  std::unique_ptr<admin::AdminSocket> admin_socket;
  if (!cfg->admin.socket.empty()) {
    auto event_status = [&events]() {
      const auto m = events->metrics();
      return boost::json::object{{"database_connected", m.database_connected},
                                 {"queue_depth", m.queue_depth},
                                 {"spool_bytes", m.spool_bytes},
                                 {"rows_written", m.rows_written},
                                 {"spooled", m.spooled},
                                 {"replayed", m.replayed},
                                 {"discarded", m.discarded},
                                 {"rejected", m.rejected},
                                 {"last_batch_latency_us", m.last_batch_latency.count()}};
    };
    admin_socket = std::make_unique<admin::AdminSocket>(
        admin_worker.io(), cfg->admin.socket,
        admin::AdminServices{module_control, std::move(event_status)});
    try {
      admin_socket->start();
    } catch (const std::exception& e) {
      std::cerr << "parleyd: " << e.what() << "\n";
      return kExitConfig;
    }
    log::info("admin socket at ", cfg->admin.socket);
  }

  try {
    auto source = [&tls]() { return tls.get(); };
    using Kind = net::Listener::Kind;
    if (cfg->listen.c2s.enabled) {
      listeners.push_back(std::make_shared<net::Listener>(ctx, cfg->listen.c2s.address,
                                                          cfg->listen.c2s.port, Kind::C2s, source));
    }
    if (cfg->listen.c2s_direct_tls.enabled) {
      listeners.push_back(std::make_shared<net::Listener>(ctx, cfg->listen.c2s_direct_tls.address,
                                                          cfg->listen.c2s_direct_tls.port,
                                                          Kind::C2sDirectTls, source));
    }
    // XEP-0114: with no component listed, nothing could authenticate on the port.
    if (cfg->listen.component.enabled && !cfg->components.empty()) {
      listeners.push_back(std::make_shared<net::Listener>(
          ctx, cfg->listen.component.address, cfg->listen.component.port, Kind::Component, source));
    }
  } catch (const std::exception& e) {
    std::cerr << "parleyd: " << e.what() << "\n";
    return kExitRuntime;
  }
  for (auto& l : listeners) {
    l->start();
    log::info("listening for ", l->kind(), " on port ", l->port());
  }
  if (!cfg->listen.ports_file.empty()) writePortsFile(cfg->listen.ports_file, listeners);

  asio::steady_timer prune_timer(io);
  asio::signal_set stop_signals(io, SIGTERM, SIGINT);
  asio::signal_set hup(io, SIGHUP);
  asio::steady_timer grace(io);
  stop_signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    log::info("signal ", sig, ": stopping");
    hup.cancel();
    prune_timer.cancel();
    if (admin_socket) admin_socket->stop();
    for (auto& l : listeners) l->stop();
    for (auto& s : ctx.registry().all()) s->kick("system-shutdown", "The server is shutting down.");
    for (auto& c : ctx.components().all()) {
      c->kick("system-shutdown", "The server is shutting down.");
    }
    // Sessions flush their goodbyes and record last activity; then the loop ends.
    grace.expires_after(std::chrono::seconds(2));
    grace.async_wait([&](const boost::system::error_code&) { io.stop(); });
  });
  std::function<void()> wait_hup = [&]() {
    hup.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      log::info("SIGHUP: reloading ", path);
      // On the admin thread: reading files and loading modules must not stall an io thread.
      asio::post(admin_worker.io(), [&]() {
        try {
          // The kernel does not say which user sent the signal.
          auto changes = module_control.reload(admin::Actor{"SIGHUP", "signal"});
          for (const auto& change : changes) log::info("module ", change);
          log::info("reload done: new sessions use the new certificate and limits");
        } catch (const std::exception& e) {
          log::error("reload failed: ", e.what());
        }
      });
      wait_hup();
    });
  };
  wait_hup();

  // Login-throttle records expire; prune them so an address scan cannot grow memory forever.
  std::function<void()> schedule_prune = [&]() {
    prune_timer.expires_after(std::chrono::seconds(60));
    prune_timer.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      ctx.throttle().prune(std::chrono::steady_clock::now());
      schedule_prune();
    });
  };
  schedule_prune();

  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&io]() { io.run(); });
  io.run();
  for (auto& t : pool) t.join();
  admin_socket.reset();  // its accept loop ends on the admin thread, which then finishes
  admin_worker.stop();
  log::info("parleyd stopped");
  return 0;
}
