// XEP-0050 Ad-Hoc Commands for the server's administrators (server.admins), so that an admin
// can manage the policy modules from their usual client (Gajim: "Execute Command" on the
// server): list the modules, enable or disable one, show recent compliance events. They run
// the same actions as parleyctl module ..., on the admin thread, and are recorded the same
// way, under the admin's JID.

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>

#include "events/event_codec.hpp"
#include "events/event_store.hpp"
#include "events/event_time.hpp"
#include "events/uuid.hpp"
#include "router/stanza_errors.hpp"
#include "xep/data_form.hpp"
#include "xep/services.hpp"

namespace parley::xep {
namespace {

using router::IqRequest;
using router::Task;
using FormValues = std::map<std::string, std::vector<std::string>>;

constexpr std::string_view kCommandsNs = "http://jabber.org/protocol/commands";
constexpr auto kSessionLifetime = std::chrono::minutes(10);
constexpr size_t kMaxSessions = 256;  // open multi-stage sessions, all admins together
constexpr int kMaxEvents = 200;

// What one stage of a command answers: a form to fill in (the command goes on) or the result.
struct Stage {
  bool completed = true;
  std::optional<xml::Element> form;
  std::vector<std::pair<std::string, std::string>> notes;  // type (info|warn|error), text
};

// A submitted form the command cannot use; answered with <bad-request/><bad-payload/>.
struct BadPayload : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Command {
  std::string node;
  std::string name;
  std::function<Task<Stage>(IqRequest&)> begin;
  std::function<Task<Stage>(IqRequest&, const FormValues&)> submit;  // null: one stage
};

// Open multi-stage executions: which admin (full JID) started which command, and when.
class CommandSessions {
 public:
  enum class State { Open, Unknown, Expired };

  std::string open(const std::string& node, const std::string& owner) {
    std::lock_guard lock(mutex_);
    prune();
    if (sessions_.size() >= kMaxSessions) sessions_.erase(sessions_.begin());
    std::string id = events::randomUuid();
    sessions_[id] = {node, owner, std::chrono::steady_clock::now()};
    return id;
  }
  State check(const std::string& id, const std::string& node, const std::string& owner) {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(id);
    if (it == sessions_.end() || it->second.node != node || it->second.owner != owner) {
      return State::Unknown;
    }
    if (std::chrono::steady_clock::now() - it->second.started > kSessionLifetime) {
      sessions_.erase(it);
      return State::Expired;
    }
    return State::Open;
  }
  void close(const std::string& id) {
    std::lock_guard lock(mutex_);
    sessions_.erase(id);
  }

