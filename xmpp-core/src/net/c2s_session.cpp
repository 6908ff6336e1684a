#include "net/c2s_session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "net/stream_basics.hpp"
#include "net/tls_context.hpp"
#include "parley/xml/serializer.hpp"
#include "router/router.hpp"
#include "router/stanza_errors.hpp"
#include "storage/stores.hpp"
#include "util/log.hpp"
#include "xep/server_caps.hpp"

namespace parley::net {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

namespace {

constexpr std::string_view kTlsNs = "urn:ietf:params:xml:ns:xmpp-tls";
constexpr std::string_view kSaslNs = "urn:ietf:params:xml:ns:xmpp-sasl";
constexpr std::string_view kBindNs = "urn:ietf:params:xml:ns:xmpp-bind";
constexpr std::string_view kSessionNs = "urn:ietf:params:xml:ns:xmpp-session";
constexpr std::string_view kLimitsNs = "urn:xmpp:stream-limits:0";
constexpr unsigned kMaxSaslFailures = 5;
constexpr size_t kTlsReadBytes = 16384;
// How long a closing session's last bytes (a stream error, the closing tag) may take to reach a
// client before the connection is closed anyway.
constexpr std::chrono::seconds kFlushDeadline{5};

std::string saslElement(std::string_view name, std::string_view payload_b64) {
  std::string out = "<";
  out += name;
  out += " xmlns='urn:ietf:params:xml:ns:xmpp-sasl'";
  if (payload_b64.empty()) return out + "/>";
  out += ">";
  out += payload_b64;
  out += "</";
  out += name;
  out += ">";
  return out;
}

std::string saslFailureElement(std::string_view condition, std::string_view text) {
  xml::Element failure(std::string(kSaslNs), "failure");
  failure.addChild(std::string(kSaslNs), std::string(condition));
  if (!text.empty()) {
    auto& t = failure.addChild(std::string(kSaslNs), "text");
    t.setAttr("lang", "en", xml::kXmlNs);
    t.addText(text);
  }
  return xml::toString(failure, ns::kClient);
}

}  // namespace

C2sSession::C2sSession(router::ServerContext& ctx, Socket socket,
                       std::shared_ptr<asio::ssl::context> tls, bool direct_tls)
    : ctx_(ctx),
      config_(ctx.config()),
      executor_(socket.get_executor()),
      socket_(std::move(socket)),
      tls_context_(std::move(tls)),
      direct_tls_(direct_tls),
      parser_(parserLimits(*config_, false)),
      write_signal_(executor_),
      writer_finished_(executor_),
      deadline_timer_(executor_),
      keepalive_timer_(executor_),
      hibernate_timer_(executor_) {
  boost::system::error_code ec;
  // Plaintext reads are attempted directly (readChunk); they must never block an io thread.
  socket_.non_blocking(true, ec);
  auto endpoint = socket_.remote_endpoint(ec);
  peer_ip_ = ec ? "unknown" : endpoint.address().to_string();
  stream_id_ = randomHexId(12);
}

C2sSession::~C2sSession() = default;

void C2sSession::start() {
  auto self = shared_from_this();
  asio::co_spawn(
      executor_, [self]() { return self->run(); }, asio::detached);
}

awaitable<void> C2sSession::run() {
  auto self = shared_from_this();
  deadline_timer_.expires_after(config_->limits.negotiation_timeout);
  asio::co_spawn(
      executor_, [self]() { return self->watchdog(); }, asio::detached);
  try {
    if (direct_tls_) {
      co_await startTls();
    }
    co_await readLoop();
  } catch (const boost::system::system_error& e) {
    if (!timed_out_) log::debug("c2s ", peer_ip_, " ", stream_id_, ": ", e.code().message());
  } catch (const std::exception& e) {
    log::error("c2s ", peer_ip_, " ", stream_id_, ": ", e.what());
  }
  if (timed_out_ && phase_ != Phase::Bound && phase_ != Phase::Closing) {
    // The watchdog cancelled the read: tell the client why before closing.
    try {
      co_await streamError("connection-timeout",
                           "Stream negotiation took too long; please reconnect.");
    } catch (...) {
    }
  }
  deadline_timer_.cancel();
  keepalive_timer_.cancel();
  bool was_bound = phase_ == Phase::Bound || (phase_ == Phase::Closing && writer_started_);
  if (writer_started_ && !writer_done_) {
    // Let the writer flush what is queued (a stream error, the closing tag), but not forever:
    // a client that stopped reading gets kFlushDeadline.
    close_after_flush_ = true;
    phase_ = Phase::Closing;
    write_signal_.cancel();
    writer_finished_.expires_after(kFlushDeadline);
    boost::system::error_code ec;
    co_await writer_finished_.async_wait(asio::redirect_error(use_awaitable, ec));
  }
  phase_ = Phase::Closing;
  closeSocket();
  write_signal_.cancel();
  // XEP-0198: a connection that died (rather than closed) leaves a resumable session behind.
  if (was_bound && !resumed_away_ && shouldHibernate() && co_await hibernate()) co_return;
  if (resumed_away_) co_return;  // taken over while still connected
  if (was_bound) {
    forgetResumption();
    ctx_.registry().remove(this);
    // Whatever never reached the socket goes back to the router (another resource or offline
    // storage): an accepted message is not dropped because this connection died. With stream
    // management that is everything the client did not acknowledge.
    if (sm_.enabled()) {
      unsent_ = takeUnackedStanzas();
    } else {
      for (auto& p : in_flight_) unsent_.push_back(std::move(p));
      for (auto& o : out_queue_)
        if (o.stanza) unsent_.push_back(std::move(o.stanza));
    }
    out_queue_.clear();
    try {
      co_await ctx_.router().sessionClosed(self, std::move(unsent_));
      ctx_.modules().runSession(HookPoint::SessionClosed, jid_);
    } catch (const std::exception& e) {
      log::warn("c2s ", jid_.full(), ": cleanup failed: ", e.what());
    }
    ctx_.blocklists().detach(jid_.bareString());  // counted in onBind()
    log::info("c2s ", jid_.full(), " from ", peer_ip_, " closed");
  }
}

awaitable<void> C2sSession::watchdog() {
  auto self = shared_from_this();
  boost::system::error_code ec;
  co_await deadline_timer_.async_wait(asio::redirect_error(use_awaitable, ec));
  if (ec || phase_ == Phase::Bound || phase_ == Phase::Closing) co_return;
  timed_out_ = true;
  boost::system::error_code ignored;
  lowestLayer().cancel(ignored);
}

C2sSession::Socket& C2sSession::lowestLayer() { return tls_ ? tls_->next_layer() : socket_; }

awaitable<void> C2sSession::startTls() {
  // The TLS stream (with Asio's and OpenSSL's record buffers, tens of KiB) exists only from
  // here on, so plaintext negotiation and idle plaintext sessions stay small.
  boost::system::error_code ec;
  socket_.non_blocking(false, ec);
  tls_ = std::make_unique<asio::ssl::stream<Socket>>(std::move(socket_), *tls_context_);
  co_await tls_->async_handshake(asio::ssl::stream_base::server, use_awaitable);
  tls_active_ = true;
}

awaitable<std::string_view> C2sSession::readChunk() {
  if (tls_active_) {
    if (!tls_buffer_) tls_buffer_ = std::make_unique<char[]>(kTlsReadBytes);
    size_t n = co_await tls_->async_read_some(asio::buffer(tls_buffer_.get(), kTlsReadBytes),
                                              use_awaitable);
    co_return std::string_view(tls_buffer_.get(), n);
  }
  // Plaintext: see readPlainNow() for why the read comes before the wait.
  for (;;) {
    boost::system::error_code ec;
    std::string_view bytes = readPlainNow(socket_, ec);
    if (!ec) co_return bytes;
    if (ec != asio::error::would_block && ec != asio::error::try_again)
      throw boost::system::system_error(ec);
    co_await socket_.async_wait(Socket::wait_read, use_awaitable);
  }
}

awaitable<void> C2sSession::writeDirect(const std::string& bytes) {
  if (tls_active_) {
    co_await asio::async_write(*tls_, asio::buffer(bytes), use_awaitable);
  } else {
    co_await asio::async_write(socket_, asio::buffer(bytes), use_awaitable);
  }
}

awaitable<void> C2sSession::send(std::string bytes) {
  if (writer_started_) {
    enqueue(std::move(bytes));
  } else {
    co_await writeDirect(bytes);
  }
}

void C2sSession::enqueue(std::string bytes, std::shared_ptr<const xml::Element> stanza,
                         bool counted) {
  const bool is_stanza = stanza != nullptr;
  enqueueImpl(std::move(bytes), std::move(stanza), counted, is_stanza);
}

void C2sSession::enqueueStanzaBytes(std::string bytes) {
  enqueueImpl(std::move(bytes), nullptr, true, true);
}

void C2sSession::enqueueImpl(std::string bytes, std::shared_ptr<const xml::Element> stanza,
                             bool counted, bool is_stanza) {
  if (phase_ == Phase::Closing) return;
  if (is_stanza && sm_.enabled()) {
    // Kept until acknowledged: resent on resumption, or handed back to the router.
    sm_.sent({stanza, stanza ? std::string() : bytes});
    if (sm_.unackedCount() > config_->limits.sm_max_unacked) {
      log::warn("c2s ", jid_.full(), ": over ", config_->limits.sm_max_unacked,
                " unacknowledged stanzas, disconnecting");
      clean_close_ = true;
      out_queue_.clear();
      queued_bytes_ = 0;
      out_queue_.push_back(
          {"<stream:error><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
           "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'>Too many stanzas "
           "without acknowledgement: the client does not answer stream management requests."
           "</text></stream:error></stream:stream>",
           nullptr});
      closeAfterFlush();
      return;
    }
  }
  if (counted && queued_bytes_ + bytes.size() > config_->limits.send_queue_bytes) {
    // The client is not reading. Dropping it protects everyone else; the text says why.
    log::warn("c2s ", jid_.full(), ": send queue over ", config_->limits.send_queue_bytes,
              " bytes, disconnecting");
    clean_close_ = true;
    for (auto& o : out_queue_)
      if (o.stanza) unsent_.push_back(std::move(o.stanza));
    if (stanza) unsent_.push_back(std::move(stanza));
    out_queue_.clear();
    queued_bytes_ = 0;
    out_queue_.push_back(
        {"<stream:error><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
         "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'>Too much unread data: "
         "the client is not reading its stream.</text></stream:error></stream:stream>",
         nullptr});
    closeAfterFlush();
    return;
  }
  if (counted) queued_bytes_ += bytes.size();
  out_queue_.push_back({std::move(bytes), std::move(stanza)});
  write_signal_.cancel();
}

void C2sSession::closeAfterFlush() {
  write_signal_.cancel();
  if (close_after_flush_) return;
  close_after_flush_ = true;
  phase_ = Phase::Closing;
  // The reader may be waiting for bytes that never come and the writer for a socket that never
  // drains; the deadline ends both.
  deadline_timer_.expires_after(kFlushDeadline);
  asio::co_spawn(
      executor_, [self = shared_from_this()]() { return self->closeDeadline(); }, asio::detached);
}

awaitable<void> C2sSession::closeDeadline() {
  boost::system::error_code ec;
  co_await deadline_timer_.async_wait(asio::redirect_error(use_awaitable, ec));
  if (ec || writer_done_) co_return;
  log::info("c2s ", jid_.full(), " from ", peer_ip_,
            ": the client did not read its last bytes in time; closing the connection");
  closeSocket();
}

awaitable<void> C2sSession::writer() {
  auto self = shared_from_this();
  std::string batch;
  try {
    for (;;) {
      if (out_queue_.empty()) {
        if (close_after_flush_) break;
        if (phase_ == Phase::Closing) break;
        write_signal_.expires_at(asio::steady_timer::time_point::max());
        boost::system::error_code ec;
        co_await write_signal_.async_wait(asio::redirect_error(use_awaitable, ec));
        continue;
      }
      batch.clear();
      in_flight_.clear();
      while (!out_queue_.empty()) {
        batch += out_queue_.front().bytes;
        if (out_queue_.front().stanza) in_flight_.push_back(std::move(out_queue_.front().stanza));
        out_queue_.pop_front();
      }
      queued_bytes_ = 0;
      if (sm_.enabled() && sm_.unackedCount() > 0 && !ack_requested_ && !close_after_flush_) {
        // One request per batch: the client's <a/> frees what it has handled.
        batch += "<r xmlns='urn:xmpp:sm:3'/>";
        ack_requested_ = true;
      }
      co_await writeDirect(batch);
      in_flight_.clear();
      if (batch.capacity() > 65536) std::string().swap(batch);  // idle sessions stay small
    }
  } catch (const boost::system::system_error& e) {
    log::debug("c2s ", jid_.full(), ": write failed: ", e.code().message());
  }
  writer_done_ = true;
  writer_finished_.cancel();
  closeSocket();
}

void C2sSession::closeSocket() {
  boost::system::error_code ignored;
  lowestLayer().shutdown(Socket::shutdown_both, ignored);
  lowestLayer().close(ignored);
}

void C2sSession::deliver(std::shared_ptr<const xml::Element> stanza) {
  asio::post(executor_, [self = shared_from_this(), stanza = std::move(stanza)]() mutable {
    if (self->resumed_away_) {
      if (auto next = self->successor_.lock()) {
        next->deliver(std::move(stanza));
      } else {
        self->undeliverable({std::move(stanza)});
      }
      return;
    }
    if (self->resuming_) {
      self->resume_buffer_.push_back(std::move(stanza));
      return;
    }
    if (self->hibernating_) {
      // Kept for the client's return; counted as sent, so its h stays in step.
      self->sm_.sent({std::move(stanza), {}});
      if (self->sm_.unackedCount() > self->config_->limits.sm_max_unacked)
        self->hibernate_timer_.cancel();
      return;
    }
    if (self->phase_ != Phase::Bound) {
      self->undeliverable({std::move(stanza)});
      return;
    }
    std::string bytes;
    xml::serialize(*stanza, bytes, ns::kClient);
    self->deliverNow(std::move(bytes), std::move(stanza), /*counted=*/true);
  });
}

void C2sSession::deliverNow(std::string bytes, std::shared_ptr<const xml::Element> stanza,
                            bool counted) {
  if (csi_inactive_ && mayWait(*stanza)) {
    if (held_.full()) releaseHeld();
    held_.hold(std::move(bytes), std::move(stanza));
    return;
  }
  releaseHeld();  // what waited goes first: the client sees everything in order
  enqueue(std::move(bytes), std::move(stanza), counted);
}

void C2sSession::releaseHeld() {
  if (held_.empty()) return;
  for (auto& h : held_.take()) enqueue(std::move(h.bytes), std::move(h.stanza));
}

void C2sSession::deliverBacklog(std::vector<std::shared_ptr<const xml::Element>> stanzas) {
  asio::post(executor_, [self = shared_from_this(), stanzas = std::move(stanzas)]() mutable {
    if (self->resumed_away_ || self->resuming_ || self->hibernating_) {
      for (auto& stanza : stanzas) self->deliver(std::move(stanza));  // same rules, in order
      return;
    }
    if (self->phase_ != Phase::Bound) {
      self->undeliverable(std::move(stanzas));
      return;
    }
    for (auto& stanza : stanzas) {
      std::string bytes;
      xml::serialize(*stanza, bytes, ns::kClient);
      self->deliverNow(std::move(bytes), std::move(stanza), /*counted=*/false);
    }
  });
}

void C2sSession::undeliverable(std::vector<std::shared_ptr<const xml::Element>> stanzas) {
  std::vector<std::shared_ptr<const xml::Element>> messages;
  for (auto& stanza : stanzas) {
    if (stanza->name() == "message") {
      messages.push_back(std::move(stanza));
    } else if (stanza->name() == "iq") {
      // The requester learns now that the resource is gone instead of waiting for a timeout
      // (RFC 6120 §10.5.3.1: no such resource → <service-unavailable/>).
      auto from = Jid::parse(stanza->attrOr("from"));
      auto sender = from ? ctx_.registry().find(*from) : nullptr;
      ctx_.router().bounce(sender, *stanza, "service-unavailable",
                           "The resource you addressed is disconnecting.");
    }
  }
  if (messages.empty()) return;
  asio::co_spawn(
      executor_,
      [self = shared_from_this(), messages = std::move(messages)]() mutable -> awaitable<void> {
        co_await self->ctx_.router().redeliverUnsent(self, std::move(messages));
      },
      asio::detached);
}

void C2sSession::kick(std::string condition, std::string text) {
  asio::post(executor_, [self = shared_from_this(), condition, text]() {
    if (self->resumed_away_) return;
    // A dead-looking connection may come back (XEP-0198); anything else ends the session.
    if (condition != "connection-timeout") self->clean_close_ = true;
    if (self->hibernating_) {
      self->hibernate_timer_.cancel();  // the session ends now
      self->ctx_.registry().remove(self.get());
      return;
    }
    if (self->phase_ == Phase::Closing) return;
    std::string bytes = streamErrorXml(condition, text) + "</stream:stream>";
    self->enqueue(std::move(bytes));
    self->closeAfterFlush();
    // The registry entry goes now, so the replacing session is the only one found.
    self->ctx_.registry().remove(self.get());
  });
}

void C2sSession::armKeepalive(std::chrono::steady_clock::time_point at) {
  keepalive_timer_.expires_at(at);
  keepalive_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->onKeepalive();
  });
}

