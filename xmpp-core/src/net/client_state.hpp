#pragma once
// XEP-0352 client state indication: while a client says it is inactive (a phone in a pocket),
// stanzas that only update what the screen would show — presence, chat states, PEP events —
// wait, and the latest presence of each contact replaces the earlier one. Anything that
// matters (a message with a body, an iq, a subscription request, an error) goes out at once,
// after what was held, so the client still sees everything in order.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "parley/xml/element.hpp"

namespace parley::net {

inline constexpr std::string_view kCsiNs = "urn:xmpp:csi:0";

// Whether `stanza` may wait while the client is inactive.
bool mayWait(const xml::Element& stanza);

class HeldStanzas {
 public:
  struct Held {
    std::string bytes;
    std::shared_ptr<const xml::Element> stanza;
  };
  explicit HeldStanzas(size_t capacity) : capacity_(capacity) {}

  // Holds a stanza that may wait (the caller sends what is held first when full()).
  void hold(std::string bytes, std::shared_ptr<const xml::Element> stanza);
  bool full() const { return held_.size() >= capacity_; }
  std::vector<Held> take() { return std::exchange(held_, {}); }
  bool empty() const { return held_.empty(); }
  size_t size() const { return held_.size(); }

 private:
  size_t capacity_;
  std::vector<Held> held_;
};

}  // namespace parley::net
