/* scram_plus_client: logs in with SCRAM-SHA-256-PLUS or SCRAM-SHA-1-PLUS bound to the TLS channel
 * with tls-exporter (RFC 9266), which Python's ssl module cannot compute (it has no
 * export_keying_material). For the integration tests (test_channel_binding.py).
 *
 *   scram_plus_client --port P --user NODE --password PW [--domain D] [--resource R]
 *                     [--mech SCRAM-SHA-256-PLUS|SCRAM-SHA-1-PLUS] [--tls 1.3|1.2]
 *                     [--wrong-binding] [--timeout SECONDS]
 *
 * Opens a stream on the STARTTLS port, upgrades to TLS (exactly the version asked for), then
 * authenticates with the gs2 header "p=tls-exporter,," and 32 bytes of keying material exported
 * with the label "EXPORTER-Channel-Binding" and no context; --wrong-binding flips one bit of it,
 * as a man in the middle terminating TLS would present a different value. After success it
 * checks the server signature, restarts the stream and binds a resource.
 *
 * Prints, one per line:
 *   TLS <version>                       the negotiated protocol, e.g. TLSv1.3
 *   MECHANISMS <m1> <m2> ...            offered after STARTTLS
 *   CHANNEL-BINDINGS <t1> <t2> ...      XEP-0440 types offered after STARTTLS
 *   AUTH-FAILED <condition>             the SASL failure condition (exit status 3)
 *   BOUND <full jid>                    after a successful bind (exit status 0)
 * Exit status 1 on any other failure (reason on stderr), 2 on bad usage.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define BUF_MAX (256 * 1024)

struct conn {
  int fd;
  SSL* ssl;
  char buf[BUF_MAX];
  size_t len;
};

static void die(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("scram_plus_client: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  ERR_print_errors_fp(stderr);
  exit(1);
}

static void send_str(struct conn* c, const char* s) {
  size_t n = strlen(s);
  if (c->ssl != NULL) {
    size_t written = 0;
    if (SSL_write_ex(c->ssl, s, n, &written) != 1 || written != n) die("TLS write failed");
    return;
  }
  while (n > 0) {
    ssize_t w = write(c->fd, s, n);
    if (w <= 0) die("write failed");
    s += w;
    n -= (size_t)w;
  }
}

/* Reads until `needle` is in the buffer; returns a pointer just past it. */
static char* read_until(struct conn* c, const char* needle) {
  for (;;) {
    c->buf[c->len] = '\0';
    char* hit = strstr(c->buf, needle);
    if (hit != NULL) return hit + strlen(needle);
    if (c->len + 1 >= BUF_MAX) die("too much data without %s", needle);
    size_t got = 0;
    if (c->ssl != NULL) {
      if (SSL_read_ex(c->ssl, c->buf + c->len, BUF_MAX - 1 - c->len, &got) != 1) got = 0;
    } else {
      ssize_t r = read(c->fd, c->buf + c->len, BUF_MAX - 1 - c->len);
      got = r > 0 ? (size_t)r : 0;
    }
    if (got == 0) {
      c->buf[c->len] = '\0';
      die("connection closed or timed out waiting for %s; received: %.600s", needle, c->buf);
    }
    c->len += got;
  }
}

/* Drops everything up to `end` from the buffer. */
static void consume(struct conn* c, const char* end) {
  size_t n = (size_t)(end - c->buf);
  memmove(c->buf, end, c->len - n);
  c->len -= n;
  c->buf[c->len] = '\0';
}

/* Reads the next complete top-level element among <challenge>, <success>, <failure>. The server
 * writes each SASL element in one piece, either self-closing or with its end tag. */
