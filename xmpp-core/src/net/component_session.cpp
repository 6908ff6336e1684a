#include "net/component_session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "net/component_handshake.hpp"
#include "net/stream_basics.hpp"
#include "parley/xml/serializer.hpp"
#include "router/router.hpp"
#include "router/stanza_errors.hpp"
#include "util/log.hpp"

namespace parley::net {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

namespace {

constexpr std::string_view kComponentNs = "jabber:component:accept";
// How long a closing connection's last bytes may take to reach the component.
constexpr std::chrono::seconds kFlushDeadline{5};

}  // namespace

ComponentSession::ComponentSession(router::ServerContext& ctx, Socket socket)
    : ctx_(ctx),
      config_(ctx.config()),
      executor_(socket.get_executor()),
      socket_(std::move(socket)),
      parser_(parserLimits(*config_, false)),
      write_signal_(executor_),
      writer_finished_(executor_),
      deadline_timer_(executor_) {
  boost::system::error_code ec;
  socket_.non_blocking(true, ec);  // readPlainNow() tries reads directly
  auto endpoint = socket_.remote_endpoint(ec);
  peer_ip_ = ec ? "unknown" : endpoint.address().to_string();
  stream_id_ = randomHexId();
  // The handshake and every stanza arrive as jabber:client elements from here on (the parser
  // maps the component namespace), so the router sees nothing it does not already know.
  parser_.mapNamespace(std::string(kComponentNs), std::string(ns::kClient));
}

ComponentSession::~ComponentSession() = default;

const char* ComponentSession::name() const {
  return domain_.empty() ? peer_ip_.c_str() : domain_.c_str();
}

void ComponentSession::start() {
  auto self = shared_from_this();
  asio::co_spawn(
      executor_, [self]() { return self->run(); }, asio::detached);
}

awaitable<void> ComponentSession::run() {
  auto self = shared_from_this();
  // The same deadline a client has to finish negotiating.
  deadline_timer_.expires_after(config_->limits.negotiation_timeout);
  asio::co_spawn(
      executor_, [self]() { return self->watchdog(); }, asio::detached);
  try {
    co_await readLoop();
  } catch (const boost::system::system_error& e) {
    if (!timed_out_) log::debug("component ", name(), ": ", e.code().message());
  } catch (const std::exception& e) {
    log::error("component ", name(), ": ", e.what());
  }
  if (timed_out_ && phase_ != Phase::Ready && phase_ != Phase::Closing) {
    try {
      co_await streamError("connection-timeout",
                           "The component did not complete its handshake in time.");
    } catch (...) {
    }
  }
  if (writer_started_ && !writer_done_) {
    // The writer flushes what is queued (a stream error, the closing tag), within a deadline.
    close_after_flush_ = true;
    phase_ = Phase::Closing;
    write_signal_.cancel();
    writer_finished_.expires_after(kFlushDeadline);
    boost::system::error_code ec;
    co_await writer_finished_.async_wait(asio::redirect_error(use_awaitable, ec));
  }
  deadline_timer_.cancel();
  phase_ = Phase::Closing;
  closeSocket();
  write_signal_.cancel();
  if (!attached_) co_return;
  ctx_.components().detach(domain_, this);
  // What never reached the component: its senders learn it was not delivered.
  for (auto& stanza : in_flight_) unsent_.push_back(std::move(stanza));
  for (auto& o : out_queue_)
    if (o.stanza) unsent_.push_back(std::move(o.stanza));
  out_queue_.clear();
  for (const auto& stanza : unsent_) {
    ctx_.router().bounceToSender(*stanza, "service-unavailable",
                                 "The external component disconnected before it received this.");
  }
  log::info("component ", domain_, " from ", peer_ip_, " disconnected");
}

awaitable<void> ComponentSession::watchdog() {
  auto self = shared_from_this();
  boost::system::error_code ec;
  co_await deadline_timer_.async_wait(asio::redirect_error(use_awaitable, ec));
  if (ec || phase_ == Phase::Ready || phase_ == Phase::Closing) co_return;
  timed_out_ = true;
  boost::system::error_code ignored;
  socket_.cancel(ignored);
}

awaitable<void> ComponentSession::readLoop() {
  std::vector<xml::StreamEvent> events;
  for (;;) {
    boost::system::error_code ec;
    std::string_view bytes = readPlainNow(socket_, ec);  // see there for why before the wait
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      co_await socket_.async_wait(Socket::wait_read, use_awaitable);
      continue;
    }
    if (ec) throw boost::system::system_error(ec);
    events.clear();
    bool ok = parser_.feed(bytes, events);  // before the next suspension: `bytes` is borrowed
    for (auto& event : events) {
      if (!co_await onEvent(event)) co_return;
    }
    if (!ok) {
      co_await streamError(parser_.error().condition, parser_.error().text);
      co_return;
    }
  }
}

