#pragma once
// One XEP-0114 external component connection (jabber:component:accept): the component names
// its domain in the stream header, proves the shared secret with <handshake/>, and from then on
// sends stanzas from any address at its domain and receives every stanza addressed to one.
//
// To the router it is a session like a client's (deliver(), kick(); jid() is the component's
// domain), so errors and replies find their way back to it the same way. Everything runs on the
// connection's strand; other sessions reach it only through deliver() and kick(), which post.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "router/client_session.hpp"
#include "router/server_context.hpp"
#include "xml/stream_parser.hpp"

namespace parley::net {

class ComponentSession final : public router::ClientSession,
                               public std::enable_shared_from_this<ComponentSession> {
 public:
  using Socket = boost::asio::ip::tcp::socket;

  ComponentSession(router::ServerContext& ctx, Socket socket);
  ~ComponentSession() override;

  void start();

  void deliver(std::shared_ptr<const xml::Element> stanza) override;
  void deliverBacklog(std::vector<std::shared_ptr<const xml::Element>> stanzas) override;
  void kick(std::string condition, std::string text) override;

 private:
  enum class Phase {
    Connected,  // waiting for the stream header
    Handshake,  // header answered, waiting for <handshake/>
    Ready,      // authenticated: stanzas flow both ways
    Closing,
  };

  boost::asio::awaitable<void> run();
  boost::asio::awaitable<void> watchdog();
  boost::asio::awaitable<void> readLoop();
  boost::asio::awaitable<void> writer();

  // Each returns false when the stream must close.
  boost::asio::awaitable<bool> onEvent(xml::StreamEvent& event);
  boost::asio::awaitable<bool> onStreamOpen(const xml::Element& header);
  boost::asio::awaitable<bool> onHandshake(const xml::Element& handshake);
  boost::asio::awaitable<bool> onStanza(xml::Element element);

  // Before the handshake succeeds, bytes go straight to the socket; after, through the queue.
  boost::asio::awaitable<void> writeDirect(std::string bytes);
  void enqueue(std::string bytes, std::shared_ptr<const xml::Element> stanza = nullptr);
  // Sends a stream error (with our header first if the component never got one) and closes.
  boost::asio::awaitable<void> streamError(std::string condition, std::string text);
  // Starts closing: the queued bytes get kFlushDeadline to leave, then the socket is closed.
  void closeAfterFlush();
  void bounceStanza(const xml::Element& stanza, std::string_view condition, std::string_view text);
  std::string streamHeader() const;
  void closeSocket();
  const char* name() const;  // for logs: the domain once known

  router::ServerContext& ctx_;
  std::shared_ptr<const config::Config> config_;  // the configuration this connection began with
  boost::asio::any_io_executor executor_;
  Socket socket_;
  xml::StreamParser parser_;
  Phase phase_ = Phase::Connected;
  std::string peer_ip_;
  std::string stream_id_;
  std::string domain_;  // the component's, from the header
  std::string secret_;  // the configured secret for domain_
  bool header_sent_ = false;
  bool attached_ = false;  // registered in ctx_.components() as the link for domain_
  bool timed_out_ = false;

  struct Outgoing {
    std::string bytes;
    std::shared_ptr<const xml::Element> stanza;  // null for stream-level bytes
  };
  std::deque<Outgoing> out_queue_;
  size_t queued_bytes_ = 0;
  std::vector<std::shared_ptr<const xml::Element>> in_flight_;  // in the write being performed
  std::vector<std::shared_ptr<const xml::Element>> unsent_;     // dropped from an overfull queue
  bool writer_started_ = false;
  bool writer_done_ = false;
  bool close_after_flush_ = false;
  boost::asio::steady_timer write_signal_;
  boost::asio::steady_timer writer_finished_;  // cancelled by the writer when it ends
  boost::asio::steady_timer deadline_timer_;   // the handshake deadline, then the flush deadline
};

}  // namespace parley::net
