#include "router/blocklist.hpp"

#include "parley/stanza.hpp"
#include "router/stanza_errors.hpp"

namespace parley::router {

Blocklist::Blocklist(std::string owner, int64_t version, std::vector<std::string> jids)
    : owner_(std::move(owner)),
      version_(version),
      jids_(std::move(jids)),
      lookup_(jids_.begin(), jids_.end()) {}

bool Blocklist::blocks(const Jid& other) const {
  if (lookup_.empty() || other.empty()) return false;
  const std::string& node = other.node();
  const std::string& domain = other.domain();
  const std::string& resource = other.resource();
  if (!node.empty() && owner_.size() == node.size() + 1 + domain.size() &&
      owner_.compare(0, node.size(), node) == 0 && owner_[node.size()] == '@' &&
      owner_.compare(node.size() + 1, domain.size(), domain) == 0) {
    return false;  // the account itself
  }
  // The four forms of XEP-0191 §6, each looked up once.
  if (lookup_.contains(other.full())) return true;
  if (!node.empty() && !resource.empty() && lookup_.contains(other.bareString())) return true;
  if (!node.empty() && !resource.empty() && lookup_.contains(domain + "/" + resource)) {
    return true;
  }
  return (!node.empty() || !resource.empty()) && lookup_.contains(domain);
}

xml::Element makeBlockedError(const xml::Element& original) {
  xml::Element reply = makeStanzaError(original, "not-acceptable",
                                       "You have blocked this address. Unblock it to "
                                       "communicate with it again.",
                                       "cancel");
  // After the condition and the text, where RFC 6120 §8.3.2 puts application conditions.
  if (xml::Element* error = reply.child("error", ns::kClient)) {
    error->addChild(std::string(kBlockingErrorsNs), "blocked");
  }
  return reply;
}

}  // namespace parley::router
