#pragma once
// The local admin socket (a Unix stream socket, mode 0660): parleyctl module ... talks to the
// running server through it. The file's permissions are the authentication, and the kernel's
// peer credentials (SO_PEERCRED) name the Unix user in each action's compliance event. One
// request per connection (admin_protocol.hpp); it runs on the admin thread, so a slow client
// or a slow action never touches the io threads.
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <memory>
#include <string>

#include "admin/admin_protocol.hpp"

namespace parley::admin {

class AdminSocket {
 public:
  AdminSocket(boost::asio::io_context& admin_io, std::string path, AdminServices services);
  ~AdminSocket();  // closes and removes the socket file

  // Binds and starts accepting. Throws std::runtime_error saying what to do when the path is
  // held by another running parleyd or cannot be used; a stale socket file is replaced.
  void start();
  // Stops accepting (from any thread).
  void stop();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  AdminServices services_;
  boost::asio::io_context& io_;
  std::shared_ptr<boost::asio::local::stream_protocol::acceptor> acceptor_;
  bool bound_ = false;
};

}  // namespace parley::admin
