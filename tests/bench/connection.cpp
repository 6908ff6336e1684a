#include "connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <openssl/ssl.h>

namespace parley::bench {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;
constexpr auto kTuple = asio::as_tuple(use_awaitable);

namespace {

bool hasMechanism(std::string_view features, std::string_view mechanism) {
  std::string needle = ">" + std::string(mechanism) + "<";
  return features.find(needle) != std::string_view::npos;
}

std::string describe(std::string_view stanza) {
  std::string text(stanza.substr(0, 300));
  return text;
}

}  // namespace

Connection::Connection(asio::any_io_executor executor, const ClientOptions& options)
    : executor_(executor),
      options_(options),
      stream_(executor, *options.tlsContext),
      timer_(executor) {}

Connection::~Connection() = default;

void Connection::setDeadline(std::chrono::milliseconds timeout) {
  deadline_ = Clock::now() + timeout;
  timer_.expires_at(deadline_);
  if (!watchdogRunning_) {
    watchdogRunning_ = true;
    asio::co_spawn(executor_, watchdog(shared_from_this()), asio::detached);
  }
}

void Connection::clearDeadline() {
  deadline_ = Clock::time_point::max();
  timer_.expires_at(deadline_);
}

awaitable<void> Connection::watchdog(std::shared_ptr<Connection> self) {
  while (!self->closed_) {
    if (self->deadline_ <= Clock::now()) {
      self->abort();
      break;
    }
    co_await self->timer_.async_wait(kTuple);
  }
  self->watchdogRunning_ = false;
}

void Connection::abort() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ec;
  stream_.next_layer().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  stream_.next_layer().close(ec);
  timer_.cancel();
}

void Connection::startStream() { scanner_.reset(); }

awaitable<void> Connection::write(std::string data) {
  boost::system::error_code ec;
  if (tls_) {
    std::tie(ec, std::ignore) = co_await asio::async_write(stream_, asio::buffer(data), kTuple);
  } else {
    std::tie(ec, std::ignore) =
        co_await asio::async_write(stream_.next_layer(), asio::buffer(data), kTuple);
  }
  if (ec) throw BenchError("write: " + ec.message());
}

awaitable<std::optional<std::string>> Connection::readStanza() {
  std::string out;
  for (;;) {
    switch (scanner_.next(out)) {
      case StanzaScanner::Status::kStanza:
        co_return out;
      case StanzaScanner::Status::kStreamEnd:
        co_return std::nullopt;
      case StanzaScanner::Status::kNeedMore:
        break;
    }
    if (closed_) throw BenchError("connection closed (timeout or abort)");
    boost::system::error_code ec;
    size_t n = 0;
    if (tls_) {
      std::tie(ec, n) = co_await stream_.async_read_some(asio::buffer(readBuf_), kTuple);
    } else {
      std::tie(ec, n) =
          co_await stream_.next_layer().async_read_some(asio::buffer(readBuf_), kTuple);
    }
    if (ec) {
      if (closed_) throw BenchError("timed out or aborted");
      throw BenchError("read: " + ec.message());
    }
    scanner_.append(readBuf_.data(), n);
  }
}

awaitable<std::string> Connection::expectStanza() {
  auto stanza = co_await readStanza();
  if (!stanza) throw BenchError("server closed the stream");
  if (elementName(*stanza) == "error" && stanza->find("<stream:error") == 0) {
    throw BenchError("stream error: " + describe(*stanza));
  }
  co_return std::move(*stanza);
}

awaitable<std::string> Connection::readFeatures() {
  startStream();
  co_await write(
      "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
      "xmlns:stream='http://etherx.jabber.org/streams' to='" +
      options_.domain + "' version='1.0'>");
  for (;;) {
    std::string stanza = co_await expectStanza();
    if (elementName(stanza) == "features") co_return stanza;
  }
}

