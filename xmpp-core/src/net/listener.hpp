#pragma once
// Accepts client connections on one endpoint and starts a session for each, every connection on
// its own strand of the shared io_context.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <functional>
#include <memory>
#include <string>

#include "router/server_context.hpp"

namespace parley::net {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  using TlsSource = std::function<std::shared_ptr<boost::asio::ssl::context>()>;

  // Binds now (throws with the address in the message when it cannot).
  Listener(router::ServerContext& ctx, const std::string& address, uint16_t port, bool direct_tls,
           TlsSource tls);
  void start();
  void stop();
  uint16_t port() const;
  const char* kind() const { return direct_tls_ ? "c2s_direct_tls" : "c2s"; }

 private:
  boost::asio::awaitable<void> acceptLoop();

  router::ServerContext& ctx_;
  boost::asio::ip::tcp::acceptor acceptor_;
  bool direct_tls_;
  TlsSource tls_;
};

}  // namespace parley::net
