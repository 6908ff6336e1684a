#include "xep/server_caps.hpp"

#include "xep/caps.hpp"
#include "xep/server_info.hpp"

namespace parley::xep {

std::string ServerCapsCache::ver(const std::string& domain, uint64_t generation,
                                 const std::function<xml::Element()>& build) {
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(domain);
    if (it != entries_.end() && it->second.generation == generation) return it->second.ver;
  }
  // Hashed outside the lock; two logins racing here compute the same value twice, harmlessly.
  // The server's answer has no duplicates (serverInfoQuery removes them), so it always hashes.
  std::string ver = caps::sha1Ver(build()).value_or("");
  std::lock_guard lock(mutex_);
  entries_[domain] = {generation, ver};
  return ver;
}

std::string serverCapsVer(const router::Router& router, const modules::ModuleHost& modules,
                          const Jid& domain) {
  // Every login reads the ver: hashed once per domain and module set, not once per stream.
  static ServerCapsCache cache;
  // The generation is read before the answer is built: a reload in between leaves an entry
  // newer than its generation says, which the next call merely recomputes.
  const uint64_t generation = modules.generation();
  return cache.ver(domain.bareString(), generation,
                   [&] { return serverInfoQuery(router, modules, domain); });
}

xml::Element serverCapsElement(const router::Router& router, const modules::ModuleHost& modules,
                               const Jid& domain) {
  xml::Element c(std::string(caps::kCapsNs), "c");
  c.setAttr("hash", "sha-1");
  c.setAttr("node", std::string(kServerCapsNode));
  c.setAttr("ver", serverCapsVer(router, modules, domain));
  return c;
}

}  // namespace parley::xep
