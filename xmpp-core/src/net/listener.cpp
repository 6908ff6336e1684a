#include "net/listener.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "net/c2s_session.hpp"
#include "net/component_session.hpp"
#include "util/log.hpp"

namespace parley::net {

namespace asio = boost::asio;
using asio::ip::tcp;

Listener::Listener(router::ServerContext& ctx, const std::string& address, uint16_t port, Kind kind,
                   TlsSource tls)
    : ctx_(ctx), acceptor_(ctx.io()), kind_(kind), tls_(std::move(tls)) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(address, ec);
  if (ec) throw std::runtime_error("listen address '" + address + "' is not an IP address");
  tcp::endpoint endpoint(addr, port);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(endpoint, ec);
  if (ec) {
    throw std::runtime_error("cannot listen on " + address + ":" + std::to_string(port) + ": " +
                             ec.message());
  }
  acceptor_.listen(asio::socket_base::max_listen_connections);
}

uint16_t Listener::port() const { return acceptor_.local_endpoint().port(); }

const char* Listener::kind() const {
  switch (kind_) {
    case Kind::C2s:
      return "c2s";
    case Kind::C2sDirectTls:
      return "c2s_direct_tls";
    case Kind::Component:
      return "component";
  }
  return "?";
}

void Listener::start() {
  asio::co_spawn(
      acceptor_.get_executor(), [self = shared_from_this()]() { return self->acceptLoop(); },
      asio::detached);
}

void Listener::stop() {
  asio::post(acceptor_.get_executor(), [self = shared_from_this()]() {
    boost::system::error_code ignored;
    self->acceptor_.close(ignored);
  });
}

asio::awaitable<void> Listener::acceptLoop() {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor_.async_accept(
        asio::make_strand(ctx_.io()), asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
    if (ec) {
      // Out of descriptors or similar: back off briefly instead of spinning.
      log::warn(kind(), ": accept failed: ", ec.message());
      asio::steady_timer pause(acceptor_.get_executor(), std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::use_awaitable);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    if (kind_ == Kind::Component) {
      std::make_shared<ComponentSession>(ctx_, std::move(socket))->start();
    } else {
      std::make_shared<C2sSession>(ctx_, std::move(socket), tls_(), kind_ == Kind::C2sDirectTls)
          ->start();
    }
  }
}

}  // namespace parley::net
