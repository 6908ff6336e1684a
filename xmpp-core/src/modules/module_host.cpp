#include "modules/module_host.hpp"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cstdint>
#include <mutex>
#include <set>

#include "modules/active_module.hpp"
#include "modules/module_library.hpp"
#include "util/log.hpp"

namespace parley::modules {

namespace {

constexpr size_t kPoints = static_cast<size_t>(HookPoint::kCount);
std::mutex apply_mutex;  // one apply() at a time (SIGHUP and the admin socket may race)

template <class Hook>
struct Entry {
  ActiveModule* module;
  const Hook* hook;
};

template <class Hook>
void sortByPriority(std::vector<Entry<Hook>>& entries) {
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    if (a.module->priority != b.module->priority) return a.module->priority < b.module->priority;
    return a.module->name < b.module->name;
  });
}

ComplianceEvent eventAbout(const Stanza& stanza) {
  ComplianceEvent e;
  e.actor = stanza.from.full();
  e.target = stanza.to.full();
  e.stanza_id = std::string(stanza.id());
  return e;
}

// Fail closed: a hook that throws or runs over its budget gets its module's on_error verdict,
// is counted, and is recorded (`about` says whom the failure event concerns).
template <class Call>
Verdict callGuarded(ActiveModule& m, HookPoint point, ComplianceEvent about, Call&& call) {
  m.calls.fetch_add(1, std::memory_order_relaxed);
  std::string failure;
  Verdict verdict;
  const auto start = std::chrono::steady_clock::now();
  try {
    verdict = call();
  } catch (const std::exception& e) {
    failure = std::string("threw: ") + e.what();
  } catch (...) {
    failure = "threw a non-standard exception";
  }
  const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  if (failure.empty() && elapsed > m.settings.budget) {
    failure = "took " + std::to_string(elapsed.count()) + " µs, over its budget of " +
              std::to_string(m.settings.budget.count()) + " µs";
  }
  if (failure.empty()) return verdict;

  m.failures.fetch_add(1, std::memory_order_relaxed);
  log::warn("module ", m.name, " at ", hookPointName(point), " ", failure,
            "; applying on_error=", m.settings.on_error);
  about.kind = m.name + ".failure";
  about.action = EventAction::Error;
  about.severity = Severity::High;
  about.detail_json =
      boost::json::serialize(boost::json::object{{"hook", std::string(hookPointName(point))},
                                                 {"error", failure},
                                                 {"on_error", m.settings.on_error}});
  m.emit(std::move(about));
  if (m.settings.on_error == "pass") return Verdict::pass();
  return Verdict::reject(
      "the check could not be completed, so this was not sent. Please try again later; if it "
      "keeps happening, tell your administrator.",
      "policy-violation");
}

// monitor_only: a module whose rule is being rolled out records what it would have done
// (action would_block) and changes nothing. True when that is what happened; `about` describes
// the stanza or login when the module gave no event of its own (built only then).
template <class About>
bool recordedAsWouldBlock(ActiveModule& m, Verdict& v, About&& about) {
  if (!m.settings.monitor_only || !v.stops()) return false;
  ComplianceEvent e = v.event ? std::move(*v.event) : about();
  if (e.kind.empty()) e.kind = m.name + ".would_block";
  e.action = EventAction::WouldBlock;
  m.emit(std::move(e));
  return true;
}

Verdict callStanzaHook(ActiveModule& m, const StanzaHook& hook, HookPoint point, Stanza& stanza) {
  return callGuarded(m, point, eventAbout(stanza), [&]() { return hook(stanza); });
}

// Hooks that observe or edit but return no verdict (session, disco, decided, features): there
// is nothing to fall back on, so a failure is counted, logged and recorded, and the others run.
template <class Hook, class Call>
void observeAll(const std::vector<Entry<Hook>>& entries, HookPoint point,
                const ComplianceEvent& about, Call&& call) {
  for (const auto& entry : entries) {
    entry.module->calls.fetch_add(1, std::memory_order_relaxed);
    try {
      call(*entry.hook);
    } catch (const std::exception& e) {
      entry.module->recordFailure(std::string(hookPointName(point)), e.what(), about);
    }
  }
}

