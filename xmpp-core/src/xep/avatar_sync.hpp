#pragma once
// XEP-0398 avatar conversion and the XEP-0153 presence hash (see avatar_conversion.hpp for the
// formats). A XEP-0084 avatar a client publishes becomes its vCard PHOTO; a vCard PHOTO a client
// sets is published to PEP; and every available presence a client sends carries the avatar's
// hash unless the client put its own. The hash of each account is kept in memory, so a
// presence costs a database read only the first time an account is seen after start-up.
#include <optional>
#include <string>

#include "parley/xml/element.hpp"
#include "router/router.hpp"

namespace parley::xep::avatars {

// The account's current avatar hash ("" when it has none), from memory or its stored vCard.
router::Task<std::string> currentHash(router::Router& router, std::string owner);

// The owner stored `vcard`: publish its PHOTO to PEP if it differs from the current avatar (or
// announce the avatar removed when the vCard has none and there was one). Call currentHash()
// before storing, so the previous avatar is known.
router::Task<void> vcardStored(router::Router& router, std::string owner, xml::Element vcard);

}  // namespace parley::xep::avatars
