#pragma once
// The core protocol services answered by the server itself. Each registers its iq namespace and
// the disco features it provides with the router.

#include "router/router.hpp"

namespace parley::xep {

void registerDisco(router::Router& router);           // XEP-0030
void registerPing(router::Router& router);            // XEP-0199
void registerVersion(router::Router& router);         // XEP-0092
void registerTime(router::Router& router);            // XEP-0202
void registerLastActivity(router::Router& router);    // XEP-0012
void registerVcard(router::Router& router);           // XEP-0054
void registerLegacySession(router::Router& router);   // RFC 3921 session, for older clients
void registerAdhoc(router::Router& router);           // XEP-0050 commands for server.admins
void registerCarbons(router::Router& router);         // XEP-0280
void registerPep(router::Router& router);             // XEP-0163 (with XEP-0115 caps)
void registerPrivateStorage(router::Router& router);  // XEP-0049
void registerBookmarkSync(router::Router& router);    // XEP-0402 §5.3 with XEP-0048
void registerAvatarSync(router::Router& router);      // XEP-0398, XEP-0153 presence hash
void registerBlocking(router::Router& router);        // XEP-0191
void registerPrivacyLists(router::Router& router);    // XEP-0016, read-only view of XEP-0191
void registerMuc(router::Router& router);             // XEP-0045 on conference.<domain>
void registerMam(router::Router& router);             // XEP-0313 (with XEP-0441, XEP-0359)

// Everything above, plus the roster.
void registerCoreServices(router::Router& router);

}  // namespace parley::xep