// The settings as written, to tell a changed module from one merely re-applied.
std::string fingerprint(const config::ModuleSettings& s) {
  YAML::Emitter out;
  out << s.options;
  return std::to_string(s.monitor_only) + "|" + std::to_string(s.priority.value_or(INT32_MIN)) +
         "|" + s.on_error + "|" + std::to_string(s.budget.count()) + "|" + out.c_str();
}

}  // namespace

struct ModuleHost::Snapshot {
  std::vector<std::shared_ptr<ActiveModule>> modules;
  std::array<std::vector<Entry<StanzaHook>>, kPoints> stanza;
  std::array<std::vector<Entry<SessionHook>>, kPoints> session;
  std::vector<Entry<DiscoHook>> disco;
  std::vector<Entry<DecidedHook>> decided;
  std::vector<Entry<LoginHook>> login;
  std::vector<Entry<FeaturesHook>> features;
  std::map<std::string, Entry<IqHook>, std::less<>> iq;  // namespace → its module's handler
  std::vector<Entry<ServerMessageHook>> server_message;
};

ModuleHost::ModuleHost(EventSink& events, SendFn send, std::string default_dir, DbPost db)
    : events_(events),
      send_(std::move(send)),
      services_{jobs_, std::move(db)},
      jobs_thread_([this]() { jobs_.run(); }),
      default_dir_(std::move(default_dir)),
      snapshot_(std::make_shared<const Snapshot>()) {}

ModuleHost::~ModuleHost() {
  for (const auto& m : snapshot()->modules) m->stopTimers();
  std::atomic_store(&snapshot_, std::shared_ptr<const Snapshot>());
  // Cancelled timers and finished queries drain; then the thread ends.
  jobs_guard_.reset();
  jobs_thread_.join();
}

std::shared_ptr<const ModuleHost::Snapshot> ModuleHost::snapshot() const {
  return std::atomic_load(&snapshot_);
}

