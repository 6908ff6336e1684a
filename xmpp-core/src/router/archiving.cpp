#include "router/archiving.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <vector>

#include "parley/stanza.hpp"

namespace parley::router::archiving {
namespace {

constexpr std::string_view kHintsNs = "urn:xmpp:hints";  // XEP-0334
constexpr std::string_view kChatStatesNs = "http://jabber.org/protocol/chatstates";

// Children that say something about a message rather than being one: a chat message made of
// these alone (typing notifications, mostly) is not worth keeping.
bool bookkeeping(const xml::Element& child) {
  const std::string& ns = child.ns();
  if (ns == kChatStatesNs || ns == kHintsNs || ns == kSidNs) return true;
  return ns == ns::kClient && child.name() == "thread";
}

// 0: no entry of `list` matches; 1: a bare entry does; 2: an entry with a resource does.
int matchStrength(const std::vector<std::string>& list, const Jid& other) {
  int best = 0;
  const std::string bare = other.bareString();
  for (const auto& entry : list) {
    if (entry.find('/') != std::string::npos) {
      if (entry == other.full()) return 2;
    } else if (entry == bare) {
      best = 1;
    }
  }
  return best;
}

}  // namespace

bool archivable(const xml::Element& message) {
  const std::string_view type = message.attrOr("type");
  const bool chat = type == "chat";
  if (!chat && !type.empty() && type != "normal") return false;  // headline, groupchat, error
  if (message.child("no-store", kHintsNs) || message.child("no-permanent-store", kHintsNs))
    return false;
  if (message.child("store", kHintsNs) || message.child("body", ns::kClient)) return true;
  if (!chat) return false;
  return std::any_of(message.children().begin(), message.children().end(), [](const auto& node) {
    return !node.isText() && !bookkeeping(*node.element);
  });
}

std::optional<bool> prefsAllow(const storage::ArchivePrefs& prefs, const std::string& owner,
                               const Jid& other, std::optional<bool> in_roster) {
  const int never = matchStrength(prefs.never, other);
  const int always = matchStrength(prefs.always, other);
  if (never > 0 && never >= always) return false;
  if (always > 0) return true;
  switch (prefs.mode) {
    case storage::ArchiveDefault::Always:
      return true;
    case storage::ArchiveDefault::Never:
      return false;
    case storage::ArchiveDefault::Roster:
      if (other.bareString() == owner) return true;
      return in_roster;
  }
  return false;
}

void stripOwnStanzaIds(xml::Element& message,
                       const std::function<bool(std::string_view domain)>& is_local_domain) {
  const auto ids = message.childrenNamed("stanza-id", kSidNs);
  std::vector<xml::Element> foreign;
  for (const auto* id : ids) {
    auto by = Jid::parse(id->attrOr("by"));
    if (by && !is_local_domain(by->domain())) foreign.push_back(*id);
  }
  if (foreign.size() == ids.size()) return;
  // Foreign ones move behind the other children: their order carries no meaning.
  message.removeChildren("stanza-id", kSidNs);
  for (auto& f : foreign) message.addChild(std::move(f));
}

void addStanzaId(xml::Element& message, const std::string& by, const std::string& id) {
  auto& sid = message.addChild(std::string(kSidNs), "stanza-id");
  sid.setAttr("by", by);
  sid.setAttr("id", id);
}

std::optional<std::string> originId(const xml::Element& message) {
  const auto* origin = message.child("origin-id", kSidNs);
  if (!origin || origin->attrOr("id").empty()) return std::nullopt;
  return std::string(origin->attrOr("id"));
}

int64_t archiveTimestamp() {
  static std::atomic<int64_t> last{0};
  const int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  int64_t previous = last.load(std::memory_order_relaxed);
  for (;;) {
    const int64_t next = std::max(now, previous + 1);
    if (last.compare_exchange_weak(previous, next, std::memory_order_relaxed)) return next;
  }
}

}  // namespace parley::router::archiving
