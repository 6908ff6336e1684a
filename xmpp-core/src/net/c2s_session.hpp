#pragma once
// One client connection (RFC 6120): stream negotiation (STARTTLS or direct TLS, SASL, resource
// binding), then stanzas to the router and deliveries back to the client. Everything runs on the
// connection's strand; other sessions reach it only through deliver() and kick(), which post.
//
// Reading and writing are separate coroutines once the session is bound, so a client that stops
// reading never holds up its own reads, let alone another session: its queue grows up to
// limits.send_queue_bytes, then it is disconnected.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "auth/scram.hpp"
#include "net/client_state.hpp"
#include "net/stream_management.hpp"
#include "router/client_session.hpp"
#include "router/server_context.hpp"
#include "xml/stream_parser.hpp"

namespace parley::net {

class C2sSession final : public router::ClientSession,
                         public std::enable_shared_from_this<C2sSession> {
 public:
  using Socket = boost::asio::ip::tcp::socket;

  C2sSession(router::ServerContext& ctx, Socket socket,
             std::shared_ptr<boost::asio::ssl::context> tls, bool direct_tls);
  ~C2sSession() override;

  void start();

  void deliver(std::shared_ptr<const xml::Element> stanza) override;
  void deliverBacklog(std::vector<std::shared_ptr<const xml::Element>> stanzas) override;
  void kick(std::string condition, std::string text) override;

 private:
  enum class Phase {
    Connected,      // waiting for the first stream header
    PreTls,         // header seen, TLS not yet up
    PreAuth,        // TLS (or plaintext allowed), SASL not done
    SaslChallenge,  // SCRAM server-first sent, waiting for <response/>
    PreBind,        // authenticated, no resource yet
    Bound,          // stanzas flow
    Closing,
  };

  boost::asio::awaitable<void> run();
  boost::asio::awaitable<void> readLoop();
  boost::asio::awaitable<void> writer();
  boost::asio::awaitable<void> watchdog();
  // The next bytes from the client; valid until the caller next suspends.
  boost::asio::awaitable<std::string_view> readChunk();
  boost::asio::awaitable<void> startTls();
  Socket& lowestLayer();
  boost::asio::awaitable<void> writeDirect(const std::string& bytes);
  // Sends during negotiation (direct write) or after binding (queued).
  boost::asio::awaitable<void> send(std::string bytes);
  // `counted` bytes are held against limits.send_queue_bytes (see deliverBacklog).
  void enqueue(std::string bytes, std::shared_ptr<const xml::Element> stanza = nullptr,
               bool counted = true);
  // A stanza the session itself produced (an error reply, a ping): counted for XEP-0198.
  void enqueueStanzaBytes(std::string bytes);
  void enqueueImpl(std::string bytes, std::shared_ptr<const xml::Element> stanza, bool counted,
                   bool is_stanza);
  // Starts closing: the queued bytes (ending with a stream error) get kFlushDeadline to reach
  // the client, then the socket is closed whatever the writer and reader are waiting for.
  void closeAfterFlush();
  boost::asio::awaitable<void> closeDeadline();
  // XEP-0199: pings a bound client that has sent nothing for limits.idle_ping_after and closes
  // it with <connection-timeout/> if it stays silent for limits.idle_ping_timeout more. A timer
  // callback rather than a coroutine: a frame per idle session cost about 1.3 KiB each.
  void armKeepalive(std::chrono::steady_clock::time_point at);
  void onKeepalive();
  // A stanza that reached this session after it started closing: messages go back to the
  // router, iq requests are answered for the resource that is leaving.
  void undeliverable(std::vector<std::shared_ptr<const xml::Element>> stanzas);

  // Returns false when the stream must close.
  boost::asio::awaitable<bool> onEvent(xml::StreamEvent& event);
  boost::asio::awaitable<bool> onStreamOpen(const xml::Element& header);
  boost::asio::awaitable<bool> onNegotiation(xml::Element& element);
  boost::asio::awaitable<bool> onStartTls();
  boost::asio::awaitable<bool> onAuth(const xml::Element& auth);
  boost::asio::awaitable<bool> onSaslResponse(const xml::Element& response);
  boost::asio::awaitable<bool> onBind(const xml::Element& iq);
  boost::asio::awaitable<void> onStanza(xml::Element element);
  // Stanzas flow from here on: the writer starts, the negotiation deadline ends, idle pings
  // begin (after a bind, or a resumption).
  void startBound();

  boost::asio::awaitable<bool> saslPlain(const std::string& message);
  // The credentials could not be looked up (PostgreSQL unreachable or overloaded): a
  // temporary-auth-failure the client may retry, rather than a dropped connection.
  boost::asio::awaitable<bool> accountsUnavailable(const std::string& account,
                                                   const std::string& why);
  boost::asio::awaitable<bool> saslFailure(const std::string& condition, const std::string& text,
                                           const std::string& account);
  boost::asio::awaitable<bool> saslSuccess(const std::string& additional);
  // Sends a stream error (and our header first if the client never got one) and closes.
  boost::asio::awaitable<void> streamError(const std::string& condition, const std::string& text);
  void appendFeatures(std::string& out);
  void bounceStanza(const xml::Element& stanza, std::string_view condition, std::string_view text);
  void closeSocket();

  // XEP-0352: queues a delivery, or holds it while the client is inactive.
  void deliverNow(std::string bytes, std::shared_ptr<const xml::Element> stanza, bool counted);
  void releaseHeld();

  // XEP-0198 (net/c2s_stream_management.cpp).
  struct Handover;
  boost::asio::awaitable<void> onSmElement(const xml::Element& element);
  boost::asio::awaitable<bool> onResume(const xml::Element& resume);
  // Runs on this (old) session's strand: gives its state to `successor` and steps aside.
  boost::asio::awaitable<Handover> handOver(std::shared_ptr<C2sSession> successor,
                                            uint32_t client_h);
  // After the connection died: waits for a resumption (true: resumed elsewhere, nothing left to
  // clean up) or the timeout (false).
  boost::asio::awaitable<bool> hibernate();
  bool shouldHibernate() const;
  // Everything not acknowledged, as the router's stanzas (for another resource or offline).
  std::vector<std::shared_ptr<const xml::Element>> takeUnackedStanzas();
  void forgetResumption();

  router::ServerContext& ctx_;
  std::shared_ptr<const config::Config> config_;  // the configuration this session started with
  boost::asio::any_io_executor executor_;         // the connection's strand
  Socket socket_;                                 // the connection until TLS starts
  std::unique_ptr<boost::asio::ssl::stream<Socket>> tls_;  // owns the socket once TLS is up
  std::unique_ptr<char[]> tls_buffer_;
  std::shared_ptr<boost::asio::ssl::context> tls_context_;
  bool direct_tls_;
  bool tls_active_ = false;
  Phase phase_ = Phase::Connected;
  bool header_sent_ = false;
  bool writer_started_ = false;
  bool close_after_flush_ = false;
  bool timed_out_ = false;
  std::string peer_ip_;
  std::string stream_id_;
  std::string domain_;
  std::string node_;  // authenticated account's node

  xml::StreamParser parser_;

  // SASL state
  std::optional<auth::ScramServer> scram_;
  std::string sasl_account_;
  std::string sasl_mechanism_;  // logged at bind: which mechanism this login used
  std::string cb_data_;
  bool sasl_account_known_ = false;
  bool plus_type_unsupported_ = false;  // the client tried -PLUS with a binding we lack
  bool sasl_account_disabled_ = false;
  unsigned sasl_failures_ = 0;

  // Outgoing queue (after binding). Stanzas keep their element so that messages still queued
  // when the connection dies can be handed back to the router instead of being lost.
  struct Outgoing {
    std::string bytes;
    std::shared_ptr<const xml::Element> stanza;
  };
  std::deque<Outgoing> out_queue_;
  size_t queued_bytes_ = 0;
  std::vector<std::shared_ptr<const xml::Element>> in_flight_;  // in the write being performed
  std::vector<std::shared_ptr<const xml::Element>> unsent_;
  boost::asio::steady_timer write_signal_;
  boost::asio::steady_timer writer_finished_;  // cancelled by the writer when it ends
  bool writer_done_ = false;
  boost::asio::steady_timer deadline_timer_;   // negotiation until bound, then the flush deadline
  boost::asio::steady_timer keepalive_timer_;  // idle pings, once bound
  std::chrono::steady_clock::time_point last_read_;  // when the client last sent anything
  std::chrono::steady_clock::time_point pinged_at_;  // last_read_ when the ping went out
  bool ping_outstanding_ = false;

  // XEP-0198 stream management.
  StreamManagement sm_;
  bool ack_requested_ = false;  // an <r/> is out and its <a/> has not come back
  bool clean_close_ = false;    // closed on purpose (stream end, error, kick): no resumption
  bool hibernating_ = false;    // connection gone, session kept for sm_resume_timeout
  bool resumed_away_ = false;   // a new connection took this session over
  bool resuming_ = false;       // this connection is taking over a hibernating session
  std::weak_ptr<C2sSession> successor_;  // where deliveries go once resumed_away_
  std::vector<std::shared_ptr<const xml::Element>> resume_buffer_;  // arrived while resuming_
  boost::asio::steady_timer hibernate_timer_;

  // XEP-0352 client state indication.
  bool csi_inactive_ = false;
  HeldStanzas held_{kMaxHeldStanzas};
  static constexpr size_t kMaxHeldStanzas = 200;
};

}  // namespace parley::net