void C2sSession::onKeepalive() {
  if (phase_ != Phase::Bound) return;
  const auto idle = config_->limits.idle_ping_after;
  const auto timeout = config_->limits.idle_ping_timeout;
  const auto now = std::chrono::steady_clock::now();
  if (ping_outstanding_) {
    ping_outstanding_ = false;
    // Any bytes count as an answer: the pong, or anything else the client sent.
    if (last_read_ == pinged_at_) {
      log::info("c2s ", jid_.full(), " from ", peer_ip_, " sent nothing for ",
                (idle + timeout).count(), " s, not even an answer to a ping; closing it");
      kick("connection-timeout", "Your client did not answer a ping within " +
                                     std::to_string(timeout.count()) +
                                     " seconds, so the connection is taken to be dead.");
      return;
    }
  } else if (now >= last_read_ + idle) {
    xml::Element ping(std::string(ns::kClient), "iq");
    ping.setAttr("type", "get");
    ping.setAttr("id", "ping-" + randomHexId(8));
    ping.setAttr("from", domain_);
    ping.setAttr("to", jid_.full());
    ping.addChild("urn:xmpp:ping", "ping");
    enqueueStanzaBytes(xml::toString(ping, ns::kClient));
    pinged_at_ = last_read_;
    ping_outstanding_ = true;
    armKeepalive(now + timeout);
    return;
  }
  armKeepalive(last_read_ + idle);
}

