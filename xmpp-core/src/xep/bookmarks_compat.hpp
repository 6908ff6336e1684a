#pragma once
// XEP-0402 §5.3: one set of bookmarks, whichever protocol a client uses. The PEP-native node
// urn:xmpp:bookmarks:1 holds the truth. A legacy XEP-0048 list a client stores (private XML,
// XEP-0049 '#compat'; or the PEP node storage:bookmarks, '#compat-pep') is turned into native
// items: new and changed rooms published, missing ones retracted, with notifications. A legacy
// read is answered from the native items, so it shows what newer clients stored.
#include <optional>
#include <string>

#include "parley/xml/element.hpp"
#include "router/router.hpp"

namespace parley::xep::bookmarks {

// `storage`: the legacy <storage xmlns='storage:bookmarks'/> the owner just stored.
router::Task<void> legacyStored(router::Router& router, std::string owner, xml::Element storage);

// The legacy <storage/> a read returns: the native rooms, with the <url/> bookmarks of
// `stored` (the legacy list last stored, which may hold URLs); nullopt when the account has
// no native node (then what was stored stands as it is).
router::Task<std::optional<xml::Element>> legacyView(router::Router& router, std::string owner,
                                                     std::optional<xml::Element> stored);

}  // namespace parley::xep::bookmarks
