#pragma once
// parleyctl's side of the admin socket: one request, one reply (admin_protocol.hpp).
#include <boost/json.hpp>
#include <chrono>
#include <stdexcept>
#include <string>

namespace parley::admin {

// The server could not be asked (not running, no permission, no answer); what() says what to do.
struct AdminUnreachable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Sends `request` to the server listening on `socket_path` and returns its reply object.
boost::json::object askServer(const std::string& socket_path, const boost::json::object& request,
                              std::chrono::seconds timeout = std::chrono::seconds(30));

}  // namespace parley::admin
