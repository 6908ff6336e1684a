#include "modules/active_module.hpp"

#include <stdexcept>

#include "util/log.hpp"

namespace parley::modules {

namespace {

// The points this core dispatches today. Registering anything else fails loudly: a module
// must never believe it enforces a rule the server does not apply.
bool dispatched(HookPoint point) {
  switch (point) {
    case HookPoint::StanzaFromClient:
    case HookPoint::PreRoute:
    case HookPoint::BeforeLocalDelivery:
    case HookPoint::Decided:
    case HookPoint::SessionOpened:
    case HookPoint::SessionClosed:
    case HookPoint::DiscoInfo:
      return true;
    default:
      return false;
  }
}

}  // namespace

ActiveModule::ActiveModule(std::shared_ptr<ModuleLibrary> lib, config::ModuleSettings settings_,
                           EventSink& events_, std::function<void(xml::Element)>& send_,
                           std::shared_ptr<const GroupMap> groups_)
    : library(std::move(lib)),
      settings(std::move(settings_)),
      name(settings.name),
      clause(library->descriptor().clause),
      priority(settings.priority.value_or(library->descriptor().default_priority)),
      events(events_),
      send(send_),
      groups(std::move(groups_)) {}

ActiveModule::~ActiveModule() {
  if (!instance) return;
  try {
    instance->detach();
  } catch (const std::exception& e) {
    log::warn("module ", name, ": detach failed: ", e.what());
  }
}

void ActiveModule::onStanza(HookPoint point, StanzaHook hook) {
  if (!attaching) throw std::logic_error("hooks can only be registered in attach()");
  switch (point) {
    case HookPoint::StanzaFromClient:
    case HookPoint::StanzaFromServer:
    case HookPoint::PreRoute:
    case HookPoint::BeforeRemoteSend:
    case HookPoint::BeforeLocalDelivery:
    case HookPoint::PepPublish:
      break;
    default:
      throw std::logic_error(std::string(hookPointName(point)) + " is not a stanza hook point");
  }
  if (!dispatched(point)) {
    throw std::logic_error(std::string(hookPointName(point)) +
                           " is not dispatched by this parleyd yet");
  }
  stanza_hooks.emplace_back(point, std::move(hook));
}

void ActiveModule::onSession(HookPoint point, SessionHook hook) {
  if (!attaching) throw std::logic_error("hooks can only be registered in attach()");
  if (point != HookPoint::SessionOpened && point != HookPoint::SessionClosed) {
    throw std::logic_error(std::string(hookPointName(point)) + " is not a session hook point");
  }
  session_hooks.emplace_back(point, std::move(hook));
}

void ActiveModule::onDiscoInfo(DiscoHook hook) {
  if (!attaching) throw std::logic_error("hooks can only be registered in attach()");
  disco_hooks.push_back(std::move(hook));
}

void ActiveModule::onDecided(DecidedHook hook) {
  if (!attaching) throw std::logic_error("hooks can only be registered in attach()");
  decided_hooks.push_back(std::move(hook));
}

void ActiveModule::emit(ComplianceEvent event) {
  event.module = name;
  event.clause = clause;
  events.emit(std::move(event));
}

void ActiveModule::sendFromServer(xml::Element stanza) { send(std::move(stanza)); }

bool ActiveModule::isMember(const Jid& user, std::string_view group) const {
  auto it = groups->find(std::string(group));
  return it != groups->end() && it->second.count(user.bareString()) > 0;
}

void ActiveModule::log(LogLevel level, std::string_view message) {
  switch (level) {
    case LogLevel::Debug:
      log::debug("module ", name, ": ", message);
      break;
    case LogLevel::Info:
      log::info("module ", name, ": ", message);
      break;
    case LogLevel::Warn:
      log::warn("module ", name, ": ", message);
      break;
    case LogLevel::Error:
      log::error("module ", name, ": ", message);
      break;
  }
}

}  // namespace parley::modules
