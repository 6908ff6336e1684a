#pragma once
// XEP-0313 Message Archive Management, the protocol side: reading a <query/> (XEP-0004 form
// filters and XEP-0059 RSM paging) into an archive query, and writing the results, the <fin/>,
// the query form and the XEP-0441 <prefs/>. No I/O here; xep/mam.cpp runs the queries.

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "parley/jid.hpp"
#include "parley/xml/element.hpp"
#include "storage/mam_store.hpp"

namespace parley::xep::mam {

inline constexpr std::string_view kNs = "urn:xmpp:mam:2";
inline constexpr std::string_view kExtendedFeature = "urn:xmpp:mam:2#extended";
inline constexpr std::string_view kRsmNs = "http://jabber.org/protocol/rsm";
inline constexpr std::string_view kForwardNs = "urn:xmpp:forward:0";
inline constexpr std::string_view kDelayNs = "urn:xmpp:delay";

// Page sizes: what a query without <max/> gets, and the most any query gets (XEP-0313 §4.3.1
// lets the server limit pages; the client sees complete='false' and pages on).
inline constexpr int kDefaultMax = 50;
inline constexpr int kMaxMax = 250;
// Most JIDs per always/never list.
inline constexpr size_t kMaxPrefsJids = 1000;

struct Query {
  storage::ArchiveQuery archive;
  std::string queryid;  // echoed in every <result/>
  bool flip = false;    // <flip-page/>: send the page newest first
};

// A stanza error condition and the text for the user.
struct Refusal {
  std::string condition;
  std::string text;
};

// The <query xmlns='urn:xmpp:mam:2'/> of an iq set for `owner`'s archive.
std::variant<Query, Refusal> parseQuery(const xml::Element& query, const std::string& owner);

// What an iq get of the query answers: every field a query may use (XEP-0313 §4.1.5).
xml::Element queryForm();

// One result: <message to from><result queryid id><forwarded><delay/>message</forwarded>
// </result></message>. `message` null when the stored copy could not be read (the result then
// keeps its place and id, as §3.2 allows for removed content).
xml::Element resultMessage(const Jid& to, const std::string& archive, const std::string& queryid,
                           const storage::ArchivedMessage& archived, const xml::Element* message);

// <fin complete='true|false'><set><first index/><last/><count/></set></fin>
xml::Element fin(const storage::ArchivePage& page);

// <metadata><start id timestamp/><end id timestamp/></metadata> (empty for an empty archive).
xml::Element metadata(const std::optional<storage::ArchiveBounds>& bounds);

// XEP-0441 <prefs default><always><jid/>…</always><never>…</never></prefs>.
xml::Element prefsElement(const storage::ArchivePrefs& prefs);
// A <prefs/> the owner set: 'default' required, JIDs prepared; a JID in both lists is kept
// only in 'never'.
std::variant<storage::ArchivePrefs, Refusal> parsePrefs(const xml::Element& prefs);

}  // namespace parley::xep::mam
