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

#include "config/config.hpp"
#include "modules/module_library.hpp"
#include "parley/host.hpp"
#include "parley/module.hpp"

namespace parley::modules {

using GroupMap = std::map<std::string, std::set<std::string>>;

struct ActiveModule final : Host {
  ActiveModule(std::shared_ptr<ModuleLibrary> lib, config::ModuleSettings settings_,
               EventSink& events_, std::function<void(xml::Element)>& send_,
               std::shared_ptr<const GroupMap> groups_);
  ~ActiveModule() override;

  // Host
  void onStanza(HookPoint point, StanzaHook hook) override;
  void onSession(HookPoint point, SessionHook hook) override;
  void onDiscoInfo(DiscoHook hook) override;
  void onDecided(DecidedHook hook) override;
  void emit(ComplianceEvent event) override;
  void sendFromServer(xml::Element stanza) override;
  bool isMember(const Jid& user, std::string_view group) const override;
  void log(LogLevel level, std::string_view message) override;

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
  mutable std::atomic<uint64_t> calls{0};
  mutable std::atomic<uint64_t> failures{0};
};

}  // namespace parley::modules
