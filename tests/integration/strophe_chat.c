/* strophe_chat: a libstrophe (0.12) client for the integration tests.
 *
 *   strophe_chat --port P --jid JID --password PW [--direct-tls] [--resource R]
 *                [--to JID --body TEXT] [--expect TEXT] [--timeout SECONDS]
 *
 * Logs in over TLS (STARTTLS, or direct TLS with --direct-tls), trusting the self-signed test
 * certificate, and sends initial presence. Then:
 *   --to/--body   sends the message, waits for a ping round trip (so the server has routed it)
 *                 and logs out;
 *   --expect      waits for a message whose body is TEXT, prints
 *                 "RECEIVED from=<jid> body=<text>" and logs out.
 * "READY <full jid>" is printed once the session is up (for a receiver: once the server has
 * answered a ping sent after the initial presence). Exit status 0 on success, 1 on
 * failure or timeout (with a reason on stderr), 2 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strophe.h>
#include <time.h>

struct state {
  xmpp_ctx_t* ctx;
  const char* to;
  const char* body;
  const char* expect;
  int done;
  int ok;
  int connected;
};

static void finish(xmpp_conn_t* conn, struct state* st, int ok) {
  if (st->done) return;
  st->ok = ok;
  st->done = 1;
  xmpp_disconnect(conn);
}

static int on_message(xmpp_conn_t* conn, xmpp_stanza_t* stanza, void* userdata) {
  struct state* st = userdata;
  const char* type = xmpp_stanza_get_type(stanza);
  xmpp_stanza_t* body = xmpp_stanza_get_child_by_name(stanza, "body");
  if (body == NULL) return 1;
  char* text = xmpp_stanza_get_text(body);
  const char* from = xmpp_stanza_get_from(stanza);
  if (type != NULL && strcmp(type, "error") == 0) {
    fprintf(stderr, "strophe_chat: error message from %s\n", from ? from : "?");
    if (st->expect == NULL) finish(conn, st, 0);
  } else if (st->expect != NULL && text != NULL && strcmp(text, st->expect) == 0) {
    printf("RECEIVED from=%s body=%s\n", from ? from : "", text);
    fflush(stdout);
    finish(conn, st, 1);
  }
  if (text != NULL) xmpp_free(st->ctx, text);
  return 1;
}

static int on_pong(xmpp_conn_t* conn, xmpp_stanza_t* stanza, void* userdata) {
  struct state* st = userdata;
  const char* type = xmpp_stanza_get_type(stanza);
  if (type != NULL && strcmp(type, "result") == 0) {
    printf("SENT to=%s\n", st->to);
    fflush(stdout);
    finish(conn, st, 1);
  } else {
    fprintf(stderr, "strophe_chat: ping after the message failed\n");
    finish(conn, st, 0);
  }
  return 0;
}

static void send_ping(xmpp_conn_t* conn, struct state* st, const char* id, xmpp_handler handler) {
  xmpp_stanza_t* iq = xmpp_iq_new(st->ctx, "get", id);
  xmpp_stanza_t* ping = xmpp_stanza_new(st->ctx);
  xmpp_stanza_set_name(ping, "ping");
  xmpp_stanza_set_ns(ping, "urn:xmpp:ping");
  xmpp_stanza_add_child(iq, ping);
  xmpp_stanza_release(ping);
  xmpp_id_handler_add(conn, handler, id, st);
  xmpp_send(conn, iq);
  xmpp_stanza_release(iq);
}

/* Receiver: the server has answered a ping sent after our initial presence, so the presence
 * has been processed and a message to our bare JID will be delivered to us. */
static int on_ready(xmpp_conn_t* conn, xmpp_stanza_t* stanza, void* userdata) {
  struct state* st = userdata;
  (void)stanza;
  const char* type = xmpp_stanza_get_type(stanza);
  if (type == NULL || strcmp(type, "result") != 0) {
    fprintf(stderr, "strophe_chat: ping after presence failed\n");
    finish(conn, st, 0);
    return 0;
  }
  printf("READY %s\n", xmpp_conn_get_bound_jid(conn));
  fflush(stdout);
  return 0;
}

