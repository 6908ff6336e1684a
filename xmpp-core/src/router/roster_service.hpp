#pragma once
#include "router/router.hpp"

namespace parley::router {
// Registers the jabber:iq:roster service (RFC 6121 §2).
void registerRosterService(Router& router);
}  // namespace parley::router