awaitable<void> C2sSession::readLoop() {
  std::vector<xml::StreamEvent> events;
  for (;;) {
    std::string_view bytes = co_await readChunk();
    last_read_ = std::chrono::steady_clock::now();
    events.clear();
    bool ok = parser_.feed(bytes, events);
    for (auto& event : events) {
      Phase before = phase_;
      bool tls_before = tls_active_;
      if (!co_await onEvent(event)) co_return;
      // A stream restart (after STARTTLS or SASL success) discards whatever the client sent
      // after the element that caused it: those bytes belong to no stream (RFC 6120 §5.3.3).
      if (tls_active_ != tls_before || (before != Phase::PreBind && phase_ == Phase::PreBind)) {
        parser_.restart();
        ok = true;
        break;
      }
    }
    if (!ok) {
      co_await streamError(parser_.error().condition, parser_.error().text);
      co_return;
    }
    if (phase_ == Phase::Bound) {
      // Idle sessions are most sessions: between stanzas they keep neither Expat's state nor
      // the event vector.
      parser_.hibernate();
      std::vector<xml::StreamEvent>().swap(events);
    }
  }
}

awaitable<bool> C2sSession::onEvent(xml::StreamEvent& event) {
  switch (event.kind) {
    case xml::StreamEvent::Kind::Open:
      co_return co_await onStreamOpen(event.element);
    case xml::StreamEvent::Kind::Close:
      clean_close_ = true;  // the client ended the stream: nothing to resume
      co_await send("</stream:stream>");
      if (phase_ == Phase::Bound) phase_ = Phase::Closing;
      if (writer_started_) closeAfterFlush();
      co_return false;
    case xml::StreamEvent::Kind::Stanza:
      if (phase_ == Phase::Bound) {
        if (event.element.ns() == kSmNs) {
          co_await onSmElement(event.element);
        } else if (event.element.ns() == kCsiNs) {
          // XEP-0352: no answer; the state applies to what is delivered from now on.
          if (event.element.name() == "active") {
            csi_inactive_ = false;
            releaseHeld();
          } else if (event.element.name() == "inactive") {
            csi_inactive_ = true;
          }
        } else {
          co_await onStanza(std::move(event.element));
          if (sm_.enabled()) sm_.handled();
        }
        co_return phase_ != Phase::Closing;
      }
      co_return co_await onNegotiation(event.element);
  }
  co_return false;
}