awaitable<bool> ComponentSession::onEvent(xml::StreamEvent& event) {
  switch (event.kind) {
    case xml::StreamEvent::Kind::Open:
      co_return co_await onStreamOpen(event.element);
    case xml::StreamEvent::Kind::Close:
      if (writer_started_) {
        enqueue("</stream:stream>");
        closeAfterFlush();
      } else {
        phase_ = Phase::Closing;
        co_await writeDirect("</stream:stream>");
      }
      co_return false;
    case xml::StreamEvent::Kind::Stanza:
      if (phase_ == Phase::Ready) co_return co_await onStanza(std::move(event.element));
      if (phase_ == Phase::Handshake) co_return co_await onHandshake(event.element);
      co_return false;  // the parser yields nothing before a header
  }
  co_return false;
}

std::string ComponentSession::streamHeader() const {
  // No version='1.0' and no features: XEP-0114 predates both (§3).
  std::string out =
      "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' "
      "xmlns:stream='http://etherx.jabber.org/streams' id='";
  out += stream_id_;
  out += "' from='";
  xml::appendEscapedAttr(out, domain_.empty() ? config_->hosts.front() : domain_);
  out += "'>";
  return out;
}

awaitable<bool> ComponentSession::onStreamOpen(const xml::Element& header) {
  if (phase_ != Phase::Connected) {
    co_await streamError("invalid-xml", "A component stream has only one header.");
    co_return false;
  }
  if (header.name() != "stream" || header.ns() != xml::kStreamNs) {
    co_await streamError("invalid-namespace",
                         "The stream must be <stream:stream> in http://etherx.jabber.org/streams.");
    co_return false;
  }
  if (parser_.contentNamespace() != kComponentNs) {
    co_await streamError("invalid-namespace",
                         "This port serves external components (XEP-0114): the stream's default "
                         "namespace must be jabber:component:accept.");
    co_return false;
  }
  // XEP-0114 §3: 'to' names the component, and only a configured one is served. The
  // configuration in force decides, so a reload can add a component or change its secret.
  const std::string requested(header.attrOr("to"));
  auto prepared = nameprep(requested);
  auto config = ctx_.config();
  for (const auto& component : config->components) {
    if (prepared && component.domain == *prepared) {
      domain_ = component.domain;
      secret_ = component.secret;
    }
  }
  if (domain_.empty()) {
    log::info("component ", peer_ip_, ": refused unknown component domain '", requested, "'");
    co_await streamError("host-unknown",
                         "No external component '" + requested + "' is configured on this server.");
    co_return false;
  }
  phase_ = Phase::Handshake;
  header_sent_ = true;
  co_await writeDirect(streamHeader());
  co_return true;
}

