#pragma once
// The admin socket's protocol: one JSON object per line each way. A request names a command
// and its arguments; the reply says ok with the result, or not ok with an error written for
// the admin.
//
//   → {"command": "module.list"}
//   ← {"ok": true, "modules": [{"name": "e2ee", "running": true, ...}, ...]}
//   → {"command": "module.disable", "name": "e2ee"}
//   ← {"ok": true, "message": "e2ee: disabled"}
//   → {"command": "module.enable", "name": "nope"}
//   ← {"ok": false, "error": "no module named nope is configured or installed ..."}
//
// Commands: module.list, module.show NAME, module.enable NAME, module.disable NAME,
// module.reload [NAME] (without a name: the whole configuration file, like SIGHUP),
// events.status (the compliance event pipeline's metrics).
#include <boost/json.hpp>
#include <functional>
#include <string>
#include <string_view>

#include "admin/module_control.hpp"

namespace parley::admin {

// What the admin socket can reach in the running server.
struct AdminServices {
  ModuleControl& modules;
  std::function<boost::json::object()> event_status;  // the event pipeline's metrics
};

// Answers one request line (without its newline). Never throws: every problem is a reply.
std::string handleAdminRequest(const AdminServices& services, std::string_view line,
                               const Actor& actor);

// A module's status as the protocol (and parleyctl --json) shows it.
boost::json::object statusJson(const ModuleStatus& status);

}  // namespace parley::admin
