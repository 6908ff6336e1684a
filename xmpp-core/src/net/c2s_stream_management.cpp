// XEP-0198 stream management for client sessions: acknowledgements (<r/>, <a/>), and
// resumption. A session whose connection dies without the stream being closed "hibernates":
// it stays registered and available, keeps collecting stanzas, and waits sm_resume_timeout
// for the client to come back with <resume/>. The new connection then takes over the old
// session's state (presence, roster copy, carbons, caps, counters) and registry entry, and
// is sent again whatever the client had not acknowledged. If nobody comes back, the session
// ends as any other, and its unacknowledged messages go to another resource or offline
// storage: an accepted message is never silently lost.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <map>
#include <mutex>

#include "auth/scram.hpp"
#include "net/c2s_session.hpp"
#include "parley/xml/serializer.hpp"
#include "router/router.hpp"
#include "util/log.hpp"

namespace parley::net {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

namespace {

// Resumable sessions by stream management id. The ids are random (128 bits), and a resumption
// must also come from the same authenticated account.
class ResumableSessions {
 public:
  void put(const std::string& id, std::weak_ptr<C2sSession> session) {
    std::lock_guard lock(mutex_);
    sessions_[id] = std::move(session);
  }
  std::shared_ptr<C2sSession> find(const std::string& id) {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(id);
    return it == sessions_.end() ? nullptr : it->second.lock();
  }
  // Removes the entry only if it still names `session` (a successor may have taken the id).
  void erase(const std::string& id, const C2sSession* session) {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return;
    auto current = it->second.lock();
    if (!current || current.get() == session) sessions_.erase(it);
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::weak_ptr<C2sSession>> sessions_;
};

ResumableSessions& resumableSessions() {
  static ResumableSessions sessions;
  return sessions;
}

std::string randomId() {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : auth::randomBytes(16)) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::optional<uint32_t> parseH(std::string_view text) {
  uint32_t h = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), h);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return h;
}

std::string failedElement(std::string_view condition, std::string_view text,
                          std::optional<uint32_t> h = std::nullopt) {
  std::string out = "<failed xmlns='urn:xmpp:sm:3'";
  if (h) out += " h='" + std::to_string(*h) + "'";
  out += "><";
  out += condition;
  out +=
      " xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text "
      "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' xml:lang='en'>";
  xml::appendEscapedText(out, text);
  out += "</text></failed>";
  return out;
}

}  // namespace

// What a hibernating (or still connected) session hands to the connection that resumes it.
struct C2sSession::Handover {
  bool ok = false;
  bool too_high = false;
  uint32_t sent = 0;  // for <handled-count-too-high/>
  std::string id;
  uint32_t handled = 0;
  std::deque<StreamManagement::Unacked> unacked;
  std::shared_ptr<const xml::Element> presence;
  int priority = 0;
  std::shared_ptr<const storage::Roster> roster;
  bool roster_requested = false;
  bool carbons = false;
  std::shared_ptr<const std::set<std::string>> client_features;
  std::set<std::string> directed_presence_targets;
};

awaitable<void> C2sSession::onSmElement(const xml::Element& element) {
  const std::string& name = element.name();
  if (name == "r") {
    enqueue("<a xmlns='urn:xmpp:sm:3' h='" + std::to_string(sm_.handledCount()) + "'/>");
    co_return;
  }
  if (name == "a") {
    auto h = parseH(element.attrOr("h"));
    if (!h) {
      co_await streamError("bad-format", "<a/> needs an 'h' attribute with a number.");
      co_return;
    }
    ack_requested_ = false;
    if (!sm_.acknowledge(*h)) {
      const std::string sent = std::to_string(sm_.sentCount());
      log::info("c2s ", jid_.full(), ": acknowledged ", *h, " stanzas of ", sent, " sent");
      // XEP-0198 §4: undefined-condition with <handled-count-too-high/>.
      std::string out =
          "<stream:error><undefined-condition xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
          "<handled-count-too-high xmlns='urn:xmpp:sm:3' h='" +
          std::to_string(*h) + "' send-count='" + sent +
          "'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'>You acknowledged " +
          std::to_string(*h) + " stanzas, but the server sent only " + sent +
          ".</text></stream:error></stream:stream>";
      clean_close_ = true;
      enqueue(std::move(out));
      closeAfterFlush();
    }
    co_return;
  }
  if (name == "enable") {
    if (sm_.enabled()) {
      enqueue(failedElement("unexpected-request", "Stream management is already enabled."));
      co_return;
    }
    const std::string_view resume = element.attrOr("resume");
    const auto timeout = config_->limits.sm_resume_timeout;
    const bool resumable = (resume == "true" || resume == "1") && timeout.count() > 0;
    sm_.enable(resumable ? randomId() : std::string());
    std::string out = "<enabled xmlns='urn:xmpp:sm:3'";
    if (resumable) {
      resumableSessions().put(sm_.id(), weak_from_this());
      out += " id='" + sm_.id() + "' resume='true' max='" + std::to_string(timeout.count()) + "'";
    }
    out += "/>";
    enqueue(std::move(out));
    co_return;
  }
  co_await streamError("unsupported-stanza-type",
                       "Unsupported stream management element <" + name + "/>.");
}