awaitable<bool> ComponentSession::onHandshake(const xml::Element& handshake) {
  if (!handshake.is("handshake", ns::kClient)) {
    co_await streamError("not-authorized", "Authenticate with <handshake/> (XEP-0114) first.");
    co_return false;
  }
  // Guessing secrets is throttled like guessing passwords: per address and per component.
  const std::string account = "component:" + domain_;
  const auto now = std::chrono::steady_clock::now();
  std::chrono::seconds retry{0};
  if (!ctx_.throttle().allowed(peer_ip_, account, now, &retry)) {
    co_await streamError("not-authorized", "Too many failed handshakes; try again in " +
                                               std::to_string(retry.count()) + " seconds.");
    co_return false;
  }
  if (!componentHandshakeMatches(handshake.text(), stream_id_, secret_)) {
    ctx_.throttle().recordFailure(peer_ip_, account, now);
    log::warn("component ", domain_, " from ", peer_ip_, ": wrong handshake");
    co_await streamError("not-authorized",
                         "The handshake does not match the secret configured for " + domain_ + ".");
    co_return false;
  }
  ctx_.throttle().recordSuccess(peer_ip_, account, now);
  if (auto parsed = Jid::parse(domain_)) jid_ = *parsed;
  // XEP-0114 §3 lets the server refuse a name it will not serve (with <conflict/>, as Prosody
  // does): the connection already serving the domain keeps it, the newcomer goes.
  if (!ctx_.components().attach(domain_, shared_from_this())) {
    log::warn("component ", domain_, " from ", peer_ip_,
              ": refused, another connection serves this domain");
    co_await streamError("conflict", "Another connection already serves " + domain_ + ".");
    co_return false;
  }
  attached_ = true;
  phase_ = Phase::Ready;
  deadline_timer_.cancel();
  parser_.setLimits(parserLimits(*config_, true));
  writer_started_ = true;
  asio::co_spawn(
      executor_, [self = shared_from_this()]() { return self->writer(); }, asio::detached);
  enqueue("<handshake/>");
  log::info("component ", domain_, " connected from ", peer_ip_);
  co_return true;
}

awaitable<bool> ComponentSession::onStanza(xml::Element element) {
  const std::string& kind = element.name();
  if (element.ns() != ns::kClient || (kind != "message" && kind != "presence" && kind != "iq")) {
    co_await streamError("unsupported-stanza-type", "Unsupported element <" + kind +
                                                        "/> in namespace '" + element.ns() + "'.");
    co_return false;
  }
  if (!ctx_.router().isComponentDomain(domain_)) {
    // A reload retired this component: it no longer speaks for the domain.
    co_await streamError("host-gone",
                         "The component " + domain_ + " is no longer configured on this server.");
    co_return false;
  }
  // XEP-0114 §3: every stanza carries 'from' and 'to', and 'from' is at the component's domain.
  const std::string* from_text = element.attr("from");
  const std::string* to_text = element.attr("to");
  if (from_text == nullptr || to_text == nullptr) {
    co_await streamError("improper-addressing",
                         "Every stanza from a component needs both 'from' and 'to'.");
    co_return false;
  }
  auto from = Jid::parse(*from_text);
  if (!from || from->domain() != domain_) {
    co_await streamError("invalid-from", "'" + *from_text + "' is not an address at " + domain_ +
                                             ", the only domain this component may speak for.");
    co_return false;
  }
  element.setAttr("from", from->full());
  auto to = Jid::parse(*to_text);
  if (!to) {
    element.removeAttr("to");
    bounceStanza(element, "jid-malformed", "The 'to' address is not a valid JID.");
    co_return true;
  }
  element.setAttr("to", to->full());
  if (auto shape = stanzaShapeError(element)) {
    bounceStanza(element, shape->condition, shape->text);
    co_return true;
  }
  // Kept so the sender can be told if routing fails after the stanza was handed over.
  xml::Element envelope(element.ns(), element.name());
  for (const auto& a : element.attrs()) envelope.setAttr(a.name, a.value, a.ns);
  Stanza stanza{std::move(element), std::move(*from), std::move(*to), Origin::Component};
  std::string failure;
  try {
    co_await ctx_.router().fromComponent(std::move(stanza), shared_from_this());
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (!failure.empty()) {
    log::error("component ", domain_, ": routing failed: ", failure);
    bounceStanza(envelope, "internal-server-error",
                 "The server could not process this stanza right now; please retry.");
  }
  co_return phase_ != Phase::Closing;
}

void ComponentSession::bounceStanza(const xml::Element& stanza, std::string_view condition,
                                    std::string_view text) {
  if (!router::mayBounce(stanza)) return;
  enqueue(xml::toString(router::makeStanzaError(stanza, condition, text), ns::kClient));
}

void ComponentSession::deliver(std::shared_ptr<const xml::Element> stanza) {
  asio::post(executor_, [self = shared_from_this(), stanza = std::move(stanza)]() mutable {
    if (self->phase_ != Phase::Ready) {
      self->ctx_.router().bounceToSender(*stanza, "service-unavailable",
                                         "The external component is disconnecting.");
      return;
    }
    // jabber:client elements are written without a namespace, so on this stream they read as
    // jabber:component:accept: the mapping the parser applies, in reverse.
    std::string bytes;
    xml::serialize(*stanza, bytes, ns::kClient);
    self->enqueue(std::move(bytes), std::move(stanza));
  });
}

void ComponentSession::deliverBacklog(std::vector<std::shared_ptr<const xml::Element>> stanzas) {
  for (auto& stanza : stanzas) deliver(std::move(stanza));
}

void ComponentSession::kick(std::string condition, std::string text) {
  asio::post(executor_, [self = shared_from_this(), condition, text]() {
    if (self->phase_ != Phase::Ready) return;
    self->enqueue(streamErrorXml(condition, text) + "</stream:stream>");
    self->closeAfterFlush();
  });
}

awaitable<void> ComponentSession::writeDirect(std::string bytes) {
  co_await asio::async_write(socket_, asio::buffer(bytes), use_awaitable);
}

void ComponentSession::enqueue(std::string bytes, std::shared_ptr<const xml::Element> stanza) {
  if (phase_ == Phase::Closing) {
    if (stanza) unsent_.push_back(std::move(stanza));
    return;
  }
  if (queued_bytes_ + bytes.size() > config_->limits.send_queue_bytes) {
    // The component is not reading: dropping it protects everyone else; the text says why.
    log::warn("component ", domain_, ": send queue over ", config_->limits.send_queue_bytes,
              " bytes, disconnecting");
    for (auto& o : out_queue_)
      if (o.stanza) unsent_.push_back(std::move(o.stanza));
    if (stanza) unsent_.push_back(std::move(stanza));
    out_queue_.clear();
    queued_bytes_ = 0;
    out_queue_.push_back(
        {streamErrorXml("policy-violation",
                        "Too much unread data: the component is not reading its stream.") +
             "</stream:stream>",
         nullptr});
    closeAfterFlush();
    return;
  }
  queued_bytes_ += bytes.size();
  out_queue_.push_back({std::move(bytes), std::move(stanza)});
  write_signal_.cancel();
}

void ComponentSession::closeAfterFlush() {
  write_signal_.cancel();
  if (close_after_flush_) return;
  close_after_flush_ = true;
  phase_ = Phase::Closing;
  // The reader may wait for bytes that never come and the writer for a socket that never
  // drains; the deadline ends both.
  deadline_timer_.expires_after(kFlushDeadline);
  deadline_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->closeSocket();
  });
}