awaitable<bool> C2sSession::onStreamOpen(const xml::Element& header) {
  if (header.name() != "stream" || header.ns() != xml::kStreamNs) {
    co_await streamError("invalid-namespace",
                         "The stream must be <stream:stream> in http://etherx.jabber.org/streams.");
    co_return false;
  }
  if (parser_.contentNamespace() != ns::kClient) {
    co_await streamError("invalid-namespace",
                         "The stream's default namespace must be jabber:client on this port.");
    co_return false;
  }
  std::string_view to = header.attrOr("to");
  auto c = config_;
  if (to.empty()) {
    domain_ = c->hosts.front();
  } else {
    auto jid = Jid::parse(to);
    if (!jid || !jid->isDomain() || !ctx_.isLocalDomain(jid->domain())) {
      domain_ = c->hosts.front();
      co_await streamError("host-unknown",
                           "This server does not serve the domain '" + std::string(to) + "'.");
      co_return false;
    }
    if (!domain_.empty() && domain_ != jid->domain()) {
      co_await streamError("host-unknown", "The domain changed during negotiation.");
      co_return false;
    }
    domain_ = jid->domain();
  }
  std::string_view version = header.attrOr("version");
  stream_id_ = randomHexId(12);
  std::string out =
      "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
      "xmlns:stream='http://etherx.jabber.org/streams' id='";
  out += stream_id_;
  out += "' from='";
  xml::appendEscapedAttr(out, domain_);
  out += "' version='1.0' xml:lang='en'>";
  header_sent_ = true;
  if (version.empty() || version.substr(0, 2) != "1.") {
    co_await send(std::move(out));
    co_await streamError("unsupported-version", "Parley speaks XMPP 1.0 (RFC 6120) only.");
    co_return false;
  }
  if (phase_ == Phase::Connected) {
    phase_ = (tls_active_ || !c->tls.require_starttls) ? Phase::PreAuth : Phase::PreTls;
  }
  // Header and features in one write: a login is several of these round trips.
  appendFeatures(out);
  co_await send(std::move(out));
  co_return true;
}

