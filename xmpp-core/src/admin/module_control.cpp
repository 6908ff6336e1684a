#include "admin/module_control.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <set>

#include "events/event_time.hpp"
#include "util/log.hpp"

namespace parley::admin {

namespace {

const config::ModuleSettings* findSettings(const config::Config& cfg, const std::string& name) {
  for (const auto& s : cfg.modules.list) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::string stateWord(bool enabled) { return enabled ? "enabled" : "disabled"; }

void checkName(const std::string& name) {
  if (!isValidModuleName(name)) {
    throw ActionError("'" + name +
                      "' is not a module name (letters, digits, '_' and '-'; see "
                      "parleyctl module list)");
  }
}

}  // namespace

ModuleControl::ModuleControl(modules::ModuleHost& host, EventSink& events,
                             std::shared_ptr<const config::Config> initial, Installer install)
    : host_(host), events_(events), install_(std::move(install)), base_(std::move(initial)) {}

std::vector<std::string> ModuleControl::start() {
  std::lock_guard lock(mutex_);
  overrides_ = loadOverrides(base_->admin.overrides_file);
  for (const auto& [name, o] : overrides_) {
    log::info("module ", name, " ", stateWord(o.enabled), " by ", o.by, " at ", o.at, " (kept in ",
              base_->admin.overrides_file, ")");
  }
  return applyLocked(*base_, overrides_);
}

std::vector<std::string> ModuleControl::applyLocked(const config::Config& base,
                                                    const ModuleOverrides& overrides) {
  return host_.apply(withOverrides(base, overrides));
}

std::shared_ptr<const config::Config> ModuleControl::config() const {
  std::lock_guard lock(mutex_);
  return base_;
}

void ModuleControl::record(const Actor& actor, const std::string& target, const std::string& what,
                           const std::string& old_state, const std::string& new_state,
                           const std::string& error) {
  ComplianceEvent event;
  event.module = "core";
  event.clause = "administration";
  event.kind = "admin.module." + what;
  event.action = EventAction::Admin;
  event.severity = error.empty() ? Severity::Info : Severity::Low;
  event.actor = actor.who;
  event.target = target;
  boost::json::object detail{{"via", actor.via}, {"module", target}};
  if (!old_state.empty()) detail["old"] = old_state;
  if (!new_state.empty()) detail["new"] = new_state;
  if (!error.empty()) detail["refused"] = error;
  event.detail_json = boost::json::serialize(detail);
  events_.emit(std::move(event));
}

void ModuleControl::recordAccess(const Actor& actor, const std::string& what,
                                 const std::string& filters) {
  ComplianceEvent event;
  event.module = "core";
  event.clause = "administration";
  event.kind = "admin." + what + ".viewed";
  event.action = EventAction::Admin;
  event.severity = Severity::Info;
  event.actor = actor.who;
  event.detail_json =
      boost::json::serialize(boost::json::object{{"via", actor.via}, {"filters", filters}});
  events_.emit(std::move(event));
}

std::vector<std::string> ModuleControl::reload(const Actor& actor) {
  std::lock_guard lock(mutex_);
  const std::string path = base_->path;
  std::vector<std::string> changes;
  try {
    auto fresh = std::make_shared<const config::Config>(config::loadConfig(path));
    std::function<void()> commit = install_ ? install_(fresh) : std::function<void()>();
    // Modules last before the swap: a module that refuses its configuration leaves the
    // certificate and limits untouched too.
    changes = applyLocked(*fresh, overrides_);
    if (commit) commit();
    base_ = fresh;
  } catch (const std::exception& e) {
    record(actor, "*", "reload", "", "", e.what());
    throw ActionError(std::string("the configuration was not applied, the running one stays: ") +
                      e.what());
  }
  for (const auto& change : changes) {
    const auto colon = change.find(':');
    const std::string name = change.substr(0, colon);
    const std::string what = colon == std::string::npos ? change : change.substr(colon + 2);
    std::string old_state = what == "enabled" ? "disabled" : "enabled";
    std::string new_state = what == "reconfigured" ? "enabled (new settings)" : what;
    record(actor, name, "reload", old_state, new_state);
  }
  if (changes.empty()) record(actor, "*", "reload", "", "no module changed");
  return changes;
}

std::string ModuleControl::reloadModule(const std::string& name, const Actor& actor) {
  checkName(name);
  std::lock_guard lock(mutex_);
  try {
    config::Config fresh = config::loadConfig(base_->path);
    config::Config merged = *base_;
    auto& list = merged.modules.list;
    list.erase(std::remove_if(list.begin(), list.end(),
                              [&](const config::ModuleSettings& s) { return s.name == name; }),
               list.end());
    if (const auto* settings = findSettings(fresh, name)) list.push_back(*settings);
    const bool was_running = statusLocked(name).running;
    applyLocked(merged, overrides_);
    base_ = std::make_shared<const config::Config>(std::move(merged));
    const bool running = statusLocked(name).running;
    std::string result = name + ": " +
                         (running ? (was_running ? "reloaded" : "enabled") : "not running") +
                         " with the settings now in " + base_->path;
    record(actor, name, "reload", stateWord(was_running), stateWord(running));
    return result;
  } catch (const ActionError&) {
    throw;
  } catch (const std::exception& e) {
    record(actor, name, "reload", "", "", e.what());
    throw ActionError(name + " was not reloaded, the running set stays: " + e.what());
  }
}

std::string ModuleControl::setEnabled(const std::string& name, bool enabled, const Actor& actor) {
  checkName(name);
  std::lock_guard lock(mutex_);
  const bool was_running = statusLocked(name).running;
  if (was_running == enabled) return name + " is already " + stateWord(enabled);
  if (enabled) {
    auto installed = installedLocked();
    if (!findSettings(*base_, name) &&
        std::find(installed.begin(), installed.end(), name) == installed.end()) {
      std::string error = "no module named " + name + " is configured or installed";
      record(actor, name, stateWord(enabled), stateWord(was_running), "", error);
      throw ActionError(error + " (see parleyctl module list)");
    }
  }
  ModuleOverrides next = overrides_;
  ModuleOverride o;
  o.enabled = enabled;
  o.by = actor.who + " via " + actor.via;
  o.at = events::isoTimestamp(std::chrono::system_clock::now());
  next[name] = o;
  try {
    applyLocked(*base_, next);
  } catch (const std::exception& e) {
    record(actor, name, stateWord(enabled), stateWord(was_running), "", e.what());
    throw ActionError(name + " was not " + stateWord(enabled) + ", nothing changed: " + e.what());
  }
  try {
    saveOverrides(base_->admin.overrides_file, next);
  } catch (const std::exception& e) {
    // Not durable means not done: put the running set back as it was.
    applyLocked(*base_, overrides_);
    record(actor, name, stateWord(enabled), stateWord(was_running), "", e.what());
    throw ActionError(name + " was not " + stateWord(enabled) +
                      " because the change could not be saved: " + e.what());
  }
  overrides_ = std::move(next);
  record(actor, name, stateWord(enabled), stateWord(was_running), stateWord(enabled));
  log::info("module ", name, ": ", stateWord(enabled), " by ", o.by);
  return name + ": " + stateWord(enabled);
}

std::vector<std::string> ModuleControl::installedLocked() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(host_.moduleDir(*base_), ec)) {
    const auto& p = entry.path();
    if (p.extension() == ".so" && isValidModuleName(p.stem().string())) {
      out.push_back(p.stem().string());
    }
  }
  return out;
}