static char* next_sasl_element(struct conn* c, char* out, size_t out_size) {
  static const char* names[] = {"challenge", "success", "failure"};
  for (;;) {
    c->buf[c->len] = '\0';
    for (size_t i = 0; i < 3; i++) {
      char open[32], close[32];
      snprintf(open, sizeof open, "<%s", names[i]);
      snprintf(close, sizeof close, "</%s>", names[i]);
      char* start = strstr(c->buf, open);
      if (start == NULL) continue;
      char* gt = strchr(start, '>');
      if (gt == NULL) break;
      char* end;
      if (gt[-1] == '/') {
        end = gt + 1;
      } else {
        char* ct = strstr(gt, close);
        if (ct == NULL) break;
        end = ct + strlen(close);
      }
      size_t n = (size_t)(end - start);
      if (n >= out_size) die("SASL element too large");
      memcpy(out, start, n);
      out[n] = '\0';
      consume(c, end);
      return out;
    }
    /* Not complete yet: read more (read_until with a needle that cannot occur). */
    size_t before = c->len;
    size_t got = 0;
    if (SSL_read_ex(c->ssl, c->buf + c->len, BUF_MAX - 1 - c->len, &got) != 1 || got == 0)
      die("connection closed waiting for a SASL answer; received: %.600s", c->buf);
    c->len = before + got;
  }
}

/* Text between the first '>' and the next '<' of an element (empty for <x/>). */
static void element_text(const char* element, char* out, size_t out_size) {
  const char* gt = strchr(element, '>');
  out[0] = '\0';
  if (gt == NULL || gt[-1] == '/') return;
  const char* lt = strchr(gt + 1, '<');
  size_t n = lt ? (size_t)(lt - gt - 1) : strlen(gt + 1);
  if (n >= out_size) die("element text too large");
  memcpy(out, gt + 1, n);
  out[n] = '\0';
}

static size_t b64_encode(const unsigned char* in, size_t n, char* out) {
  return (size_t)EVP_EncodeBlock((unsigned char*)out, in, (int)n);
}

static size_t b64_decode(const char* in, unsigned char* out) {
  size_t n = strlen(in);
  int len = EVP_DecodeBlock(out, (const unsigned char*)in, (int)n);
  if (len < 0) die("bad base64 from the server: %s", in);
  while (n > 0 && in[n - 1] == '=') {
    n--;
    len--;
  }
  return (size_t)len;
}

static void open_stream(struct conn* c, const char* domain) {
  char header[512];
  snprintf(header, sizeof header,
           "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
           "xmlns:stream='http://etherx.jabber.org/streams' to='%s' version='1.0'>",
           domain);
  send_str(c, header);
}

/* Space-separated texts of every <tag>TEXT</tag> inside [from, to). */
static void list_texts(const char* from, const char* to, const char* tag, char* out,
                       size_t out_size) {
  char open[64], close[64];
  snprintf(open, sizeof open, "<%s>", tag);
  snprintf(close, sizeof close, "</%s>", tag);
  out[0] = '\0';
  for (const char* p = strstr(from, open); p != NULL && p < to; p = strstr(p, open)) {
    p += strlen(open);
    const char* e = strstr(p, close);
    if (e == NULL || e > to) break;
    if (strlen(out) + (size_t)(e - p) + 2 >= out_size) break;
    if (out[0] != '\0') strcat(out, " ");
    strncat(out, p, (size_t)(e - p));
  }
}

/* Space-separated values of every type='...' attribute inside [from, to). */
static void list_types(const char* from, const char* to, char* out, size_t out_size) {
  out[0] = '\0';
  for (const char* p = strstr(from, "type="); p != NULL && p < to; p = strstr(p, "type=")) {
    p += 5;
    char quote = *p++;
    const char* e = strchr(p, quote);
    if (e == NULL || e > to) break;
    if (strlen(out) + (size_t)(e - p) + 2 >= out_size) break;
    if (out[0] != '\0') strcat(out, " ");
    strncat(out, p, (size_t)(e - p));
  }
}

static void hmac(const EVP_MD* md, const unsigned char* key, size_t key_len, const void* msg,
                 size_t msg_len, unsigned char* out) {
  unsigned int len = 0;
  if (HMAC(md, key, (int)key_len, msg, msg_len, out, &len) == NULL) die("HMAC failed");
}

