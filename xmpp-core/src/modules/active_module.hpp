#pragma once
// One configured, attached module instance and everything it registered: the Host a module
// talks to. Member order is destruction order in reverse: hooks go first, then the instance,
// then (via the library's last reference) the code they point into.
#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <pqxx/pqxx>

#include "config/config.hpp"
#include "modules/module_library.hpp"
#include "parley/host.hpp"
#include "parley/module.hpp"

namespace parley::modules {

using GroupMap = std::map<std::string, std::set<std::string>>;

// Runs a job on a database thread of the core's pool; false when its queue is full.
using DbPost = std::function<bool(std::function<void(pqxx::connection&)>)>;

// What the module host lends every module: the thread timers and query results run on, and
// the database.
struct ModuleServices {
  boost::asio::io_context& jobs;
  DbPost db;  // empty: no database (unit tests); queries then fail with a message
};

// One Host::every registration, armed on the jobs thread once its module is live.
struct ModuleTimer {
  std::chrono::milliseconds period;
  TimerJob job;
  std::unique_ptr<boost::asio::steady_timer> timer;  // touched on the jobs thread only
  std::atomic<bool> stopped{false};
};

struct ActiveModule final : Host, std::enable_shared_from_this<ActiveModule> {
  ActiveModule(std::shared_ptr<ModuleLibrary> lib, config::ModuleSettings settings_,
               EventSink& events_, std::function<void(xml::Element)>& send_,
               std::shared_ptr<const GroupMap> groups_, ModuleServices& services_);
  // Namespaces the core serves itself, which no module may take over.
  static void setReservedNamespaces(std::set<std::string> namespaces);
  ~ActiveModule() override;

  // Host
  void onStanza(HookPoint point, StanzaHook hook) override;
  void onSession(HookPoint point, SessionHook hook) override;
  void onDiscoInfo(DiscoHook hook) override;
  void onDecided(DecidedHook hook) override;
  void onLogin(LoginHook hook) override;
  void onStreamFeatures(FeaturesHook hook) override;
  void onIq(std::string ns, IqHook hook) override;
  void onServerMessage(ServerMessageHook hook) override;
  void emit(ComplianceEvent event) override;
  void sendFromServer(xml::Element stanza) override;
  bool isMember(const Jid& user, std::string_view group) const override;
  void log(LogLevel level, std::string_view message) override;
  void every(std::chrono::milliseconds period, TimerJob job) override;
  void query(std::string sql, std::vector<std::optional<std::string>> params, DbDone done) override;

  // Timers start once the module's snapshot is live and stop when it is replaced.
  void startTimers();
  void stopTimers();
  // A timer job or query callback failed: counted, logged, recorded.
  // `about` fills in whom the event concerns (actor, target, stanza id), when known.
  void recordFailure(const std::string& where, const std::string& what, ComplianceEvent about = {});

  std::shared_ptr<ModuleLibrary> library;
  config::ModuleSettings settings;
  std::string name;
  std::string clause;
  int priority = 0;
  EventSink& events;
  std::function<void(xml::Element)>& send;
  std::shared_ptr<const GroupMap> groups;
  std::unique_ptr<Module> instance;
  bool attaching = true;  // registration is allowed only inside attach()
  std::vector<std::pair<HookPoint, StanzaHook>> stanza_hooks;
  std::vector<std::pair<HookPoint, SessionHook>> session_hooks;
  std::vector<DiscoHook> disco_hooks;
  std::vector<DecidedHook> decided_hooks;
  std::vector<LoginHook> login_hooks;
  std::vector<FeaturesHook> features_hooks;
  std::vector<std::pair<std::string, IqHook>> iq_hooks;
  std::vector<ServerMessageHook> server_message_hooks;
  ModuleServices& services;
  std::vector<std::shared_ptr<ModuleTimer>> timers;
  mutable std::atomic<uint64_t> calls{0};
  mutable std::atomic<uint64_t> failures{0};
};

}  // namespace parley::modules
