#pragma once
// XEP-0402 §5.3 compatibility with XEP-0048: the same chat-room bookmarks in both formats.
// Legacy: one <storage xmlns='storage:bookmarks'/> holding every <conference jid=…/>.
// PEP native: one urn:xmpp:bookmarks:1 item per room, its id the room JID. Pure functions.
#include <string>
#include <vector>

#include "parley/xml/element.hpp"

namespace parley::xep::bookmarks {

inline constexpr std::string_view kLegacyNs = "storage:bookmarks";     // also the legacy PEP node
inline constexpr std::string_view kNativeNs = "urn:xmpp:bookmarks:1";  // also the native node

// One room: the item id (room JID) and the <conference xmlns='urn:xmpp:bookmarks:1'/> payload.
struct Conference {
  std::string jid;
  xml::Element payload;
};

// The rooms of a legacy <storage/>, in order, one per JID (a later duplicate wins). name,
// autojoin ("true"/"1" become 'true'), <nick/> and <password/> carry over; children in other
// namespaces go under <extensions/>, as XEP-0402 keeps what it does not know; <url/>
// bookmarks have no PEP-native form and are left out. A conference without a JID is skipped.
std::vector<Conference> fromLegacy(const xml::Element& storage);

// The legacy <storage/> for these rooms (the reverse mapping; extensions become children of
// each <conference/> again). `urls`: the <url/> bookmarks to keep, copied as they are.
xml::Element toLegacy(const std::vector<Conference>& conferences,
                      const std::vector<const xml::Element*>& urls = {});

}  // namespace parley::xep::bookmarks
