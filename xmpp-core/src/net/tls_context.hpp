#pragma once
// The server's TLS configuration (OpenSSL 3 through Asio): TLS 1.2 or newer, no renegotiation,
// no compression, the certificate chain and key from the configuration. Built anew on reload;
// a connection keeps the context it started with.

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

namespace parley::net {

// Throws std::runtime_error naming the file and OpenSSL's reason when the certificate or key
// cannot be loaded or do not match.
std::shared_ptr<boost::asio::ssl::context> makeServerTlsContext(const std::string& certificate,
                                                                const std::string& key);

// Channel-binding data of an established TLS connection (RFC 9266 tls-exporter, RFC 5929
// tls-server-end-point); empty when the type is unavailable on this connection.
std::string channelBinding(SSL* ssl, const std::string& type);
// Types this connection can offer for SCRAM -PLUS.
bool tlsExporterAvailable(SSL* ssl);

}  // namespace parley::net