static void on_conn(xmpp_conn_t* conn, xmpp_conn_event_t status, int error,
                    xmpp_stream_error_t* stream_error, void* userdata) {
  struct state* st = userdata;
  if (status == XMPP_CONN_CONNECT) {
    st->connected = 1;
    if (!xmpp_conn_is_secured(conn)) {
      fprintf(stderr, "strophe_chat: connection is not TLS-protected\n");
      finish(conn, st, 0);
      return;
    }
    xmpp_handler_add(conn, on_message, NULL, "message", NULL, st);
    xmpp_stanza_t* pres = xmpp_presence_new(st->ctx);
    xmpp_send(conn, pres);
    xmpp_stanza_release(pres);
    if (st->to != NULL) {
      printf("READY %s\n", xmpp_conn_get_bound_jid(conn));
      fflush(stdout);
      xmpp_stanza_t* msg = xmpp_message_new(st->ctx, "chat", st->to, "strophe-msg-1");
      xmpp_message_set_body(msg, st->body);
      xmpp_send(conn, msg);
      xmpp_stanza_release(msg);
      /* The answer to a ping sent after the message means the server has routed it. */
      send_ping(conn, st, "strophe-ping-1", on_pong);
    } else {
      send_ping(conn, st, "strophe-ready-1", on_ready);
    }
  } else {
    if (!st->done) {
      fprintf(stderr, "strophe_chat: disconnected (status %d, error %d%s)\n", (int)status, error,
              stream_error ? ", stream error" : "");
      if (stream_error != NULL && stream_error->text != NULL)
        fprintf(stderr, "strophe_chat: stream error text: %s\n", stream_error->text);
    }
    st->done = 1;
    xmpp_stop(st->ctx);
  }
}

static void usage(void) {
  fprintf(stderr,
          "usage: strophe_chat --port P --jid JID --password PW [--direct-tls] "
          "[--to JID --body TEXT] [--expect TEXT] [--timeout S] [--verbose]\n");
  exit(2);
}

int main(int argc, char** argv) {
  const char *jid = NULL, *password = NULL;
  unsigned short port = 0;
  int direct_tls = 0, verbose = 0;
  long timeout = 30;
  struct state st = {0};

  for (int i = 1; i < argc; i++) {
    const char* a = argv[i];
    const char* v = (i + 1 < argc) ? argv[i + 1] : NULL;
    if (strcmp(a, "--direct-tls") == 0) {
      direct_tls = 1;
      continue;
    }
    if (strcmp(a, "--verbose") == 0) {
      verbose = 1;
      continue;
    }
    if (v == NULL) usage();
    if (strcmp(a, "--port") == 0)
      port = (unsigned short)atoi(v);
    else if (strcmp(a, "--jid") == 0)
      jid = v;
    else if (strcmp(a, "--password") == 0)
      password = v;
    else if (strcmp(a, "--to") == 0)
      st.to = v;
    else if (strcmp(a, "--body") == 0)
      st.body = v;
    else if (strcmp(a, "--expect") == 0)
      st.expect = v;
    else if (strcmp(a, "--timeout") == 0)
      timeout = atol(v);
    else
      usage();
    i++;
  }
  if (jid == NULL || password == NULL || port == 0) usage();
  if ((st.to == NULL) != (st.body == NULL)) usage();
  if (st.to == NULL && st.expect == NULL) usage();

  xmpp_initialize();
  xmpp_log_t* log = xmpp_get_default_logger(verbose ? XMPP_LEVEL_DEBUG : XMPP_LEVEL_ERROR);
  st.ctx = xmpp_ctx_new(NULL, log);
  xmpp_conn_t* conn = xmpp_conn_new(st.ctx);
  long flags = XMPP_CONN_FLAG_TRUST_TLS | XMPP_CONN_FLAG_DISABLE_SM;
  flags |= direct_tls ? XMPP_CONN_FLAG_LEGACY_SSL : XMPP_CONN_FLAG_MANDATORY_TLS;
  xmpp_conn_set_flags(conn, flags);
  xmpp_conn_set_jid(conn, jid);
  xmpp_conn_set_pass(conn, password);

  if (xmpp_connect_client(conn, "127.0.0.1", port, on_conn, &st) != XMPP_EOK) {
    fprintf(stderr, "strophe_chat: cannot connect to 127.0.0.1:%u\n", port);
    return 1;
  }
  time_t deadline = time(NULL) + timeout;
  int timed_out = 0;
  while (!st.done) {
    xmpp_run_once(st.ctx, 100);
    if (time(NULL) >= deadline) {
      timed_out = 1;
      break;
    }
  }
  if (timed_out) {
    fprintf(stderr, "strophe_chat: timed out after %ld s (%s)\n", timeout,
            st.connected ? "logged in" : "never logged in");
    xmpp_disconnect(conn);
  }
  /* Let the disconnect complete (stream close, TLS shutdown). */
  for (int i = 0; i < 20 && xmpp_conn_is_connected(conn); i++) xmpp_run_once(st.ctx, 100);

  xmpp_conn_release(conn);
  xmpp_ctx_free(st.ctx);
  xmpp_shutdown();
  return (!timed_out && st.ok) ? 0 : 1;
}
