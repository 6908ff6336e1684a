#include "net/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <stdexcept>

namespace parley::net {
namespace {

std::string opensslReason() {
  unsigned long code = ERR_get_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

// XEP-0368: direct TLS clients may offer ALPN "xmpp-client"; accept it, and accept clients that
// offer no ALPN at all.
int selectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void*) {
  static const unsigned char kXmppClient[] = "\x0bxmpp-client";
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kXmppClient, sizeof kXmppClient - 1, in, inlen) ==
      OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

}  // namespace

std::shared_ptr<boost::asio::ssl::context> makeServerTlsContext(const std::string& certificate,
                                                                const std::string& key) {
  namespace ssl = boost::asio::ssl;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                  SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
  // Idle sessions should not hold 34 KiB of OpenSSL buffers each.
  SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_alpn_select_cb(native, selectAlpn, nullptr);
  if (SSL_CTX_use_certificate_chain_file(native, certificate.c_str()) != 1) {
    throw std::runtime_error("tls.certificate: cannot load " + certificate + ": " +
                             opensslReason());
  }
  if (SSL_CTX_use_PrivateKey_file(native, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    throw std::runtime_error("tls.key: cannot load " + key + ": " + opensslReason());
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    throw std::runtime_error("tls.key: " + key + " does not match the certificate " + certificate +
                             ": " + opensslReason());
  }
  return ctx;
}

bool tlsExporterAvailable(SSL* ssl) {
  // RFC 9266 §3: tls-exporter is only safe with TLS 1.3 (or 1.2 with extended master secret).
  return SSL_version(ssl) == TLS1_3_VERSION || SSL_get_extms_support(ssl) == 1;
}

std::string channelBinding(SSL* ssl, const std::string& type) {
  if (type == "tls-exporter") {
    if (!tlsExporterAvailable(ssl)) return {};
    unsigned char out[32];
    static const char kLabel[] = "EXPORTER-Channel-Binding";
    if (SSL_export_keying_material(ssl, out, sizeof out, kLabel, sizeof kLabel - 1, nullptr, 0,
                                   0) != 1)
      return {};
    return std::string(reinterpret_cast<char*>(out), sizeof out);
  }
  if (type == "tls-server-end-point") {
    X509* cert = SSL_get_certificate(ssl);
    if (cert == nullptr) return {};
    // RFC 5929 §4.1: the certificate's signature hash, with MD5 and SHA-1 upgraded to SHA-256.
    int md_nid = NID_undef;
    if (X509_get_signature_info(cert, &md_nid, nullptr, nullptr, nullptr) != 1) return {};
    const EVP_MD* md = nullptr;
    if (md_nid == NID_md5 || md_nid == NID_sha1 || md_nid == NID_undef) {
      md = EVP_sha256();
    } else {
      md = EVP_get_digestbynid(md_nid);
    }
    if (md == nullptr) return {};
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (X509_digest(cert, md, out, &len) != 1) return {};
    return std::string(reinterpret_cast<char*>(out), len);
  }
  return {};
}

}  // namespace parley::net
