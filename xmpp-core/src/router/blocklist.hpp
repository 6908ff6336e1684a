#pragma once
// XEP-0191 Blocking Command: one account's blocklist as the router checks it. An immutable
// snapshot: a change builds a new one (BlocklistCache keeps the newest), so a check on one io
// thread never waits for a change on another.

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "parley/jid.hpp"
#include "parley/xml/element.hpp"

namespace parley::router {

inline constexpr std::string_view kBlockingNs = "urn:xmpp:blocking";
inline constexpr std::string_view kBlockingErrorsNs = "urn:xmpp:blocking:errors";

class Blocklist {
 public:
  Blocklist() = default;
  // `owner` is the account's bare JID; `jids` are prepared addresses in the order blocked.
  Blocklist(std::string owner, int64_t version, std::vector<std::string> jids);

  // Whether a stanza from or to `other` is blocked. An item matches as XEP-0191 §6 (and
  // XEP-0016 §2.1) say: user@domain/resource only that resource, user@domain any of its
  // resources, domain/resource that resource at the domain, domain the domain itself and every
  // address at it. The owner's own addresses never match (XEP-0191 §5: one resource of an
  // account is never blocked from another).
  bool blocks(const Jid& other) const;

  const std::string& owner() const { return owner_; }
  // Bumped by every change in the database; a newer snapshot replaces an older one.
  int64_t version() const { return version_; }
  const std::vector<std::string>& jids() const { return jids_; }
  bool empty() const { return jids_.empty(); }

 private:
  std::string owner_;
  int64_t version_ = 0;
  std::vector<std::string> jids_;
  std::set<std::string, std::less<>> lookup_;
};

// The error a user gets for a stanza to an address they blocked (XEP-0191 §3.3): not-acceptable
// with the application condition <blocked xmlns='urn:xmpp:blocking:errors'/>.
xml::Element makeBlockedError(const xml::Element& original);

}  // namespace parley::router