 private:
  struct Entry {
    std::string node, owner;
    std::chrono::steady_clock::time_point started;
  };
  void prune() {
    // Expired entries are reported as such when used; this only keeps the map small.
    auto now = std::chrono::steady_clock::now();
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      it = now - it->second.started > 2 * kSessionLifetime ? sessions_.erase(it) : std::next(it);
    }
  }
  std::mutex mutex_;
  std::map<std::string, Entry> sessions_;
};

bool isAdmin(const IqRequest& req) {
  const auto cfg = req.ctx.config();
  const std::string bare = req.stanza.from.bareString();
  return std::find(cfg->server.admins.begin(), cfg->server.admins.end(), bare) !=
         cfg->server.admins.end();
}

admin::Actor actorOf(const IqRequest& req) {
  return admin::Actor{req.stanza.from.full(), "ad-hoc command"};
}

xml::Element commandError(const IqRequest& req, std::string_view condition,
                          std::string_view specific, std::string_view text) {
  xml::Element reply = router::makeStanzaError(req.stanza.element, condition, text);
  xml::Element* error = reply.child("error", reply.ns());
  if (error && !specific.empty()) {
    error->addChild(std::string(kCommandsNs), std::string(specific));
  }
  return reply;
}

xml::Element commandReply(const IqRequest& req, const std::string& node, const std::string& session,
                          std::string_view status, Stage stage) {
  xml::Element reply = router::makeResult(req.stanza);
  auto& command = reply.addChild(std::string(kCommandsNs), "command");
  command.setAttr("node", node);
  command.setAttr("sessionid", session);
  command.setAttr("status", std::string(status));
  if (status == "executing") {
    auto& actions = command.addChild(std::string(kCommandsNs), "actions");
    actions.setAttr("execute", "complete");
    actions.addChild(std::string(kCommandsNs), "complete");
  }
  for (const auto& [type, text] : stage.notes) {
    command.addChild(std::string(kCommandsNs), "note").setAttr("type", type).addText(text);
  }
  if (stage.form) command.addChild(std::move(*stage.form));
  return reply;
}

std::string stateOf(const admin::ModuleStatus& m) {
  if (!m.running) return "off";
  return m.details && m.details->monitor_only ? "running (monitor only)" : "running";
}

std::string originOf(const admin::ModuleStatus& m) {
  std::string origin = "config: " + m.configured;
  if (m.override_state) {
    origin += "; " + std::string(m.override_state->enabled ? "enabled" : "disabled") + " by " +
              m.override_state->by + " at " + m.override_state->at;
  }
  return origin;
}

Task<std::vector<admin::ModuleStatus>> moduleStatuses(IqRequest& req) {
  admin::ModuleControl* control = req.ctx.moduleControl();
  auto job = [control]() { return control->list(); };
  co_return co_await req.ctx.adminWorker()->run(std::move(job));
}

// ---- the commands ----

Task<Stage> listModules(IqRequest& req) {
  auto statuses = co_await moduleStatuses(req);
  std::vector<FormField> fields;
  size_t running = 0;
  for (const auto& m : statuses) {
    running += m.running ? 1 : 0;
    // "running · §3 Confidentiality · 12 checks, 0 failures · config: enabled"
    std::string summary = stateOf(m);
    if (m.details) {
      const auto calls = m.details->calls, failures = m.details->failures;
      summary += " · " + m.details->clause + " · " + std::to_string(calls) +
                 (calls == 1 ? " check, " : " checks, ") + std::to_string(failures) +
                 (failures == 1 ? " failure" : " failures");
    }
    summary += " · " + originOf(m);
    fields.emplace_back(m.name, "text-single", m.name, std::vector<std::string>{summary});
  }
  Stage stage;
  stage.notes.push_back({"info", std::to_string(running) + " of " +
                                     std::to_string(statuses.size()) + " modules running."});
  stage.form = makeForm("result", "Policy modules", "", fields);
  co_return stage;
}

// Enable and disable: pick one of the modules that can change that way, then apply it.
std::function<Task<Stage>(IqRequest&)> chooseModule(bool enable) {
  return [enable](IqRequest& req) -> Task<Stage> {
    auto statuses = co_await moduleStatuses(req);
    FormField field{"module", "list-single", "Module"};
    field.required = true;
    for (const auto& m : statuses) {
      if (m.running != enable) field.options.push_back({m.name, m.name + " (" + originOf(m) + ")"});
    }
    Stage stage;
    if (field.options.empty()) {
      stage.notes.push_back({"info", enable ? "Every configured or installed module is running."
                                            : "No module is running."});
      co_return stage;
    }
    stage.completed = false;
    stage.form = makeForm("form", enable ? "Enable a policy module" : "Disable a policy module",
                          std::string(enable ? "The module starts checking"
                                             : "The module stops "
                                               "checking") +
                              " at once, for every user, without disconnecting anyone. The "
                              "change is kept across restarts and recorded under your name.",
                          {field});
    co_return stage;
  };
}

std::function<Task<Stage>(IqRequest&, const FormValues&)> applyModule(bool enable) {
  return [enable](IqRequest& req, const FormValues& values) -> Task<Stage> {
    auto it = values.find("module");
    if (it == values.end() || it->second.empty() || it->second.front().empty()) {
      throw BadPayload("Choose a module.");
    }
    admin::ModuleControl* control = req.ctx.moduleControl();
    std::string name = it->second.front();
    admin::Actor actor = actorOf(req);
    auto job = [control, name, actor, enable]() -> std::pair<bool, std::string> {
      try {
        return {true, control->setEnabled(name, enable, actor)};
      } catch (const admin::ActionError& e) {
        return {false, e.what()};
      }
    };
    auto [ok, message] = co_await req.ctx.adminWorker()->run(std::move(job));
    Stage stage;
    stage.notes.push_back({ok ? "info" : "error", message});
    co_return stage;
  };
}

Task<Stage> chooseEvents(IqRequest& req) {
  auto statuses = co_await moduleStatuses(req);
  FormField module{"module", "list-single", "Module", {""}, {{"", "any"}, {"core", "core"}}};
  for (const auto& m : statuses) module.options.push_back({m.name, m.name});
  FormField action{"action", "list-single", "Action", {""}, {{"", "any"}}};
  for (const char* a :
       {"blocked", "would_block", "flagged", "redacted", "allowed", "admin", "error"}) {
    action.options.push_back({a, a});
  }
  FormField count{"count", "text-single", "How many (newest first, at most 200)", {"20"}};
  Stage stage;
  stage.completed = false;
  stage.form = makeForm("form", "Recent compliance events",
                        "Which events to show. Viewing the record is itself recorded.",
                        {module, action, count});
  co_return stage;
}

Task<Stage> showEvents(IqRequest& req, const FormValues& values) {
  auto first = [&](const char* var) {
    auto it = values.find(var);
    return it == values.end() || it->second.empty() ? std::string() : it->second.front();
  };
  events::EventQuery query;
  query.module = first("module");
  if (const std::string a = first("action"); !a.empty()) {
    query.action = events::parseAction(a);
    if (!query.action) throw BadPayload("Unknown action '" + a + "'.");
  }
  const std::string count = first("count");
  int limit = 20;
  if (!count.empty()) {
    try {
      size_t used = 0;
      limit = std::stoi(count, &used);
      if (used != count.size()) limit = 0;
    } catch (const std::exception&) {
      limit = 0;
    }
  }
  if (limit < 1 || limit > kMaxEvents) throw BadPayload("How many: a number from 1 to 200.");
  query.limit = static_cast<size_t>(limit);

  // Looking at the record is on the record too.
  admin::ModuleControl* control = req.ctx.moduleControl();
  admin::Actor actor = actorOf(req);
  std::string filters = "module=" + (query.module.empty() ? "any" : query.module) +
                        " action=" + (first("action").empty() ? "any" : first("action")) +
                        " count=" + std::to_string(limit);
  auto record = [control, actor, filters]() { control->recordAccess(actor, "events", filters); };
  co_await req.ctx.adminWorker()->run(std::move(record));

  auto job = [query](pqxx::connection& c) { return events::findEvents(c, query); };
  auto found = co_await req.ctx.db().run(std::move(job));
  // One line per event, newest first: "2026-11-29T01:02:03Z  e2ee  blocked  alice@… → bob@…
  // e2ee.omemo".
  std::vector<std::string> lines;
  for (auto it = found.rbegin(); it != found.rend(); ++it) {
    lines.push_back(events::isoTimestamp(it->at) + "  " + it->module + "  " +
                    std::string(actionName(it->action)) + "  " + it->actor + " → " +
                    (it->target.empty() ? "-" : it->target) + "  " + it->kind);
  }
  Stage stage;
  stage.notes.push_back({"info", std::to_string(found.size()) + " event(s), newest first."});
  stage.form = makeForm("result", "Recent compliance events", "",
                        {FormField("events", "text-multi", "Events", lines)});
  co_return stage;
}

std::vector<Command> makeCommands() {
  return {
      {"parley:modules:list", "List policy modules", listModules, nullptr},
      {"parley:modules:enable", "Enable a policy module", chooseModule(true), applyModule(true)},
      {"parley:modules:disable", "Disable a policy module", chooseModule(false),
       applyModule(false)},
      {"parley:events:recent", "Show recent compliance events", chooseEvents, showEvents},
  };
}

Task<xml::Element> handleCommand(IqRequest& req, const std::vector<Command>& commands,
                                 CommandSessions& sessions) {
  if (req.stanza.type() != "set") {
    co_return commandError(req, "bad-request", "", "Commands are run with an iq of type 'set'.");
  }
  if (!isAdmin(req)) {
    co_return commandError(req, "forbidden", "",
                           "Only the administrators listed in server.admins may run server "
                           "commands.");
  }
  if (!req.ctx.moduleControl() || !req.ctx.adminWorker()) {
    co_return commandError(req, "service-unavailable", "",
                           "Admin commands are not available on this server.");
  }
  const std::string node(req.payload.attrOr("node"));
  auto command = std::find_if(commands.begin(), commands.end(),
                              [&](const Command& c) { return c.node == node; });
  if (command == commands.end()) {
    co_return commandError(req, "item-not-found", "", "There is no command '" + node + "' here.");
  }
  const std::string action(req.payload.attrOr("action", "execute"));
  static const std::vector<std::string> kActions = {"execute", "complete", "next", "prev",
                                                    "cancel"};
  if (std::find(kActions.begin(), kActions.end(), action) == kActions.end()) {
    co_return commandError(req, "bad-request", "malformed-action",
                           "'" + action + "' is not an ad-hoc command action.");
  }
  std::string session(req.payload.attrOr("sessionid"));
  const std::string owner = req.stanza.from.full();
  try {
    if (session.empty()) {
      if (action != "execute") {
        co_return commandError(req, "bad-request", "bad-action",
                               "Start the command with action 'execute'.");
      }
      Stage stage = co_await command->begin(req);
      if (stage.completed || !command->submit) {
        co_return commandReply(req, node, events::randomUuid(), "completed", std::move(stage));
      }
      session = sessions.open(node, owner);
      co_return commandReply(req, node, session, "executing", std::move(stage));
    }
    switch (sessions.check(session, node, owner)) {
      case CommandSessions::State::Unknown:
        co_return commandError(req, "bad-request", "bad-sessionid",
                               "This command session is unknown or already finished; run the "
                               "command again.");
      case CommandSessions::State::Expired:
        co_return commandError(req, "not-allowed", "session-expired",
                               "This command session expired after 10 minutes; run the command "
                               "again.");
      case CommandSessions::State::Open:
        break;
    }
    if (action == "cancel") {
      sessions.close(session);
      co_return commandReply(req, node, session, "canceled", Stage{});
    }
    if (action == "prev") {
      co_return commandError(req, "bad-request", "bad-action", "This command has only one step.");
    }
    const xml::Element* form = req.payload.child("x", kDataFormsNs);
    if (!form || form->attrOr("type") != "submit") {
      co_return commandError(req, "bad-request", "bad-payload",
                             "Submit the form (type 'submit') to complete the command.");
    }
    const FormValues values = submittedValues(*form);
    Stage stage = co_await command->submit(req, values);
    sessions.close(session);
    co_return commandReply(req, node, session, "completed", std::move(stage));
  } catch (const BadPayload& e) {
    co_return commandError(req, "bad-request", "bad-payload", e.what());
  }
}

bool adminRequest(const IqRequest& req) { return req.to_server && isAdmin(req); }

}  // namespace

