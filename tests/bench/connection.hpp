// One client-to-server XMPP connection for the load generator: TCP (optionally upgraded with
// STARTTLS), SCRAM authentication, resource binding, and a queued writer plus an optional
// background reader for the steady state. All operations of one Connection run on one
// single-threaded io_context, so it needs no locking.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "scram_client.hpp"
#include "stanza_scanner.hpp"

namespace parley::bench {

struct BenchError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ClientOptions {
  std::string host = "127.0.0.1";
  std::string port = "5222";
  std::string domain = "localhost";
  bool starttls = false;
  ScramHash hash = ScramHash::kSha1;
  std::chrono::milliseconds timeout{30000};
  boost::asio::ssl::context* tlsContext = nullptr;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(boost::asio::any_io_executor executor, const ClientOptions& options);
  ~Connection();

  // Connects, negotiates the stream (STARTTLS when configured), authenticates with SCRAM and
  // binds `resource`. Throws BenchError on any failure (including the per-step timeout).
  boost::asio::awaitable<void> open(const std::string& user, const std::string& password,
                                    const std::string& resource);

  // XEP-0077 in-band registration. Returns true when created, false when it already existed.
  boost::asio::awaitable<bool> registerAccount(const std::string& user,
                                               const std::string& password);

  // Next top-level element; nullopt once the server closed the stream. Throws on I/O errors.
  boost::asio::awaitable<std::optional<std::string>> readStanza();

  // Round trip to the server (XEP-0199 ping; an error reply counts too). Setup phase only.
  boost::asio::awaitable<void> sync();

  // Sends </stream:stream> and waits (bounded) for the server to close; no reader may run.
  boost::asio::awaitable<void> closeGracefully();

  // Queued write for the steady state; never blocks the caller.
  void send(std::string data);

  // Spawns a reader that hands every stanza to `onStanza` until the stream ends, answers
  // server pings, and calls `onExit` (once) when it stops.
  void startReader(std::function<void(std::string_view)> onStanza, std::function<void()> onExit);

  // Starts a bounded close from the steady state: sends </stream:stream>; the reader ends.
  void requestClose();

  // Direct write for the setup phase (no queued data may be pending).
  boost::asio::awaitable<void> write(std::string data);

  void abort();
  bool closed() const { return closed_; }
  const std::string& jid() const { return jid_; }

 private:
  boost::asio::awaitable<void> connectAndStart();
  boost::asio::awaitable<std::string> expectStanza();
  boost::asio::awaitable<std::string> readFeatures();
  void startStream();
  void setDeadline(std::chrono::milliseconds timeout);
  void clearDeadline();
  static boost::asio::awaitable<void> watchdog(std::shared_ptr<Connection> self);
  static boost::asio::awaitable<void> writeLoop(std::shared_ptr<Connection> self);
  static boost::asio::awaitable<void> readLoop(std::shared_ptr<Connection> self,
                                               std::function<void(std::string_view)> onStanza,
                                               std::function<void()> onExit);

  boost::asio::any_io_executor executor_;
  const ClientOptions& options_;
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream_;
  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  bool watchdogRunning_ = false;
  bool tls_ = false;
  bool closed_ = false;
  bool writing_ = false;
  StanzaScanner scanner_;
  std::array<char, 4096> readBuf_{};
  std::string pending_;
  std::string inflight_;
  std::string jid_;
  unsigned nextId_ = 0;
};

}  // namespace parley::bench