std::vector<std::string> ModuleHost::apply(const config::Config& cfg) {
  std::lock_guard lock(apply_mutex);
  auto groups = std::make_shared<GroupMap>();
  for (const auto& [group, members] : cfg.groups) {
    (*groups)[group].insert(members.begin(), members.end());
  }
  const std::string dir = moduleDir(cfg);
  auto next = std::make_shared<Snapshot>();
  for (const auto& settings : cfg.modules.list) {
    if (!settings.enabled) continue;
    const std::string key = "modules." + settings.name;
    const std::string path = dir + "/" + settings.name + ".so";
    std::shared_ptr<ModuleLibrary> library;
    if (auto it = libraries_.find(path); it != libraries_.end()) library = it->second.lock();
    if (!library) {
      try {
        library = ModuleLibrary::open(path, settings.name);
      } catch (const ModuleLoadError& e) {
        std::string where = settings.line > 0 ? "" : " (enabled at run time; not in the file)";
        throw config::ConfigError(cfg.path, settings.line, key, e.what() + where);
      }
      libraries_[path] = library;
    }
    auto active =
        std::make_shared<ActiveModule>(library, settings, events_, send_, groups, services_);
    active->instance.reset(library->descriptor().create());
    try {
      active->instance->configure(settings.options);
    } catch (const parley::ConfigError& e) {
      int line = settings.line;
      const YAML::Node node = settings.options[e.key];
      if (!e.key.empty() && node.IsDefined() && node.Mark().line >= 0) line = node.Mark().line + 1;
      throw config::ConfigError(cfg.path, line, e.key.empty() ? key : key + "." + e.key, e.what());
    } catch (const std::exception& e) {
      throw config::ConfigError(cfg.path, settings.line, key, e.what());
    }
    try {
      active->instance->attach(*active);
    } catch (const std::exception& e) {
      throw config::ConfigError(cfg.path, settings.line, key,
                                std::string("the module could not start: ") + e.what());
    }
    active->attaching = false;
    next->modules.push_back(std::move(active));
  }
  for (const auto& m : next->modules) {
    for (const auto& [point, hook] : m->stanza_hooks) {
      next->stanza[static_cast<size_t>(point)].push_back({m.get(), &hook});
    }
    for (const auto& [point, hook] : m->session_hooks) {
      next->session[static_cast<size_t>(point)].push_back({m.get(), &hook});
    }
    for (const auto& hook : m->disco_hooks) next->disco.push_back({m.get(), &hook});
    for (const auto& hook : m->decided_hooks) next->decided.push_back({m.get(), &hook});
    for (const auto& hook : m->login_hooks) next->login.push_back({m.get(), &hook});
    for (const auto& hook : m->features_hooks) next->features.push_back({m.get(), &hook});
    for (const auto& hook : m->server_message_hooks) {
      next->server_message.push_back({m.get(), &hook});
    }
    for (const auto& [ns, hook] : m->iq_hooks) {
      auto [it, added] = next->iq.emplace(ns, Entry<IqHook>{m.get(), &hook});
      if (!added) {
        const auto* settings = &m->settings;
        throw config::ConfigError(cfg.path, settings->line, "modules." + m->name,
                                  "module " + it->second.module->name + " already answers " + ns +
                                      "; two modules cannot own one namespace");
      }
    }
  }
  for (auto& entries : next->stanza) sortByPriority(entries);
  for (auto& entries : next->session) sortByPriority(entries);
  sortByPriority(next->disco);
  sortByPriority(next->decided);
  sortByPriority(next->login);
  sortByPriority(next->features);
  sortByPriority(next->server_message);

  // What changed, for the log and the admin event.
  auto previous = snapshot();
  std::vector<std::string> changes;
  std::map<std::string, std::string> before, after;  // name → settings as written
  for (const auto& m : previous->modules) before[m->name] = fingerprint(m->settings);
  for (const auto& m : next->modules) after[m->name] = fingerprint(m->settings);
  for (const auto& [name, settings] : after) {
    auto it = before.find(name);
    if (it == before.end()) {
      changes.push_back(name + ": enabled");
    } else if (it->second != settings) {
      changes.push_back(name + ": reconfigured");
    }
  }
  for (const auto& [name, settings] : before) {
    if (!after.count(name)) changes.push_back(name + ": disabled");
  }
  // Timers follow the swap: the new instances' start, the replaced ones' stop.
  for (const auto& m : next->modules) m->startTimers();
  for (const auto& m : previous->modules) m->stopTimers();
  std::atomic_store(&snapshot_, std::shared_ptr<const Snapshot>(std::move(next)));
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return changes;
}

Verdict ModuleHost::runStanza(HookPoint point, Stanza& stanza) const {
  auto snap = snapshot();
  Verdict result;
  for (const auto& entry : snap->stanza[static_cast<size_t>(point)]) {
    ActiveModule& m = *entry.module;
    Verdict v = callStanzaHook(m, *entry.hook, point, stanza);
    if (recordedAsWouldBlock(m, v, [&]() { return eventAbout(stanza); })) continue;
    if (v.event) m.emit(std::move(*v.event));
    v.event.reset();
    if (v.kind == Verdict::Kind::Reject) {
      if (v.condition.empty()) v.condition = "policy-violation";
      v.text = "Blocked by the IM policy (" + m.clause + "): " + v.text;
      return v;
    }
    if (v.kind == Verdict::Kind::Drop) return v;
    if (v.kind == Verdict::Kind::Modify) result.kind = Verdict::Kind::Modify;
  }
  return result;
}

void ModuleHost::runSession(HookPoint point, const Jid& full) const {
  auto snap = snapshot();
  observeAll(snap->session[static_cast<size_t>(point)], point, {},
             [&](const SessionHook& hook) { hook(full); });
}