awaitable<bool> C2sSession::onResume(const xml::Element& resume) {
  const std::string previd(resume.attrOr("previd"));
  auto client_h = parseH(resume.attrOr("h"));
  if (!client_h) {
    co_await send(failedElement("bad-request", "<resume/> needs 'previd' and a numeric 'h'."));
    co_return true;
  }
  auto old = resumableSessions().find(previd);
  const std::string account = node_ + "@" + domain_;
  if (!old || old.get() == this || old->jid_.bareString() != account) {
    co_await send(failedElement("item-not-found",
                                "That session is gone (or was never yours); bind a new one."));
    co_return true;
  }
  // Take the old session's registry entry first, so deliveries from now on come here (held
  // in resume_buffer_ until the takeover is done) rather than to the old session.
  jid_ = old->jid_;
  resuming_ = true;
  auto self = shared_from_this();
  ctx_.registry().add(self);
  Handover h =
      co_await asio::co_spawn(old->executor_, old->handOver(self, *client_h), use_awaitable);
  if (!h.ok) {
    resuming_ = false;
    ctx_.registry().remove(this);
    auto buffered = std::exchange(resume_buffer_, {});
    if (!buffered.empty()) undeliverable(std::move(buffered));
    jid_ = Jid();
    if (h.too_high) {
      co_await send(failedElement("undefined-condition",
                                  "You acknowledged " + std::to_string(*client_h) +
                                      " stanzas, but the server sent only " +
                                      std::to_string(h.sent) + "; bind a new session."));
    } else {
      co_await send(
          failedElement("item-not-found", "That session has just ended; bind a new one."));
    }
    co_return true;
  }
  // The session continues here: same counters, same state, same id.
  sm_.restore(h.id, h.handled, *client_h);
  resumableSessions().put(h.id, weak_from_this());
  setPresence(std::move(h.presence), h.priority);
  setCachedRoster(std::move(h.roster));
  if (h.roster_requested) setRosterRequested();
  setCarbons(h.carbons);
  setClientFeatures(std::move(h.client_features));
  directed_presence_targets = std::move(h.directed_presence_targets);

  startBound();
  enqueue("<resumed xmlns='urn:xmpp:sm:3' previd='" + h.id + "' h='" + std::to_string(h.handled) +
          "'/>");
  const size_t resent = h.unacked.size();
  for (auto& u : h.unacked) {
    if (u.stanza) {
      std::string bytes;
      xml::serialize(*u.stanza, bytes, ns::kClient);
      enqueueImpl(std::move(bytes), std::move(u.stanza), /*counted=*/false, true);
    } else {
      enqueueImpl(std::move(u.bytes), nullptr, /*counted=*/false, true);
    }
  }
  resuming_ = false;
  for (auto& stanza : std::exchange(resume_buffer_, {})) {
    std::string bytes;
    xml::serialize(*stanza, bytes, ns::kClient);
    enqueue(std::move(bytes), std::move(stanza));
  }
  log::info("c2s ", jid_.full(), " resumed from ", peer_ip_, " (", resent,
            " unacknowledged stanzas sent again)");
  co_return true;
}

awaitable<C2sSession::Handover> C2sSession::handOver(std::shared_ptr<C2sSession> successor,
                                                     uint32_t client_h) {
  Handover out;
  // Gone already: ended (timeout, kick) or resumed by someone else first.
  if (resumed_away_ || (!hibernating_ && phase_ != Phase::Bound)) co_return out;
  if (!sm_.acknowledge(client_h)) {
    out.too_high = true;
    out.sent = sm_.sentCount();
    co_return out;
  }
  out.ok = true;
  out.id = sm_.id();
  out.handled = sm_.handledCount();
  out.unacked = sm_.takeUnacked();
  out.presence = presence();
  out.priority = priority();
  out.roster = cachedRoster();
  out.roster_requested = rosterRequested();
  out.carbons = carbonsEnabled();
  out.client_features = clientFeatures();
  out.directed_presence_targets = std::move(directed_presence_targets);
  resumed_away_ = true;
  successor_ = successor;
  // Whatever was still queued here is among the unacknowledged stanzas just handed over.
  out_queue_.clear();
  queued_bytes_ = 0;
  if (hibernating_) {
    hibernate_timer_.cancel();
  } else {
    // The old connection is still open (its death not noticed yet): it ends now.
    log::info("c2s ", jid_.full(), " from ", peer_ip_, ": taken over by a resumed stream");
    phase_ = Phase::Closing;
    closeSocket();
    write_signal_.cancel();
  }
  co_return out;
}

bool C2sSession::shouldHibernate() const {
  return sm_.resumable() && !clean_close_ && config_->limits.sm_resume_timeout.count() > 0;
}

awaitable<bool> C2sSession::hibernate() {
  hibernating_ = true;
  // Held for an inactive client (XEP-0352): kept like everything else not yet acknowledged;
  // a resumed stream starts active and gets them.
  for (auto& h : held_.take()) sm_.sent({std::move(h.stanza), {}});
  const auto timeout = config_->limits.sm_resume_timeout;
  log::info("c2s ", jid_.full(), " from ", peer_ip_, ": connection lost; resumable for ",
            timeout.count(), " s (", sm_.unackedCount(), " stanzas unacknowledged)");
  hibernate_timer_.expires_after(timeout);
  boost::system::error_code ec;
  co_await hibernate_timer_.async_wait(asio::redirect_error(use_awaitable, ec));
  hibernating_ = false;
  if (resumed_away_) co_return true;
  log::info("c2s ", jid_.full(), ": not resumed; the session ends");
  co_return false;
}

std::vector<std::shared_ptr<const xml::Element>> C2sSession::takeUnackedStanzas() {
  std::vector<std::shared_ptr<const xml::Element>> out;
  for (auto& u : sm_.takeUnacked())
    if (u.stanza) out.push_back(std::move(u.stanza));
  return out;
}

void C2sSession::forgetResumption() {
  if (sm_.resumable()) resumableSessions().erase(sm_.id(), this);
}

}  // namespace parley::net
