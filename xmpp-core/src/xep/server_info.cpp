#include "xep/server_info.hpp"

#include <algorithm>

namespace parley::xep {

namespace {
constexpr std::string_view kInfoNs = "http://jabber.org/protocol/disco#info";
}

xml::Element serverInfoQuery(const router::Router& router, const modules::ModuleHost& modules,
                             const Jid& domain) {
  xml::Element query(std::string(kInfoNs), "query");
  auto& identity = query.addChild(std::string(kInfoNs), "identity");
  identity.setAttr("category", "server");
  identity.setAttr("type", "im");
  identity.setAttr("name", "Parley");
  std::vector<std::string> features = router.serverFeatures();
  // Policy modules hide what is not allowed (no "send file" button for a disabled transfer).
  modules.runDiscoInfo(domain, features);
  std::sort(features.begin(), features.end());
  features.erase(std::unique(features.begin(), features.end()), features.end());
  for (const auto& f : features) query.addChild(std::string(kInfoNs), "feature").setAttr("var", f);
  return query;
}

}  // namespace parley::xep