void ModuleHost::runDiscoInfo(const Jid& entity, std::vector<std::string>& features) const {
  auto snap = snapshot();
  observeAll(snap->disco, HookPoint::DiscoInfo, {},
             [&](const DiscoHook& hook) { hook(entity, features); });
}

void ModuleHost::runDecided(const Stanza& stanza, const Verdict& verdict) const {
  auto snap = snapshot();
  observeAll(snap->decided, HookPoint::Decided, eventAbout(stanza),
             [&](const DecidedHook& hook) { hook(stanza, verdict); });
}

void ModuleHost::runStreamFeatures(const Jid& account, xml::Element& features) const {
  auto snap = snapshot();
  observeAll(snap->features, HookPoint::StreamFeatures, {},
             [&](const FeaturesHook& hook) { hook(account, features); });
}

Verdict ModuleHost::runLogin(const Jid& account, const LoginInfo& info) const {
  auto snap = snapshot();
  for (const auto& entry : snap->login) {
    ActiveModule& m = *entry.module;
    ComplianceEvent about;
    about.actor = account.full();
    about.session = "c2s " + info.ip;
    Verdict v = callGuarded(m, HookPoint::SaslAuthenticated, about,
                            [&]() { return (*entry.hook)(account, info); });
    if (recordedAsWouldBlock(m, v, [&]() { return about; })) continue;
    if (v.event) m.emit(std::move(*v.event));
    v.event.reset();
    if (v.stops()) {
      v.kind = Verdict::Kind::Reject;  // a login cannot be dropped silently
      v.text = "Blocked by the IM policy (" + m.clause + "): " + v.text;
      return v;
    }
  }
  return Verdict::pass();
}

std::optional<Verdict> ModuleHost::runIq(const Stanza& iq, xml::Element& reply) const {
  const xml::Element* payload = iq.element.firstChildElement();
  if (!payload) return std::nullopt;
  auto snap = snapshot();
  auto it = snap->iq.find(payload->ns());
  if (it == snap->iq.end()) return std::nullopt;
  ActiveModule& m = *it->second.module;
  const IqHook& hook = *it->second.hook;
  Verdict v =
      callGuarded(m, HookPoint::IqNamespace, eventAbout(iq), [&]() { return hook(iq, reply); });
  if (v.event) m.emit(std::move(*v.event));
  v.event.reset();
  return v;
}

std::optional<Verdict> ModuleHost::runServerMessage(const Stanza& message) const {
  auto snap = snapshot();
  for (const auto& entry : snap->server_message) {
    ActiveModule& m = *entry.module;
    const ServerMessageHook& hook = *entry.hook;
    Verdict v = callGuarded(m, HookPoint::ServerMessage, eventAbout(message),
                            [&]() { return hook(message); });
    if (v.event) m.emit(std::move(*v.event));
    v.event.reset();
    if (v.stops()) return v;  // taken (drop) or answered with an error (reject)
  }
  return std::nullopt;
}

bool ModuleHost::hasHooks(HookPoint point) const {
  auto snap = snapshot();
  if (point == HookPoint::Decided) return !snap->decided.empty();
  if (point == HookPoint::SaslAuthenticated) return !snap->login.empty();
  if (point == HookPoint::StreamFeatures) return !snap->features.empty();
  if (point == HookPoint::IqNamespace) return !snap->iq.empty();
  if (point == HookPoint::ServerMessage) return !snap->server_message.empty();
  return !snap->stanza[static_cast<size_t>(point)].empty();
}

std::vector<ModuleHost::Info> ModuleHost::active() const {
  std::vector<Info> out;
  for (const auto& m : snapshot()->modules) {
    Info i;
    i.name = m->name;
    i.clause = m->clause;
    i.path = m->library->path();
    i.monitor_only = m->settings.monitor_only;
    i.priority = m->priority;
    i.on_error = m->settings.on_error;
    i.calls = m->calls.load();
    i.failures = m->failures.load();
    out.push_back(std::move(i));
  }
  return out;
}

}  // namespace parley::modules