ModuleStatus ModuleControl::statusLocked(const std::string& name) const {
  ModuleStatus status;
  status.name = name;
  const auto* settings = findSettings(*base_, name);
  status.configured = settings ? stateWord(settings->enabled) : "not listed";
  if (auto it = overrides_.find(name); it != overrides_.end()) status.override_state = it->second;
  for (auto& info : host_.active()) {
    if (info.name == name) {
      status.running = true;
      status.details = std::move(info);
    }
  }
  return status;
}

std::vector<ModuleStatus> ModuleControl::list() const {
  std::lock_guard lock(mutex_);
  std::set<std::string> names;
  for (const auto& s : base_->modules.list) names.insert(s.name);
  for (const auto& [name, o] : overrides_) names.insert(name);
  for (const auto& info : host_.active()) names.insert(info.name);
  for (auto& name : installedLocked()) names.insert(std::move(name));
  std::vector<ModuleStatus> out;
  for (const auto& name : names) out.push_back(statusLocked(name));
  return out;
}

ModuleStatus ModuleControl::show(const std::string& name) const {
  checkName(name);
  std::lock_guard lock(mutex_);
  ModuleStatus status = statusLocked(name);
  auto installed = installedLocked();
  if (!status.running && status.configured == "not listed" && !status.override_state &&
      std::find(installed.begin(), installed.end(), name) == installed.end()) {
    throw ActionError("no module named " + name + " (see parleyctl module list)");
  }
  return status;
}

}  // namespace parley::admin
