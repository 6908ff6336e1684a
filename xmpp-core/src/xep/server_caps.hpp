#pragma once
// XEP-0115 §6.3: the server's own entity capabilities, offered in the c2s stream features after
// authentication so a client knows the server's features without a disco#info round trip. The
// hash is computed from the server's disco#info answer (xep/server_info) with the same code that
// verifies clients' hashes (xep/caps), once per domain and module set: policy modules change
// the feature list through their disco.info hooks, so a module reload makes it recompute.
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "modules/module_host.hpp"
#include "parley/jid.hpp"
#include "parley/xml/element.hpp"
#include "router/router.hpp"

namespace parley::xep {

// ver per domain, remembered with the module-set generation it was computed under; thread-safe.
class ServerCapsCache {
 public:
  // The cached ver of `domain` if it was computed under `generation`, else the sha-1 ver of
  // the disco#info <query/> that `build` returns (then cached).
  std::string ver(const std::string& domain, uint64_t generation,
                  const std::function<xml::Element()>& build);

 private:
  struct Entry {
    uint64_t generation = 0;
    std::string ver;
  };
  std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

// The node URI the server's caps name (its disco#info also answers for "<node>#<ver>").
inline constexpr std::string_view kServerCapsNode = "https://parley.im/caps";

// The sha-1 ver of local `domain`'s disco#info under the module set in force (cached in one
// process-wide ServerCapsCache: parleyd runs one module host).
std::string serverCapsVer(const router::Router& router, const modules::ModuleHost& modules,
                          const Jid& domain);

// <c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node=… ver=…/> for `domain`.
xml::Element serverCapsElement(const router::Router& router, const modules::ModuleHost& modules,
                               const Jid& domain);

}  // namespace parley::xep