awaitable<void> Connection::connectAndStart() {
  setDeadline(options_.timeout);
  asio::ip::tcp::resolver resolver(executor_);
  auto [rec, endpoints] = co_await resolver.async_resolve(options_.host, options_.port, kTuple);
  if (rec) throw BenchError("resolve: " + rec.message());
  auto [cec, endpoint] = co_await asio::async_connect(stream_.next_layer(), endpoints, kTuple);
  if (cec) throw BenchError("connect: " + cec.message());
  stream_.next_layer().set_option(asio::ip::tcp::no_delay(true));
}

awaitable<void> Connection::open(const std::string& user, const std::string& password,
                                 const std::string& resource) {
  co_await connectAndStart();
  std::string features = co_await readFeatures();

  if (options_.starttls) {
    if (features.find("<starttls") == std::string::npos) {
      throw BenchError("server does not offer STARTTLS");
    }
    co_await write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    std::string reply = co_await expectStanza();
    if (elementName(reply) != "proceed") throw BenchError("STARTTLS refused: " + describe(reply));
    SSL_set_tlsext_host_name(stream_.native_handle(), options_.domain.c_str());
    auto [hec] = co_await stream_.async_handshake(asio::ssl::stream_base::client, kTuple);
    if (hec) throw BenchError("TLS handshake: " + hec.message());
    tls_ = true;
    features = co_await readFeatures();
  }

  const std::string_view mechanism = mechanismName(options_.hash);
  if (!hasMechanism(features, mechanism)) {
    throw BenchError("server does not offer " + std::string(mechanism) + ": " + describe(features));
  }
  ScramClient scram(options_.hash, user, password);
  co_await write("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='" +
                 std::string(mechanism) + "'>" + base64Encode(scram.clientFirst()) + "</auth>");
  bool sentFinal = false;
  bool verified = false;
  for (;;) {
    std::string reply = co_await expectStanza();
    std::string_view name = elementName(reply);
    if (name == "failure") throw BenchError("authentication failed: " + describe(reply));
    auto payload = base64Decode(elementText(reply));
    if (!payload) throw BenchError("bad base64 in " + describe(reply));
    if (name == "challenge" && !sentFinal) {
      auto final = scram.clientFinal(*payload);
      if (!final) throw BenchError("bad server-first-message: " + *payload);
      co_await write("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + base64Encode(*final) +
                     "</response>");
      sentFinal = true;
    } else if (name == "challenge") {
      // Servers that send server-final-message as a challenge expect an empty response.
      verified = scram.verifyServerFinal(*payload);
      co_await write("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    } else if (name == "success") {
      if (!payload->empty()) verified = scram.verifyServerFinal(*payload);
      if (!verified) throw BenchError("server signature did not verify");
      break;
    }
  }

  features = co_await readFeatures();
  co_await write(
      "<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>" +
      resource + "</resource></bind></iq>");
  for (;;) {
    std::string reply = co_await expectStanza();
    if (elementName(reply) != "iq" || attributeValue(reply, "id") != "bind1") continue;
    if (attributeValue(reply, "type") != "result") throw BenchError("bind: " + describe(reply));
    auto jid = childText(reply, "jid");
    if (!jid) throw BenchError("bind result without jid");
    jid_ = std::string(*jid);
    break;
  }
  // RFC 3921 session establishment, only when the server still requires it.
  size_t session = features.find("urn:ietf:params:xml:ns:xmpp-session");
  if (session != std::string::npos && features.find("<optional", session) == std::string::npos) {
    co_await write(
        "<iq type='set' id='sess1'><session "
        "xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>");
    for (;;) {
      std::string reply = co_await expectStanza();
      if (elementName(reply) != "iq" || attributeValue(reply, "id") != "sess1") continue;
      if (attributeValue(reply, "type") != "result") {
        throw BenchError("session: " + describe(reply));
      }
      break;
    }
  }
  clearDeadline();
}

awaitable<bool> Connection::registerAccount(const std::string& user, const std::string& password) {
  co_await connectAndStart();
  std::string features = co_await readFeatures();
  if (options_.starttls) {
    co_await write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    std::string reply = co_await expectStanza();
    if (elementName(reply) != "proceed") throw BenchError("STARTTLS refused: " + describe(reply));
    SSL_set_tlsext_host_name(stream_.native_handle(), options_.domain.c_str());
    auto [hec] = co_await stream_.async_handshake(asio::ssl::stream_base::client, kTuple);
    if (hec) throw BenchError("TLS handshake: " + hec.message());
    tls_ = true;
    features = co_await readFeatures();
  }
  co_await write("<iq type='set' id='reg1'><query xmlns='jabber:iq:register'><username>" + user +
                 "</username><password>" + password + "</password></query></iq>");
  bool created = false;
  for (;;) {
    std::string reply = co_await expectStanza();
    if (elementName(reply) != "iq" || attributeValue(reply, "id") != "reg1") continue;
    if (attributeValue(reply, "type") == "result") {
      created = true;
    } else if (reply.find("<conflict") == std::string::npos) {
      throw BenchError("registration of " + user + " failed: " + describe(reply));
    }
    break;
  }
  co_await closeGracefully();
  co_return created;
}

awaitable<void> Connection::sync() {
  setDeadline(options_.timeout);
  const std::string id = "sync" + std::to_string(++nextId_);
  co_await write("<iq type='get' id='" + id + "' to='" + options_.domain +
                 "'><ping xmlns='urn:xmpp:ping'/></iq>");
  for (;;) {
    std::string reply = co_await expectStanza();
    if (elementName(reply) == "iq" && attributeValue(reply, "id") == id) break;
  }
  clearDeadline();
}

awaitable<void> Connection::closeGracefully() {
  if (closed_) co_return;
  setDeadline(std::chrono::milliseconds(5000));
  try {
    co_await write("</stream:stream>");
    while (co_await readStanza()) {
    }
  } catch (const BenchError&) {
    // Closing anyway.
  }
  abort();
}

void Connection::send(std::string data) {
  if (closed_) return;
  pending_ += data;
  if (!writing_) {
    writing_ = true;
    asio::co_spawn(executor_, writeLoop(shared_from_this()), asio::detached);
  }
}

awaitable<void> Connection::writeLoop(std::shared_ptr<Connection> self) {
  while (!self->pending_.empty() && !self->closed_) {
    self->inflight_.swap(self->pending_);
    self->pending_.clear();
    boost::system::error_code ec;
    if (self->tls_) {
      std::tie(ec, std::ignore) =
          co_await asio::async_write(self->stream_, asio::buffer(self->inflight_), kTuple);
    } else {
      std::tie(ec, std::ignore) = co_await asio::async_write(self->stream_.next_layer(),
                                                             asio::buffer(self->inflight_), kTuple);
    }
    self->inflight_.clear();
    if (ec) {
      self->abort();
      break;
    }
  }
  self->writing_ = false;
}

void Connection::startReader(std::function<void(std::string_view)> onStanza,
                             std::function<void()> onExit) {
  asio::co_spawn(executor_, readLoop(shared_from_this(), std::move(onStanza), std::move(onExit)),
                 asio::detached);
}

awaitable<void> Connection::readLoop(std::shared_ptr<Connection> self,
                                     std::function<void(std::string_view)> onStanza,
                                     std::function<void()> onExit) {
  try {
    while (auto stanza = co_await self->readStanza()) {
      if (elementName(*stanza) == "iq" && attributeValue(*stanza, "type") == "get" &&
          stanza->find("urn:xmpp:ping") != std::string::npos) {
        auto id = attributeValue(*stanza, "id");
        auto from = attributeValue(*stanza, "from");
        self->send("<iq type='result' id='" + std::string(id.value_or("")) + "'" +
                   (from ? " to='" + std::string(*from) + "'" : std::string()) + "/>");
        continue;
      }
      onStanza(*stanza);
    }
  } catch (const std::exception&) {
    // The connection ended; fall through.
  }
  self->abort();
  onExit();
}

void Connection::requestClose() {
  if (closed_) return;
  send("</stream:stream>");
  setDeadline(std::chrono::milliseconds(5000));
}

}  // namespace parley::bench
