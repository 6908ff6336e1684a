#pragma once
// The server's own disco#info answer (XEP-0030): one function builds it, so what a client reads
// and what the server's XEP-0115 caps hash say can never differ.
#include "modules/module_host.hpp"
#include "parley/jid.hpp"
#include "parley/xml/element.hpp"
#include "router/router.hpp"

namespace parley::xep {

// <query xmlns='disco#info'/> for local `domain`: the server identity and the features the
// services registered, less (or plus) what the policy modules' disco.info hooks change, sorted
// and without duplicates.
xml::Element serverInfoQuery(const router::Router& router, const modules::ModuleHost& modules,
                             const Jid& domain);

}  // namespace parley::xep
