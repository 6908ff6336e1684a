#pragma once
// An XMPP address (RFC 7622) in its prepared, canonical form: node and resource through the
// stringprep Nodeprep/Resourceprep profiles, the domain through Nameprep with IDNA label rules,
// each part at most 1023 bytes. Two Jids are equal exactly when they address the same entity.

#include <compare>
#include <optional>
#include <string>
#include <string_view>

namespace parley {

class Jid {
 public:
  Jid() = default;

  // Parses "node@domain/resource" (node and resource optional). nullopt when malformed: empty
  // parts around '@' or '/', a part that fails its stringprep profile, an over-long part, or a
  // domain that is not a valid IDNA name or IP literal.
  static std::optional<Jid> parse(std::string_view text);
  // Builds a Jid from separate parts (node/resource may be empty), preparing each.
  static std::optional<Jid> make(std::string_view node, std::string_view domain,
                                 std::string_view resource = {});

  const std::string& node() const { return node_; }
  const std::string& domain() const { return domain_; }
  const std::string& resource() const { return resource_; }
  bool empty() const { return domain_.empty(); }
  bool isBare() const { return resource_.empty(); }
  bool isDomain() const { return node_.empty() && resource_.empty(); }

  Jid bare() const;
  // The same bare Jid with another (prepared) resource; nullopt when the resource is invalid.
  std::optional<Jid> withResource(std::string_view resource) const;

  // "node@domain/resource"
  const std::string& full() const { return full_; }
  // "node@domain"
  std::string bareString() const;

  bool operator==(const Jid& other) const { return full_ == other.full_; }
  std::strong_ordering operator<=>(const Jid& other) const { return full_ <=> other.full_; }

 private:
  std::string node_;
  std::string domain_;
  std::string resource_;
  std::string full_;
};

// Individual profiles, exposed for tests and for callers that prepare one part (e.g. a username
// typed into parleyctl). Each returns nullopt when the input is not allowed by the profile.
std::optional<std::string> nodeprep(std::string_view node);
std::optional<std::string> nameprep(std::string_view domain);
std::optional<std::string> resourceprep(std::string_view resource);

}  // namespace parley