void C2sSession::appendFeatures(std::string& out) {
  xml::Element features(std::string(xml::kStreamNs), "features");
  auto addLimits = [&](size_t bytes) {
    auto& limits = features.addChild(std::string(kLimitsNs), "limits");
    limits.addChild(std::string(kLimitsNs), "max-bytes").addText(std::to_string(bytes));
  };
  if (phase_ == Phase::PreTls || (phase_ == Phase::PreAuth && !tls_active_)) {
    auto& starttls = features.addChild(std::string(kTlsNs), "starttls");
    if (config_->tls.require_starttls) starttls.addChild(std::string(kTlsNs), "required");
  }
  if (phase_ == Phase::PreAuth) {
    auto& mechs = features.addChild(std::string(kSaslNs), "mechanisms");
    bool plus = tls_active_;
    if (plus) {
      mechs.addChild(std::string(kSaslNs), "mechanism").addText("SCRAM-SHA-256-PLUS");
      mechs.addChild(std::string(kSaslNs), "mechanism").addText("SCRAM-SHA-1-PLUS");
    }
    mechs.addChild(std::string(kSaslNs), "mechanism").addText("SCRAM-SHA-256");
    mechs.addChild(std::string(kSaslNs), "mechanism").addText("SCRAM-SHA-1");
    if (tls_active_) mechs.addChild(std::string(kSaslNs), "mechanism").addText("PLAIN");
    if (plus) {
      // XEP-0440: which channel-binding types this connection supports.
      auto& cb = features.addChild("urn:xmpp:sasl-cb:0", "sasl-channel-binding");
      if (tlsExporterAvailable(tls_->native_handle()))
        cb.addChild("urn:xmpp:sasl-cb:0", "channel-binding").setAttr("type", "tls-exporter");
      cb.addChild("urn:xmpp:sasl-cb:0", "channel-binding").setAttr("type", "tls-server-end-point");
    }
    addLimits(config_->limits.pre_auth_stanza_bytes);
  } else if (phase_ == Phase::PreBind) {
    features.addChild(std::string(kBindNs), "bind");
    features.addChild(std::string(kSessionNs), "session")
        .addChild(std::string(kSessionNs), "optional");
    features.addChild("urn:xmpp:features:rosterver", "ver");
    features.addChild("urn:xmpp:features:pre-approval", "sub");
    features.addChild(std::string(kSmNs), "sm");
    features.addChild(std::string(kCsiNs), "csi");
    // XEP-0115 §6.3: the server's caps, so the client need not ask for its disco#info.
    if (auto domain = Jid::make("", domain_)) {
      features.addChild(xep::serverCapsElement(ctx_.router(), ctx_.modules(), *domain));
    }
    addLimits(config_->limits.max_stanza_bytes);
  }
  if (ctx_.modules().hasHooks(HookPoint::StreamFeatures)) {
    Jid account;
    if (phase_ == Phase::PreBind) {
      if (auto j = Jid::make(node_, domain_)) account = *j;
    }
    ctx_.modules().runStreamFeatures(account, features);
  }
  out += "<stream:features>";
  for (const auto& child : features.children()) {
    if (child.element) xml::serialize(*child.element, out, ns::kClient);
  }
  out += "</stream:features>";
}

awaitable<void> C2sSession::streamError(const std::string& condition, const std::string& text) {
  std::string out;
  if (!header_sent_) {
    out +=
        "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
        "xmlns:stream='http://etherx.jabber.org/streams' version='1.0' id='";
    out += stream_id_;
    out += "' from='";
    xml::appendEscapedAttr(out, domain_.empty() ? config_->hosts.front() : domain_);
    out += "'>";
    header_sent_ = true;
  }
  out += streamErrorXml(condition, text);
  out += "</stream:stream>";
  log::info("c2s ", peer_ip_, " ", jid_.empty() ? stream_id_ : jid_.full(), ": stream error ",
            condition, ": ", text);
  clean_close_ = true;
  if (writer_started_) {
    enqueue(std::move(out));
    closeAfterFlush();
    co_return;
  }
  phase_ = Phase::Closing;
  try {
    co_await writeDirect(out);
  } catch (const boost::system::system_error&) {
  }
}

awaitable<bool> C2sSession::onNegotiation(xml::Element& element) {
  const bool is_stanza =
      element.ns() == ns::kClient &&
      (element.name() == "iq" || element.name() == "message" || element.name() == "presence");
  switch (phase_) {
    case Phase::Connected:
      co_return false;  // the parser only yields stanzas after a header
    case Phase::PreTls:
      if (element.is("starttls", kTlsNs)) co_return co_await onStartTls();
      co_await streamError("policy-violation",
                           "This server requires STARTTLS before anything else: enable "
                           "encryption (TLS) in your client.");
      co_return false;
    case Phase::PreAuth:
      if (element.is("auth", kSaslNs)) co_return co_await onAuth(element);
      if (element.is("starttls", kTlsNs) && !tls_active_) co_return co_await onStartTls();
      if (is_stanza) {
        co_await streamError("not-authorized", "Authenticate (SASL) before sending stanzas.");
      } else {
        co_await streamError("unsupported-stanza-type",
                             "Expected <auth/> from urn:ietf:params:xml:ns:xmpp-sasl.");
      }
      co_return false;
    case Phase::SaslChallenge:
      if (element.is("response", kSaslNs)) co_return co_await onSaslResponse(element);
      if (element.is("abort", kSaslNs)) {
        scram_.reset();
        phase_ = Phase::PreAuth;
        co_await send(saslFailureElement("aborted", ""));
        co_return true;
      }
      co_await streamError("not-authorized", "Expected the SASL <response/> or <abort/>.");
      co_return false;
    case Phase::PreBind:
      if (element.is("iq", ns::kClient) && element.child("bind", kBindNs) != nullptr)
        co_return co_await onBind(element);
      if (element.is("resume", kSmNs)) co_return co_await onResume(element);
      if (element.is("enable", kSmNs)) {
        // XEP-0198 §3: enabling comes after binding.
        co_await send(
            "<failed xmlns='urn:xmpp:sm:3'><unexpected-request "
            "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text "
            "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>Bind a resource before enabling "
            "stream management.</text></failed>");
        co_return true;
      }
      co_await streamError("not-authorized", "Bind a resource before sending stanzas.");
      co_return false;
    case Phase::Bound:
    case Phase::Closing:
      break;
  }
  co_return false;
}

