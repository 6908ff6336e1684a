#include "admin/admin_socket.hpp"

#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "admin/admin_protocol.hpp"
#include "util/log.hpp"

namespace parley::admin {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;

namespace {

constexpr size_t kMaxRequestBytes = 64 * 1024;
constexpr auto kRequestTimeout = std::chrono::seconds(10);

// "unix user ops (uid 1000)" for the record.
std::string describePeer(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return "unix user (unknown)";
  std::string name;
  passwd pw{};
  passwd* found = nullptr;
  char buffer[1024];
  if (::getpwuid_r(cred.uid, &pw, buffer, sizeof buffer, &found) == 0 && found) {
    name = found->pw_name;
  }
  return "unix user " + (name.empty() ? std::string("?") : name) + " (uid " +
         std::to_string(cred.uid) + ", pid " + std::to_string(cred.pid) + ")";
}

asio::awaitable<void> serve(local::socket socket, const AdminServices& services) {
  Actor actor{describePeer(socket.native_handle()), "parleyctl"};
  asio::steady_timer deadline(socket.get_executor());
  deadline.expires_after(kRequestTimeout);
  deadline.async_wait([&socket](const boost::system::error_code& ec) {
    if (!ec) {
      boost::system::error_code ignored;
      socket.close(ignored);
    }
  });
  try {
    std::string line;
    auto buffer = asio::dynamic_buffer(line, kMaxRequestBytes);
    size_t n = co_await asio::async_read_until(socket, buffer, '\n', asio::use_awaitable);
    std::string reply =
        handleAdminRequest(services, std::string_view(line).substr(0, n - 1), actor);
    reply += "\n";
    co_await asio::async_write(socket, asio::buffer(reply), asio::use_awaitable);
  } catch (const boost::system::system_error& e) {
    if (e.code() == asio::error::not_found) {
      std::string reply = R"({"ok":false,"error":"request longer than 64 KiB"})"
                          "\n";
      boost::system::error_code ignored;
      asio::write(socket, asio::buffer(reply), ignored);
    }
  }
  deadline.cancel();
}

}  // namespace

AdminSocket::AdminSocket(asio::io_context& admin_io, std::string path, AdminServices services)
    : path_(std::move(path)), services_(std::move(services)), io_(admin_io) {}

AdminSocket::~AdminSocket() {
  stop();
  if (bound_) ::unlink(path_.c_str());
}

void AdminSocket::start() {
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      throw std::runtime_error("admin.socket: " + path_ +
                               " exists and is not a socket; remove it or choose another path");
    }
    // Someone answering means another parleyd runs with this configuration.
    local::socket probe(io_);
    boost::system::error_code ec;
    probe.connect(local::endpoint(path_), ec);
    if (!ec) {
      throw std::runtime_error("admin.socket: another server is listening on " + path_ +
                               "; stop it first or give this one another admin.socket");
    }
    ::unlink(path_.c_str());  // left over from a server that did not stop cleanly
  }
  acceptor_ = std::make_shared<local::acceptor>(io_);
  boost::system::error_code ec;
  acceptor_->open(local(), ec);
  if (!ec) acceptor_->bind(local::endpoint(path_), ec);
  if (ec) throw std::runtime_error("admin.socket: cannot bind " + path_ + ": " + ec.message());
  bound_ = true;
  if (::chmod(path_.c_str(), 0660) != 0) {
    throw std::runtime_error("admin.socket: cannot set the permissions of " + path_ + ": " +
                             std::strerror(errno));
  }
  acceptor_->listen(16, ec);
  if (ec) throw std::runtime_error("admin.socket: cannot listen on " + path_ + ": " + ec.message());
  asio::co_spawn(
      io_,
      [acceptor = acceptor_, &services = services_]() -> asio::awaitable<void> {
        for (;;) {
          boost::system::error_code accept_ec;
          local::socket socket =
              co_await acceptor->async_accept(asio::redirect_error(asio::use_awaitable, accept_ec));
          if (accept_ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
          if (accept_ec) {
            log::warn("admin socket: accept failed: ", accept_ec.message());
            continue;
          }
          // Connections are served side by side (a silent one cannot hold up the next); the
          // actions themselves still run one at a time on this single thread.
          asio::co_spawn(acceptor->get_executor(), serve(std::move(socket), services),
                         asio::detached);
        }
      },
      asio::detached);
}

void AdminSocket::stop() {
  if (!acceptor_) return;
  asio::post(io_, [acceptor = acceptor_]() {
    boost::system::error_code ignored;
    acceptor->close(ignored);
  });
}

}  // namespace parley::admin
