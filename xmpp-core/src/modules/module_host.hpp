#pragma once
// The module host: loads the modules the configuration lists, runs their hooks, and turns
// what they decide into verdicts and compliance events.
//
// A configuration is applied by building a complete new set of module instances aside
// (load, configure, attach) and swapping one immutable snapshot in; dispatch reads whichever
// snapshot is current without a lock, so a reload never pauses traffic and a failed one
// leaves the running set untouched. What a module registered is recorded per instance, so
// dropping an instance drops its hooks whether or not the module cleans up.
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <thread>

#include "config/config.hpp"
#include "modules/active_module.hpp"
#include "parley/event.hpp"
#include "parley/hooks.hpp"
#include "parley/host.hpp"

namespace parley::modules {

class ModuleLibrary;
struct ActiveModule;

class ModuleHost {
 public:
  using SendFn = std::function<void(xml::Element)>;

  // `events` and `send` outlive the host. `default_dir` is where <name>.so are looked for when
  // the configuration names no modules.dir. `db` runs modules' queries (Host::query) on the
  // core's database pool; without it their queries fail with a message.
  ModuleHost(EventSink& events, SendFn send, std::string default_dir, DbPost db = {});
  ~ModuleHost();

  // Builds the module set `config` asks for and swaps it in. Throws config::ConfigError
  // (file, line, modules.<name>[.<key>]) and keeps the running set on any problem. Returns a
  // line per change for the log and the admin event ("file_transfer: enabled", ...).
  std::vector<std::string> apply(const config::Config& config);

  // Dispatch (any thread). runStanza returns the chain's verdict: the first drop or reject,
  // its text already prefixed with the policy clause; otherwise pass (or modify if a hook
  // rewrote the stanza).
  Verdict runStanza(HookPoint point, Stanza& stanza) const;
  void runSession(HookPoint point, const Jid& full) const;
  void runDiscoInfo(const Jid& entity, std::vector<std::string>& features) const;
  // stanza.decided: observers only; a failing observer is counted and logged, never fatal.
  void runDecided(const Stanza& stanza, const Verdict& verdict) const;
  // stream.features: modules edit the features offered (failures are logged and skipped).
  void runStreamFeatures(const Jid& account, xml::Element& features) const;
  // sasl.authenticated: pass, or the first refusal (clause-prefixed) of the login.
  Verdict runLogin(const Jid& account, const LoginInfo& info) const;
  // iq.<namespace>: the verdict of the module owning the iq's payload namespace (its reply
  // payload in `reply`), or nullopt when no module owns it.
  std::optional<Verdict> runIq(const Stanza& iq, xml::Element& reply) const;
  // message.server: the first module that took the message (drop) or refused it (reject,
  // not clause-prefixed: a service's own answer), or nullopt when none took it.
  std::optional<Verdict> runServerMessage(const Stanza& message) const;
  bool hasHooks(HookPoint point) const;  // any hook registered at `point`
  // Counts the module sets swapped in: what depends on the modules' hooks (the server's caps
  // hash, from its disco.info hooks) is recomputed when it changes.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  struct Info {
    std::string name;
    std::string clause;
    std::string path;
    bool monitor_only = false;
    int priority = 0;
    std::string on_error;
    uint64_t calls = 0;
    uint64_t failures = 0;
  };
  std::vector<Info> active() const;

  // The iq namespaces the core serves itself; Host::onIq refuses them.
  static void reserveNamespaces(std::set<std::string> namespaces) {
    ActiveModule::setReservedNamespaces(std::move(namespaces));
  }

  // Where `config` says <name>.so files are.
  std::string moduleDir(const config::Config& config) const {
    return config.modules.dir.empty() ? default_dir_ : config.modules.dir;
  }

 private:
  struct Snapshot;
  std::shared_ptr<const Snapshot> snapshot() const;

  EventSink& events_;
  SendFn send_;
  // Timers and query results run here, one at a time, never on a network thread.
  boost::asio::io_context jobs_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> jobs_guard_{
      jobs_.get_executor()};
  ModuleServices services_;
  std::thread jobs_thread_;
  std::string default_dir_;
  std::shared_ptr<const Snapshot> snapshot_;  // std::atomic_load/store
  std::atomic<uint64_t> generation_{0};       // bumped after each swap of snapshot_
  // Open libraries by path. Weak: a library whose last instance is gone (module disabled, and
  // the last in-flight call finished) is closed, so enabling it again loads the file anew.
  std::map<std::string, std::weak_ptr<ModuleLibrary>> libraries_;
};

}  // namespace parley::modules
