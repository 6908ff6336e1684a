#include "admin/admin_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace parley::admin {

namespace {

// Closes the descriptor on every path out.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Waits for `events` on fd until the deadline; false on timeout.
bool waitFor(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

}  // namespace

boost::json::object askServer(const std::string& socket_path, const boost::json::object& request,
                              std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path) {
    throw AdminUnreachable("the admin socket path " + socket_path + " is too long");
  }
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  Fd s{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (s.fd < 0) throw AdminUnreachable(std::string("cannot create a socket: ") + strerror(errno));
  if (::connect(s.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    if (err == ENOENT || err == ECONNREFUSED) {
      throw AdminUnreachable("parleyd is not running (nothing listens on " + socket_path +
                             "); start it, or check admin.socket in the configuration");
    }
    if (err == EACCES || err == EPERM) {
      throw AdminUnreachable("permission denied on " + socket_path +
                             "; run parleyctl as the user parleyd runs as, or as a member of its "
                             "group");
    }
    throw AdminUnreachable("cannot connect to " + socket_path + ": " + strerror(err));
  }
  std::string out = boost::json::serialize(request) + "\n";
  size_t sent = 0;
  while (sent < out.size()) {
    ssize_t n = ::send(s.fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw AdminUnreachable(std::string("the server closed the admin connection: ") +
                             strerror(errno));
    }
    sent += static_cast<size_t>(n);
  }
  std::string reply;
  char buffer[4096];
  while (reply.find('\n') == std::string::npos) {
    if (!waitFor(s.fd, POLLIN, deadline)) {
      throw AdminUnreachable("parleyd did not answer within " + std::to_string(timeout.count()) +
                             " s; see its log");
    }
    ssize_t n = ::recv(s.fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw AdminUnreachable("parleyd closed the admin connection without an answer");
    reply.append(buffer, static_cast<size_t>(n));
  }
  boost::system::error_code ec;
  auto value = boost::json::parse(reply.substr(0, reply.find('\n')), ec);
  if (ec || !value.is_object()) throw AdminUnreachable("parleyd sent an unreadable answer");
  return value.as_object();
}

}  // namespace parley::admin
