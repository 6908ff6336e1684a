#include "xep/services.hpp"

#include "router/roster_service.hpp"

namespace parley::xep {

void registerCoreServices(router::Router& router) {
  router::registerRosterService(router);
  registerDisco(router);
  registerPing(router);
  registerVersion(router);
  registerTime(router);
  registerLastActivity(router);
  registerVcard(router);
  registerLegacySession(router);
  registerAdhoc(router);
  registerCarbons(router);
  registerPep(router);
  registerPrivateStorage(router);
  registerBookmarkSync(router);
  registerAvatarSync(router);
  registerBlocking(router);
  registerPrivacyLists(router);
  registerMuc(router);
  registerMam(router);
  // Features provided by the router itself rather than an iq service.
  router.addServerFeature("msgoffline");  // XEP-0160
}

}  // namespace parley::xep
