#pragma once
// XEP-0114: the external components connected right now, one connection per domain. Which
// domains belong to components at all is configuration (Config::components); this table only
// says which of them are reachable, and through which connection.

#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "router/client_session.hpp"

namespace parley::router {

class ComponentLinks {
 public:
  // Makes `link` the connection serving `domain`. False, and nothing changes, while another
  // connection serves it (the newcomer is refused with <conflict/>, XEP-0114 §3).
  bool attach(const std::string& domain, const SessionPtr& link);
  // Forgets `link` if it is still the connection serving `domain`.
  void detach(const std::string& domain, const ClientSession* link);
  // The connection serving `domain`, or null when no component of that domain is connected.
  SessionPtr find(std::string_view domain) const;
  // The domains with a connected component, sorted (disco#items).
  std::vector<std::string> domains() const;
  // Every connection (shutdown).
  std::vector<SessionPtr> all() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, SessionPtr, std::less<>> links_;
};

}  // namespace parley::router