awaitable<bool> C2sSession::onStartTls() {
  co_await send("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  co_await startTls();
  phase_ = Phase::PreAuth;
  header_sent_ = false;
  co_return true;
}

awaitable<bool> C2sSession::onAuth(const xml::Element& auth) {
  std::string mechanism(auth.attrOr("mechanism"));
  std::string text = auth.text();
  std::optional<std::string> message =
      (text.empty() || text == "=") ? std::optional<std::string>("") : auth::base64Decode(text);
  if (!message) co_return co_await saslFailure("incorrect-encoding", "", "");
  sasl_mechanism_ = mechanism;

  std::chrono::seconds retry{0};
  if (!ctx_.throttle().allowed(peer_ip_, "", std::chrono::steady_clock::now(), &retry)) {
    co_await send(saslFailureElement("temporary-auth-failure",
                                     "Too many failed logins from your address; try again in " +
                                         std::to_string(retry.count()) + " seconds."));
    co_return true;
  }
  if (mechanism == "PLAIN") {
    if (!tls_active_) co_return co_await saslFailure("encryption-required", "", "");
    co_return co_await saslPlain(*message);
  }
  auth::ScramHash hash;
  bool plus = false;
  if (mechanism == "SCRAM-SHA-256" || mechanism == "SCRAM-SHA-256-PLUS") {
    hash = auth::ScramHash::Sha256;
  } else if (mechanism == "SCRAM-SHA-1" || mechanism == "SCRAM-SHA-1-PLUS") {
    hash = auth::ScramHash::Sha1;
  } else {
    co_await send(saslFailureElement("invalid-mechanism", "Supported: SCRAM-SHA-256, SCRAM-SHA-1"));
    co_return true;
  }
  plus = mechanism.ends_with("-PLUS");
  if (plus && !tls_active_) co_return co_await saslFailure("invalid-mechanism", "", "");
  // 'y' ("I support channel binding but you don't seem to") is a downgrade sign only if the
  // client could not have seen our -PLUS offer. A client that already tried -PLUS in this stream
  // with a binding type we lack (slixmpp's tls-unique under TLS 1.3) has seen it, so its
  // fallback is not a downgrade (RFC 5802 §6's concern is a stripped mechanism list).
  scram_.emplace(hash, plus, tls_active_ && !plus_type_unsupported_);
  auto first = scram_->parseClientFirst(*message);
  if (auto* failure = std::get_if<auth::SaslFailure>(&first)) {
    scram_.reset();
    co_return co_await saslFailure(failure->condition, failure->text, "");
  }
  auto& client_first = std::get<auth::ScramClientFirst>(first);
  cb_data_.clear();
  if (client_first.cb_flag == 'p') {
    cb_data_ = channelBinding(tls_->native_handle(), client_first.cb_name);
    if (cb_data_.empty()) {
      plus_type_unsupported_ = true;
      scram_.reset();
      co_return co_await saslFailure(
          "malformed-request", "Unsupported channel binding type " + client_first.cb_name, "");
    }
  }
  auto node = nodeprep(client_first.username);
  auto jid = node ? Jid::make(*node, domain_) : std::nullopt;
  std::string account = jid ? jid->full() : std::string();
  if (!client_first.authzid.empty() && client_first.authzid != account) {
    scram_.reset();
    co_return co_await saslFailure(
        "invalid-authzid", "You may only authorize as the account you log in with.", account);
  }
  if (!ctx_.throttle().allowed(peer_ip_, account, std::chrono::steady_clock::now(), &retry)) {
    scram_.reset();
    co_await send(
        saslFailureElement("temporary-auth-failure",
                           "Too many failed logins for this account from your address; try "
                           "again in " +
                               std::to_string(retry.count()) + " seconds."));
    co_return true;
  }
  std::optional<storage::StoredLogin> login;
  if (jid) login = ctx_.loginCache().find(account, hash);
  if (jid && !login) {
    const uint64_t generation = ctx_.loginCache().generation();
    auto job = [account, hash](pqxx::connection& c) {
      return storage::loadLogin(c, account, hash);
    };
    std::string db_error;
    try {
      login = co_await ctx_.db().run(std::move(job));
    } catch (const std::exception& e) {
      db_error = e.what();
    }
    if (!db_error.empty()) {
      scram_.reset();
      co_return co_await accountsUnavailable(account, db_error);
    }
    if (login) ctx_.loginCache().insert(account, hash, *login, generation);
  }
  auth::ScramCredentials creds;
  if (login) {
    creds = login->creds;
  } else {
    // An unknown user gets a plausible exchange and fails at the end like a wrong password, so
    // the server does not reveal which accounts exist.
    creds.hash = hash;
    creds.salt = auth::randomBytes(16);
    creds.iterations = config_->auth.scram_iterations;
    creds.stored_key = auth::randomBytes(hash == auth::ScramHash::Sha1 ? 20 : 32);
    creds.server_key = creds.stored_key;
  }
  sasl_account_ = account;
  sasl_account_known_ = login.has_value();
  sasl_account_disabled_ = login && login->disabled;
  std::string server_first = scram_->serverFirst(client_first, creds);
  phase_ = Phase::SaslChallenge;
  co_await send(saslElement("challenge", auth::base64Encode(server_first)));
  co_return true;
}

awaitable<bool> C2sSession::onSaslResponse(const xml::Element& response) {
  auto message = auth::base64Decode(response.text());
  phase_ = Phase::PreAuth;
  if (!message || !scram_) {
    scram_.reset();
    co_return co_await saslFailure("incorrect-encoding", "", sasl_account_);
  }
  auto result = scram_->clientFinal(*message, cb_data_);
  scram_.reset();
  if (auto* failure = std::get_if<auth::SaslFailure>(&result)) {
    co_return co_await saslFailure(failure->condition, failure->text, sasl_account_);
  }
  if (!sasl_account_known_) co_return co_await saslFailure("not-authorized", "", sasl_account_);
  if (sasl_account_disabled_) {
    co_await send(saslFailureElement("account-disabled",
                                     "This account is disabled; contact your administrator."));
    co_return true;
  }
  co_return co_await saslSuccess(std::get<std::string>(result));
}

awaitable<bool> C2sSession::saslPlain(const std::string& message) {
  // authzid NUL authcid NUL password (RFC 4616)
  size_t a = message.find('\0');
  size_t b = a == std::string::npos ? a : message.find('\0', a + 1);
  if (b == std::string::npos) co_return co_await saslFailure("malformed-request", "", "");
  std::string authzid = message.substr(0, a);
  std::string authcid = message.substr(a + 1, b - a - 1);
  auto password = auth::saslprep(message.substr(b + 1));
  auto node = nodeprep(authcid);
  auto jid = node ? Jid::make(*node, domain_) : std::nullopt;
  if (!jid || !password) co_return co_await saslFailure("not-authorized", "", "");
  std::string account = jid->full();
  if (!authzid.empty() && authzid != account)
    co_return co_await saslFailure("invalid-authzid", "", account);
  std::chrono::seconds retry{0};
  if (!ctx_.throttle().allowed(peer_ip_, account, std::chrono::steady_clock::now(), &retry)) {
    co_await send(saslFailureElement(
        "temporary-auth-failure",
        "Too many failed logins; try again in " + std::to_string(retry.count()) + " seconds."));
    co_return true;
  }
  // PBKDF2 is deliberately slow: it runs on a database thread, never on an io thread.
  enum class Outcome { Ok, Wrong, Disabled };
  auto job = [account, pw = *password](pqxx::connection& c) {
    auto login = storage::loadLogin(c, account, auth::ScramHash::Sha256);
    if (!login) return Outcome::Wrong;
    auto derived = auth::deriveCredentials(auth::ScramHash::Sha256, pw, login->creds.salt,
                                           login->creds.iterations);
    if (!auth::constantTimeEquals(derived.stored_key, login->creds.stored_key))
      return Outcome::Wrong;
    return login->disabled ? Outcome::Disabled : Outcome::Ok;
  };
  Outcome outcome = Outcome::Wrong;
  std::string db_error;
  try {
    outcome = co_await ctx_.db().run(std::move(job));
  } catch (const std::exception& e) {
    db_error = e.what();
  }
  if (!db_error.empty()) co_return co_await accountsUnavailable(account, db_error);
  sasl_account_ = account;
  if (outcome == Outcome::Wrong) co_return co_await saslFailure("not-authorized", "", account);
  if (outcome == Outcome::Disabled) {
    co_await send(saslFailureElement("account-disabled",
                                     "This account is disabled; contact your administrator."));
    co_return true;
  }
  co_return co_await saslSuccess("");
}

awaitable<bool> C2sSession::accountsUnavailable(const std::string& account,
                                                const std::string& why) {
  // Not the user's fault and not a guess: no throttling, and the client may simply retry.
  log::warn("c2s ", peer_ip_, ": cannot check the credentials of '", account, "': ", why);
  co_await send(saslFailureElement("temporary-auth-failure",
                                   "The account database is unreachable right now; please try "
                                   "again in a minute."));
  co_return true;
}

awaitable<bool> C2sSession::saslFailure(const std::string& condition, const std::string& text,
                                        const std::string& account) {
  // Only a wrong credential counts towards throttling; a client probing mechanisms or binding
  // types it cannot use is not guessing passwords.
  if (condition == "not-authorized") {
    ctx_.throttle().recordFailure(peer_ip_, account, std::chrono::steady_clock::now());
  }
  log::info("c2s ", peer_ip_, ": authentication failed for '", account, "': ", condition);
  phase_ = Phase::PreAuth;
  co_await send(saslFailureElement(condition, text));
  if (++sasl_failures_ >= kMaxSaslFailures) {
    co_await streamError("policy-violation", "Too many failed authentication attempts.");
    co_return false;
  }
  co_return true;
}

awaitable<bool> C2sSession::saslSuccess(const std::string& additional) {
  // sasl.authenticated: the credentials were right, a policy module may still refuse the
  // login (IM access revoked). Not a failed guess, so nothing is throttled.
  const auto& modules = ctx_.modules();
  if (modules.hasHooks(HookPoint::SaslAuthenticated)) {
    LoginInfo info{peer_ip_, sasl_mechanism_, tls_active_};
    Verdict verdict = modules.runLogin(*Jid::parse(sasl_account_), info);
    if (verdict.kind == Verdict::Kind::Reject) {
      // RFC 6120 §6.5 conditions only; a policy refusal reads as a disabled account.
      static constexpr std::string_view kSaslConditions[] = {
          "account-disabled", "credentials-expired", "not-authorized", "temporary-auth-failure"};
      std::string condition = "account-disabled";
      for (auto c : kSaslConditions) {
        if (verdict.condition == c) condition = verdict.condition;
      }
      log::info("c2s ", peer_ip_, ": login of '", sasl_account_,
                "' refused by policy: ", verdict.text);
      co_await send(saslFailureElement(condition, verdict.text));
      co_return true;
    }
  }
  ctx_.throttle().recordSuccess(peer_ip_, sasl_account_, std::chrono::steady_clock::now());
  node_ = Jid::parse(sasl_account_)->node();
  co_await send(saslElement("success", auth::base64Encode(additional)));
  phase_ = Phase::PreBind;
  header_sent_ = false;
  parser_.setLimits(parserLimits(*config_, true));
  co_return true;
}

awaitable<bool> C2sSession::onBind(const xml::Element& iq) {
  std::string id(iq.attrOr("id"));
  auto reply_error = [&](std::string_view condition, std::string_view text) {
    return xml::toString(router::makeStanzaError(iq, condition, text), ns::kClient);
  };
  if (iq.attrOr("type") != "set") {
    co_await send(reply_error("bad-request", "Resource binding uses type='set'."));
    co_return true;
  }
  std::string requested = iq.child("bind", kBindNs)->childText("resource", kBindNs);
  if (requested.empty()) requested = "parley-" + randomHexId(6);
  auto full = Jid::make(node_, domain_, requested);
  if (!full) {
    co_await send(reply_error("bad-request", "That resource name is not allowed."));
    co_return true;
  }
  jid_ = *full;
  // XEP-0191: the account's blocklist is in memory before anything can reach this session, and
  // stays there until close() lets go of it.
  bool blocklist_ready = true;
  try {
    co_await ctx_.blocklists().attach(jid_.bareString());
  } catch (const std::exception& e) {
    log::error("c2s ", jid_.full(), ": blocklist unavailable: ", e.what());
    blocklist_ready = false;
  }
  if (!blocklist_ready) {
    co_await send(reply_error("internal-server-error",
                              "The server cannot read your account's settings right now; please "
                              "retry."));
    co_return true;
  }
  auto self = shared_from_this();
  if (auto replaced = ctx_.registry().add(self)) {
    replaced->kick("conflict",
                   "Replaced by a new connection that logged in with the same resource.");
  }
  startBound();
  xml::Element result(std::string(ns::kClient), "iq");
  result.setAttr("type", "result");
  if (!id.empty()) result.setAttr("id", id);
  result.addChild(std::string(kBindNs), "bind")
      .addChild(std::string(kBindNs), "jid")
      .addText(jid_.full());
  enqueue(xml::toString(result, ns::kClient));
  log::info("c2s ", jid_.full(), " bound from ", peer_ip_, " (",
            tls_active_ ? SSL_get_version(tls_->native_handle()) : "plaintext", ", ",
            sasl_mechanism_, ")");
  // After the bind result is queued, so a module's first words (a policy notice) follow it.
  ctx_.modules().runSession(HookPoint::SessionOpened, jid_);
  co_return true;
}

void C2sSession::startBound() {
  phase_ = Phase::Bound;
  deadline_timer_.cancel();
  writer_started_ = true;
  asio::co_spawn(
      executor_, [self = shared_from_this()]() { return self->writer(); }, asio::detached);
  if (config_->limits.idle_ping_after.count() > 0) {
    armKeepalive(last_read_ + config_->limits.idle_ping_after);
  }
}

void C2sSession::bounceStanza(const xml::Element& stanza, std::string_view condition,
                              std::string_view text) {
  if (!router::mayBounce(stanza)) return;
  xml::Element error = router::makeStanzaError(stanza, condition, text);
  error.removeAttr("from");  // from the server itself
  enqueueStanzaBytes(xml::toString(error, ns::kClient));
}

awaitable<void> C2sSession::onStanza(xml::Element element) {
  const std::string& name = element.name();
  if (element.ns() != ns::kClient || (name != "message" && name != "presence" && name != "iq")) {
    co_await streamError("unsupported-stanza-type", "Unsupported element <" + name +
                                                        "/> in namespace '" + element.ns() + "'.");
    co_return;
  }
  // The server, never the client, says who a stanza is from (RFC 6120 §8.1.2.1).
  element.setAttr("from", jid_.full());
  Jid to;
  if (const std::string* to_text = element.attr("to")) {
    auto parsed = Jid::parse(*to_text);
    if (!parsed) {
      element.removeAttr("to");
      bounceStanza(element, "jid-malformed", "The 'to' address is not a valid JID.");
      co_return;
    }
    to = std::move(*parsed);
    element.setAttr("to", to.full());
  }
  if (auto shape = stanzaShapeError(element)) {
    bounceStanza(element, shape->condition, shape->text);
    co_return;
  }
  // Kept so the sender can be told if routing fails after the stanza was handed over.
  xml::Element envelope(element.ns(), element.name());
  for (const auto& a : element.attrs()) envelope.setAttr(a.name, a.value, a.ns);
  Stanza stanza{std::move(element), jid_, std::move(to), Origin::Client};
  std::string failure;
  try {
    co_await ctx_.router().fromClient(std::move(stanza), shared_from_this());
  } catch (const storage::DbOverloaded& e) {
    failure = e.what();
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (!failure.empty()) {
    // Never silently: the sender learns the stanza was not handled and may retry.
    log::error("c2s ", jid_.full(), ": routing failed: ", failure);
    bounceStanza(envelope, "internal-server-error",
                 "The server could not process this stanza right now; please retry.");
  }
}

}  // namespace parley::net
