#include "router/component_links.hpp"

namespace parley::router {

bool ComponentLinks::attach(const std::string& domain, const SessionPtr& link) {
  std::lock_guard lock(mutex_);
  return links_.emplace(domain, link).second;
}

void ComponentLinks::detach(const std::string& domain, const ClientSession* link) {
  std::lock_guard lock(mutex_);
  auto it = links_.find(domain);
  if (it != links_.end() && it->second.get() == link) links_.erase(it);
}

SessionPtr ComponentLinks::find(std::string_view domain) const {
  std::lock_guard lock(mutex_);
  auto it = links_.find(domain);
  return it == links_.end() ? nullptr : it->second;
}

std::vector<std::string> ComponentLinks::domains() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [domain, link] : links_) out.push_back(domain);
  return out;
}

std::vector<SessionPtr> ComponentLinks::all() const {
  std::lock_guard lock(mutex_);
  std::vector<SessionPtr> out;
  for (const auto& [domain, link] : links_) out.push_back(link);
  return out;
}

}  // namespace parley::router