void registerAdhoc(router::Router& router) {
  auto commands = std::make_shared<const std::vector<Command>>(makeCommands());
  auto sessions = std::make_shared<CommandSessions>();
  router.addIqService(std::string(kCommandsNs), {[commands, sessions](IqRequest& req) {
                                                   return handleCommand(req, *commands, *sessions);
                                                 },
                                                 true, false});
  router.addServerFeature(std::string(kCommandsNs));
  // The command list: only administrators see any commands (XEP-0050 §2.2 lets a responder
  // list just the commands the requester may run).
  router::DiscoNode list;
  list.identities = {{"automation", "command-list", "Server commands"}};
  list.items = [commands](const IqRequest& req) {
    std::vector<router::DiscoItem> items;
    if (!adminRequest(req)) return items;
    for (const auto& c : *commands) items.push_back({req.target.full(), c.node, c.name});
    return items;
  };
  router.addDiscoNode(std::string(kCommandsNs), std::move(list));
  for (const auto& c : *commands) {
    router::DiscoNode node;
    node.identities = {{"automation", "command-node", c.name}};
    node.features = {std::string(kCommandsNs), std::string(kDataFormsNs)};
    node.visible = adminRequest;
    router.addDiscoNode(c.node, std::move(node));
  }
}

}  // namespace parley::xep