int main(int argc, char** argv) {
  const char* port_s = NULL;
  const char* user = NULL;
  const char* password = NULL;
  const char* domain = "localhost";
  const char* resource = "plus";
  const char* mech = "SCRAM-SHA-256-PLUS";
  const char* tls_version = "1.3";
  int wrong_binding = 0;
  int timeout = 20;
  for (int i = 1; i < argc; i++) {
    const char* a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--wrong-binding") == 0) {
      wrong_binding = 1;
      continue;
    }
    if (v == NULL) {
      fprintf(stderr, "scram_plus_client: %s needs a value\n", a);
      return 2;
    }
    i++;
    if (strcmp(a, "--port") == 0) {
      port_s = v;
    } else if (strcmp(a, "--user") == 0) {
      user = v;
    } else if (strcmp(a, "--password") == 0) {
      password = v;
    } else if (strcmp(a, "--domain") == 0) {
      domain = v;
    } else if (strcmp(a, "--resource") == 0) {
      resource = v;
    } else if (strcmp(a, "--mech") == 0) {
      mech = v;
    } else if (strcmp(a, "--tls") == 0) {
      tls_version = v;
    } else if (strcmp(a, "--timeout") == 0) {
      timeout = atoi(v);
    } else {
      fprintf(stderr, "scram_plus_client: unknown option %s\n", a);
      return 2;
    }
  }
  const EVP_MD* md = NULL;
  if (strcmp(mech, "SCRAM-SHA-256-PLUS") == 0) {
    md = EVP_sha256();
  } else if (strcmp(mech, "SCRAM-SHA-1-PLUS") == 0) {
    md = EVP_sha1();
  }
  int proto = strcmp(tls_version, "1.3") == 0   ? TLS1_3_VERSION
              : strcmp(tls_version, "1.2") == 0 ? TLS1_2_VERSION
                                                : 0;
  if (port_s == NULL || user == NULL || password == NULL || md == NULL || proto == 0 ||
      timeout <= 0) {
    fprintf(stderr,
            "usage: scram_plus_client --port P --user NODE --password PW [--domain D] "
            "[--resource R] [--mech SCRAM-SHA-256-PLUS|SCRAM-SHA-1-PLUS] [--tls 1.3|1.2] "
            "[--wrong-binding] [--timeout SECONDS]\n");
    return 2;
  }
  const size_t hash_len = (size_t)EVP_MD_get_size(md);

  static struct conn c;
  c.fd = socket(AF_INET, SOCK_STREAM, 0);
  if (c.fd < 0) die("socket failed");
  struct timeval tv = {.tv_sec = timeout, .tv_usec = 0};
  setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(c.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)atoi(port_s));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(c.fd, (struct sockaddr*)&addr, sizeof addr) != 0) die("connect failed");

  /* Plaintext stream, then STARTTLS. */
  open_stream(&c, domain);
  consume(&c, read_until(&c, "</stream:features>"));
  send_str(&c, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  char* end = read_until(&c, "<proceed");
  end = strchr(end, '>');
  if (end == NULL) end = read_until(&c, ">");
  consume(&c, end + 1);
  if (c.len != 0) die("data after <proceed/>");

  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == NULL) die("SSL_CTX_new failed");
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL); /* the test certificate is self-signed */
  SSL_CTX_set_min_proto_version(ctx, proto);
  SSL_CTX_set_max_proto_version(ctx, proto);
  c.ssl = SSL_new(ctx);
  if (c.ssl == NULL) die("SSL_new failed");
  SSL_set_fd(c.ssl, c.fd);
  SSL_set_tlsext_host_name(c.ssl, domain);
  if (SSL_connect(c.ssl) != 1) die("TLS handshake failed");
  printf("TLS %s\n", SSL_get_version(c.ssl));
  fflush(stdout);

  open_stream(&c, domain);
  char* features_end = read_until(&c, "</stream:features>");
  char* features = strstr(c.buf, "<stream:features>");
  if (features == NULL) die("no <stream:features>");
  static char list[4096];
  list_texts(features, features_end, "mechanism", list, sizeof list);
  printf("MECHANISMS %s\n", list);
  char* cb = strstr(features, "sasl-channel-binding");
  char* cb_end = cb ? strstr(cb, "</sasl-channel-binding>") : NULL;
  list_types(cb ? cb : features_end, cb_end ? cb_end : features_end, list, sizeof list);
  printf("CHANNEL-BINDINGS %s\n", list);
  fflush(stdout);
  consume(&c, features_end);

  /* RFC 9266: 32 bytes, label "EXPORTER-Channel-Binding", no (empty) context. */
  unsigned char cb_data[32];
  static const char label[] = "EXPORTER-Channel-Binding";
  if (SSL_export_keying_material(c.ssl, cb_data, sizeof cb_data, label, sizeof label - 1, NULL, 0,
                                 0) != 1)
    die("SSL_export_keying_material failed");
  if (wrong_binding) cb_data[0] ^= 0x01;

  /* client-first-message */
  static const char gs2[] = "p=tls-exporter,,";
  unsigned char nonce_raw[18];
  if (RAND_bytes(nonce_raw, sizeof nonce_raw) != 1) die("RAND_bytes failed");
  char cnonce[64];
  b64_encode(nonce_raw, sizeof nonce_raw, cnonce);
  static char first_bare[1024], msg[8192], b64[8192], element[16384];
  snprintf(first_bare, sizeof first_bare, "n=%s,r=%s", user, cnonce);
  snprintf(msg, sizeof msg, "%s%s", gs2, first_bare);
  b64_encode((const unsigned char*)msg, strlen(msg), b64);
  snprintf(element, sizeof element,
           "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='%s'>%s</auth>", mech, b64);
  send_str(&c, element);

  next_sasl_element(&c, element, sizeof element);
  if (strncmp(element, "<failure", 8) == 0) goto failure;
  if (strncmp(element, "<challenge", 10) != 0) die("expected <challenge/>, got %s", element);
  element_text(element, b64, sizeof b64);
  static unsigned char server_first[4096];
  size_t sf_len = b64_decode(b64, server_first);
  server_first[sf_len] = '\0';

  /* r=<nonce>,s=<salt>,i=<iterations> */
  const char* r = strstr((char*)server_first, "r=");
  const char* s = strstr((char*)server_first, ",s=");
  const char* it = strstr((char*)server_first, ",i=");
  if (r != (char*)server_first || s == NULL || it == NULL) die("bad server-first %s", server_first);
  char nonce[512], salt_b64[512];
  snprintf(nonce, sizeof nonce, "%.*s", (int)(s - r - 2), r + 2);
  const char* salt_end = strchr(s + 3, ',');
  snprintf(salt_b64, sizeof salt_b64, "%.*s", (int)(salt_end - s - 3), s + 3);
  int iterations = atoi(it + 3);
  if (strncmp(nonce, cnonce, strlen(cnonce)) != 0) die("server nonce does not extend ours");
  unsigned char salt[512];
  size_t salt_len = b64_decode(salt_b64, salt);

  unsigned char salted[EVP_MAX_MD_SIZE], client_key[EVP_MAX_MD_SIZE], stored_key[EVP_MAX_MD_SIZE];
  unsigned char server_key[EVP_MAX_MD_SIZE], client_sig[EVP_MAX_MD_SIZE];
  unsigned char server_sig[EVP_MAX_MD_SIZE], proof[EVP_MAX_MD_SIZE];
  if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)salt_len, iterations, md,
                        (int)hash_len, salted) != 1)
    die("PBKDF2 failed");
  hmac(md, salted, hash_len, "Client Key", 10, client_key);
  unsigned int sk_len = 0;
  if (EVP_Digest(client_key, hash_len, stored_key, &sk_len, md, NULL) != 1) die("digest failed");
  hmac(md, salted, hash_len, "Server Key", 10, server_key);

  /* c = base64(gs2 header + channel binding data) */
  unsigned char cbind_input[sizeof gs2 + sizeof cb_data];
  memcpy(cbind_input, gs2, sizeof gs2 - 1);
  memcpy(cbind_input + sizeof gs2 - 1, cb_data, sizeof cb_data);
  char cbind_b64[256];
  b64_encode(cbind_input, sizeof gs2 - 1 + sizeof cb_data, cbind_b64);
  static char without_proof[2048], auth_message[8192], final_msg[4096];
  snprintf(without_proof, sizeof without_proof, "c=%s,r=%s", cbind_b64, nonce);
  snprintf(auth_message, sizeof auth_message, "%s,%s,%s", first_bare, (char*)server_first,
           without_proof);
  hmac(md, stored_key, hash_len, auth_message, strlen(auth_message), client_sig);
  hmac(md, server_key, hash_len, auth_message, strlen(auth_message), server_sig);
  for (size_t i = 0; i < hash_len; i++) proof[i] = client_key[i] ^ client_sig[i];
  char proof_b64[256];
  b64_encode(proof, hash_len, proof_b64);
  snprintf(final_msg, sizeof final_msg, "%s,p=%s", without_proof, proof_b64);
  b64_encode((const unsigned char*)final_msg, strlen(final_msg), b64);
  snprintf(element, sizeof element,
           "<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>%s</response>", b64);
  send_str(&c, element);

  next_sasl_element(&c, element, sizeof element);
  if (strncmp(element, "<failure", 8) == 0) goto failure;
  if (strncmp(element, "<success", 8) != 0) die("expected <success/>, got %s", element);
  element_text(element, b64, sizeof b64);
  static unsigned char server_final[1024];
  size_t sfin_len = b64_decode(b64, server_final);
  server_final[sfin_len] = '\0';
  char expected_v[256] = "v=";
  b64_encode(server_sig, hash_len, expected_v + 2);
  if (strcmp((char*)server_final, expected_v) != 0)
    die("server signature does not verify: got '%s', expected '%s'", server_final, expected_v);

  /* Stream restart and resource binding. */
  open_stream(&c, domain);
  consume(&c, read_until(&c, "</stream:features>"));
  snprintf(element, sizeof element,
           "<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
           "<resource>%s</resource></bind></iq>",
           resource);
  send_str(&c, element);
  char* iq_end = read_until(&c, "</iq>");
  char* iq = strstr(c.buf, "<iq");
  if (iq == NULL || strstr(iq, "type='result'") == NULL || strstr(iq, "id='bind1'") == NULL)
    die("bind failed: %.600s", c.buf);
  char* jid = strstr(iq, "<jid>");
  char* jid_end = jid ? strstr(jid, "</jid>") : NULL;
  if (jid == NULL || jid_end == NULL || jid_end > iq_end) die("no <jid/> in %.600s", iq);
  printf("BOUND %.*s\n", (int)(jid_end - jid - 5), jid + 5);
  fflush(stdout);
  send_str(&c, "</stream:stream>");
  SSL_shutdown(c.ssl);
  SSL_free(c.ssl);
  SSL_CTX_free(ctx);
  close(c.fd);
  return 0;

failure : {
  /* <failure xmlns='...'><condition/>...</failure>: the first child's name. */
  const char* gt = strchr(element, '>');
  const char* child = gt ? strchr(gt, '<') : NULL;
  char condition[128] = "";
  if (child != NULL && child[1] != '/') {
    size_t n = strcspn(child + 1, " />");
    snprintf(condition, sizeof condition, "%.*s", (int)n, child + 1);
  }
  printf("AUTH-FAILED %s\n", condition[0] ? condition : "(none)");
  fflush(stdout);
  SSL_free(c.ssl);
  SSL_CTX_free(ctx);
  close(c.fd);
  return 3;
}
}
