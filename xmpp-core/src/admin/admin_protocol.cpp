#include "admin/admin_protocol.hpp"

namespace parley::admin {

namespace {

boost::json::object failure(const std::string& message) {
  return {{"ok", false}, {"error", message}};
}

boost::json::object success(const std::string& message) {
  return {{"ok", true}, {"message", message}};
}

std::string argument(const boost::json::object& request, const char* key) {
  const auto* value = request.if_contains(key);
  if (!value) return {};
  if (!value->is_string()) throw ActionError(std::string("\"") + key + "\" must be a string");
  return std::string(value->as_string());
}

boost::json::object answer(const AdminServices& services, const boost::json::object& request,
                           const Actor& actor) {
  ModuleControl& control = services.modules;
  const std::string command = argument(request, "command");
  const std::string name = argument(request, "name");
  auto needName = [&]() {
    if (name.empty()) throw ActionError(command + " needs a module name");
  };
  if (command == "module.list") {
    boost::json::array modules;
    for (const auto& status : control.list()) modules.push_back(statusJson(status));
    return {{"ok", true}, {"modules", std::move(modules)}};
  }
  if (command == "module.show") {
    needName();
    return {{"ok", true}, {"module", statusJson(control.show(name))}};
  }
  if (command == "module.enable" || command == "module.disable") {
    needName();
    return success(control.setEnabled(name, command == "module.enable", actor));
  }
  if (command == "module.reload") {
    if (!name.empty()) return success(control.reloadModule(name, actor));
    auto changes = control.reload(actor);
    std::string message = "configuration reloaded";
    if (changes.empty()) message += "; no module changed";
    for (const auto& change : changes) message += "\n" + change;
    return success(message);
  }
  if (command == "events.status") {
    if (!services.event_status) throw ActionError("this server has no event pipeline");
    return {{"ok", true}, {"events", services.event_status()}};
  }
  if (command.empty()) throw ActionError("the request names no \"command\"");
  throw ActionError("unknown command '" + command +
                    "' (module.list, module.show, module.enable, module.disable, module.reload, "
                    "events.status)");
}

}  // namespace

boost::json::object statusJson(const ModuleStatus& status) {
  boost::json::object out{
      {"name", status.name}, {"running", status.running}, {"configured", status.configured}};
  if (status.override_state) {
    out["override"] = boost::json::object{{"enabled", status.override_state->enabled},
                                          {"by", status.override_state->by},
                                          {"at", status.override_state->at}};
  }
  if (status.details) {
    const auto& d = *status.details;
    out["clause"] = d.clause;
    out["path"] = d.path;
    out["monitor_only"] = d.monitor_only;
    out["priority"] = d.priority;
    out["on_error"] = d.on_error;
    out["calls"] = d.calls;
    out["failures"] = d.failures;
  }
  return out;
}

std::string handleAdminRequest(const AdminServices& services, std::string_view line,
                               const Actor& actor) {
  boost::json::object reply;
  boost::system::error_code ec;
  boost::json::value request = boost::json::parse(line, ec);
  if (ec || !request.is_object()) {
    reply = failure("the request is not a JSON object (" +
                    (ec ? ec.message() : std::string("wrong type")) + ")");
  } else {
    try {
      reply = answer(services, request.as_object(), actor);
    } catch (const ActionError& e) {
      reply = failure(e.what());
    } catch (const std::exception& e) {
      reply = failure(std::string("internal error: ") + e.what());
    }
  }
  return boost::json::serialize(reply);
}

}  // namespace parley::admin
