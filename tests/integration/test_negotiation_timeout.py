"""limits.negotiation_timeout: a connection that has not bound a resource in time is told
<connection-timeout/> and closed, whatever stage it stopped at; a bound session is not."""

import base64
import socket
import threading
import time

import pytest

from xmpp_helpers import (
    NS_PING, NS_SASL, NS_STREAM, RawClient, ScramClient, StreamClosed, q,
)

TIMEOUT = 2  # seconds; the smallest the configuration accepts is 1
SERVER_LIMITS = {"negotiation_timeout": TIMEOUT}
# The server's timer starts when it accepts the connection, the client's clock just before
# connecting: the error cannot come earlier than this. The upper bound leaves room for a loaded
# machine running the sanitizer build.
EARLIEST = TIMEOUT - 0.25
LATEST = TIMEOUT + 4.0


def _expect_timeout_error(c, started, case):
    """Waits for the stream error; asserts its exact condition, the timing and the close."""
    try:
        cond, _text = c.stream_error(timeout=LATEST + 2)
    except StreamClosed:
        pytest.fail(f"{case}: the server closed the connection without a stream error")
    elapsed = time.monotonic() - started
    assert cond == "connection-timeout", f"{case}: stream error <{cond}/>"
    assert EARLIEST <= elapsed <= LATEST, f"{case}: stream error after {elapsed:.2f} s"
    assert c.stream_attrs is not None, f"{case}: no stream header before the error"
    # The error ends the stream (</stream:stream>) and the server closes the TCP connection.
    assert c.wait_closed(timeout=5), f"{case}: the connection is still open after the error"
    assert c.stream_ended, f"{case}: the server closed without </stream:stream>"
    return elapsed


def _silent(server, results):
    """Connects and sends nothing at all."""
    started = time.monotonic()
    with RawClient(server, timeout=LATEST + 5) as c:
        results["silent"] = _expect_timeout_error(c, started, "silent client")


def _header_only(server, results):
    """Sends a stream header, reads the features, then nothing (no STARTTLS)."""
    started = time.monotonic()
    with RawClient(server, timeout=LATEST + 5) as c:
        features = c.open_stream()
        assert features.tag == q("features", NS_STREAM)
        results["header"] = _expect_timeout_error(c, started, "header-only client")


def _stuck_in_sasl(server, results):
    """STARTTLS, then a SCRAM <auth/> whose challenge it never answers."""
    started = time.monotonic()
    with RawClient(server, timeout=LATEST + 5) as c:
        c.open_stream()
        c.starttls()
        scram = ScramClient("SCRAM-SHA-256", "alice", server.password("alice"))
        first = base64.b64encode(scram.first()).decode()
        c.send(f"<auth xmlns='{NS_SASL}' mechanism='SCRAM-SHA-256'>{first}</auth>")
        assert c.next().tag == q("challenge", NS_SASL)
        results["sasl"] = _expect_timeout_error(c, started, "client stuck in SASL over TLS")


def _direct_tls_silent(server, results):
    """Connects to the direct TLS port and never starts the handshake: there is no channel for
    a stream error, so the server just closes."""
    started = time.monotonic()
    sock = socket.create_connection(("127.0.0.1", server.tls_port), timeout=LATEST + 5)
    try:
        data = sock.recv(4096)  # blocks until the server closes (b"") or sends something
        elapsed = time.monotonic() - started
    finally:
        sock.close()
    assert data == b"", f"the server sent {data[:200]!r} on a TLS port before any handshake"
    assert EARLIEST <= elapsed <= LATEST, f"direct TLS: closed after {elapsed:.2f} s"
    results["direct_tls"] = elapsed


def _run_concurrently(targets, server):
    """The cases run at the same time, so the module waits for one timeout, not four."""
    results, errors = {}, []

    def wrap(fn):
        try:
            fn(server, results)
        except BaseException as e:  # noqa: BLE001 - re-raised in the main thread
            errors.append(e)

    threads = [threading.Thread(target=wrap, args=(fn,)) for fn in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(LATEST + 30)
    if errors:
        raise errors[0]
    return results


def test_unauthenticated_connections_time_out(server):
    results = _run_concurrently([_silent, _header_only, _stuck_in_sasl, _direct_tls_silent], server)
    assert set(results) == {"silent", "header", "sasl", "direct_tls"}


def test_bound_session_outlives_the_negotiation_timeout(server):
    with RawClient(server) as c:
        started = time.monotonic()
        c.login("bob", resource="stays")
        assert time.monotonic() - started < TIMEOUT, "login too slow to test this"
        time.sleep(TIMEOUT + 1.0)
        reply = c.iq("get", f"<ping xmlns='{NS_PING}'/>", timeout=5)
        assert reply.get("type") == "result"
        assert not c.closed