awaitable<void> ComponentSession::writer() {
  auto self = shared_from_this();
  std::string batch;
  try {
    for (;;) {
      if (out_queue_.empty()) {
        if (close_after_flush_ || phase_ == Phase::Closing) break;
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
      co_await asio::async_write(socket_, asio::buffer(batch), use_awaitable);
      in_flight_.clear();
      if (batch.capacity() > 65536) std::string().swap(batch);
    }
  } catch (const boost::system::system_error& e) {
    log::debug("component ", domain_, ": write failed: ", e.code().message());
  }
  writer_done_ = true;
  writer_finished_.cancel();
  closeSocket();
}

awaitable<void> ComponentSession::streamError(std::string condition, std::string text) {
  std::string out;
  if (!header_sent_) {
    out += streamHeader();  // XEP-0114 §3: header errors come with our header (RFC 6120 §4.9.1)
    header_sent_ = true;
  }
  out += streamErrorXml(condition, text);
  out += "</stream:stream>";
  log::info("component ", name(), " from ", peer_ip_, ": stream error ", condition, ": ", text);
  if (writer_started_) {
    enqueue(std::move(out));
    closeAfterFlush();
    co_return;
  }
  phase_ = Phase::Closing;
  try {
    co_await writeDirect(std::move(out));
  } catch (const boost::system::system_error&) {
  }
}

void ComponentSession::closeSocket() {
  boost::system::error_code ignored;
  socket_.shutdown(Socket::shutdown_both, ignored);
  socket_.close(ignored);
}

}  // namespace parley::net
