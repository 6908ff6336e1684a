#pragma once
// Accepts connections on one endpoint and starts a session for each (a client's, or an external
// component's), every connection on its own strand of the shared io_context.

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
  enum class Kind {
    C2s,           // clients, STARTTLS
    C2sDirectTls,  // clients, TLS from the first byte (XEP-0368)
    Component,     // external components (XEP-0114), plaintext
  };

  // Binds now (throws with the address in the message when it cannot).
  Listener(router::ServerContext& ctx, const std::string& address, uint16_t port, Kind kind,
           TlsSource tls);
  void start();
  void stop();
  uint16_t port() const;
  // As the configuration and the ports file name it.
  const char* kind() const;

 private:
  boost::asio::awaitable<void> acceptLoop();

  router::ServerContext& ctx_;
  boost::asio::ip::tcp::acceptor acceptor_;
  Kind kind_;
  TlsSource tls_;
};

}  // namespace parley::net
