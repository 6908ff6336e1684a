#pragma once
// XEP-0115 entity capabilities: what a client's <c/> in presence says it supports, without
// asking every time. A client announces a hash of its disco#info; the server asks once per hash
// (disco#info to node#ver), checks the answer hashes to the announced value, and keeps the
// features for every later session announcing the same hash. Only verified answers are shared:
// an unverified one would let one client poison what the server believes of others.
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "parley/xml/element.hpp"

namespace parley::xep::caps {

inline constexpr std::string_view kCapsNs = "http://jabber.org/protocol/caps";

using Features = std::shared_ptr<const std::set<std::string>>;

struct Announcement {
  std::string node, ver, hash;  // hash: the algorithm name ("sha-1")
};
// The <c/> of a presence stanza, if any (legacy <c/> without 'hash' is not verifiable: none).
std::optional<Announcement> announcementOf(const xml::Element& presence);

// XEP-0115 §5.1 verification string of a disco#info <query/>, and its SHA-1 in base64.
// nullopt for a query the XEP says must not be cached (duplicate identities or features,
// malformed extended forms).
std::optional<std::string> verificationString(const xml::Element& query);
std::optional<std::string> sha1Ver(const xml::Element& query);

// The features of a disco#info <query/>.
std::set<std::string> featuresOf(const xml::Element& query);

// ver (verified) → features, bounded; thread-safe.
class Cache {
 public:
  explicit Cache(size_t capacity = 10000) : capacity_(capacity) {}
  Features find(const std::string& ver) const;
  void insert(const std::string& ver, Features features);

 private:
  size_t capacity_;
  mutable std::mutex mutex_;
  std::map<std::string, Features> entries_;
};

}  // namespace parley::xep::caps
