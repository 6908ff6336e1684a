#pragma once
// Everything an administrator can do to the policy modules of a running server, whichever way
// they ask (SIGHUP, parleyctl through the admin socket, XEP-0050 commands from their XMPP
// client). Each action builds the new module set aside and swaps it in, so a refused change
// leaves the running set untouched and no session notices a change that succeeds. Every
// action, done or refused, is a compliance event saying who, what, and old → new.
//
// The functions block (they read files, dlopen modules, fsync the overrides file): call them
// from the admin thread (AdminWorker), never from an io thread.
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "admin/module_overrides.hpp"
#include "config/config.hpp"
#include "modules/module_host.hpp"
#include "parley/event.hpp"

namespace parley::admin {

// Who asked, as the record will show it.
struct Actor {
  std::string who;  // "alice@example.com", "unix user ops (uid 1000)", "SIGHUP"
  std::string via;  // "ad-hoc command", "parleyctl", "signal"
};

// A refused action; what() is written for the admin who asked.
struct ActionError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ModuleStatus {
  std::string name;
  bool running = false;
  std::string configured;  // "enabled", "disabled" or "not listed" in the configuration file
  std::optional<ModuleOverride> override_state;      // set at run time, laid over the file
  std::optional<modules::ModuleHost::Info> details;  // when running
};

class ModuleControl {
 public:
  // Prepares a freshly read configuration for everything but the modules (certificates,
  // limits, logging): throws if it cannot be used, otherwise returns what installs it, run
  // once the modules have been swapped in.
  using Installer = std::function<std::function<void()>(std::shared_ptr<const config::Config>)>;

  ModuleControl(modules::ModuleHost& host, EventSink& events,
                std::shared_ptr<const config::Config> initial, Installer install = {});

  // Start-up: reads the overrides file and applies the configuration with them. Throws
  // config::ConfigError or std::runtime_error; nothing is running yet, so start-up stops.
  std::vector<std::string> start();

  // Re-reads the configuration file and applies all of it. Returns the module changes.
  std::vector<std::string> reload(const Actor& actor);
  // Re-reads the configuration file but takes only `name`'s settings from it, and starts a
  // fresh instance of that module (its code is loaded anew if it was unloaded in between).
  std::string reloadModule(const std::string& name, const Actor& actor);
  // Switches a module on or off until changed back (kept across restarts). Returns what
  // happened in words ("file_transfer: disabled", "file_transfer is already disabled").
  std::string setEnabled(const std::string& name, bool enabled, const Actor& actor);

  // Every module that is running, configured, overridden or installed in the module directory.
  std::vector<ModuleStatus> list() const;
  ModuleStatus show(const std::string& name) const;  // ActionError when it is none of these

  std::shared_ptr<const config::Config> config() const;

  // Records that an admin looked at something (the compliance record itself, say): access to
  // the record is part of the record.
  void recordAccess(const Actor& actor, const std::string& what, const std::string& filters);

 private:
  std::vector<std::string> applyLocked(const config::Config& base,
                                       const ModuleOverrides& overrides);
  void record(const Actor& actor, const std::string& target, const std::string& what,
              const std::string& old_state, const std::string& new_state,
              const std::string& error = {});
  ModuleStatus statusLocked(const std::string& name) const;
  std::vector<std::string> installedLocked() const;

  modules::ModuleHost& host_;
  EventSink& events_;
  Installer install_;
  mutable std::mutex mutex_;
  std::shared_ptr<const config::Config> base_;  // as read from the file, without overrides
  ModuleOverrides overrides_;
};

}  // namespace parley::admin
