"""XEP-0199 server pings for dead connections in a live parleyd (limits.idle_ping_after and
idle_ping_timeout, shortened here to 1 s each): a bound client that sends nothing is pinged from
the domain, and closed with <connection-timeout/> if it stays silent; a client that answers, or
that keeps talking, stays connected; and once a silent client is gone, messages to it are
stored for later instead of going to a dead socket."""

import time

from xmpp_helpers import DOMAIN, RawClient, q

PING = "urn:xmpp:ping"
SERVER_LIMITS = {"idle_ping_after": 1, "idle_ping_timeout": 1}


def _is_ping(element, client):
    return (element.tag == q("iq") and element.get("type") == "get"
            and element.get("from") == DOMAIN and element.get("to") == client.jid
            and element.find(q("ping", PING)) is not None)


def test_a_silent_client_is_pinged_then_closed(server):
    with RawClient(server) as alice, RawClient(server) as bob:
        alice.login("alice", resource="silent")
        started = time.monotonic()
        ping = alice.wait_for(lambda e: _is_ping(e, alice), timeout=5)
        assert ping.get("id")
        condition, text = alice.stream_error(timeout=6)
        elapsed = time.monotonic() - started
        assert condition == "connection-timeout", (condition, text)
        assert "did not answer a ping within 1 seconds" in text
        assert 1.5 <= elapsed <= 8, elapsed
        assert alice.wait_closed()
        # Alice is no longer online: a message to her is kept for her next login.
        bob.login("bob", resource="after-silent")
        bob.message(f"alice@{DOMAIN}", "kept for later", msg_id="idle-1")
        time.sleep(0.5)
    with RawClient(server) as alice:
        alice.login("alice", resource="back")
        assert alice.wait_message("kept for later", timeout=5).get("id") == "idle-1"
    assert "not even an answer to a ping; closing it" in server.log()


def test_a_client_that_answers_pings_stays(server):
    with RawClient(server) as carol:
        carol.login("carol", resource="answers")
        answered = 0
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                ping = carol.wait_for(lambda e: _is_ping(e, carol), timeout=0.5)
            except TimeoutError:
                continue
            carol.send(f"<iq type='result' id='{ping.get('id')}' to='{DOMAIN}'/>")
            answered += 1
        assert answered >= 2, answered
        reply = carol.iq("get", f"<ping xmlns='{PING}'/>")
        assert reply.get("type") == "result"  # still connected


def test_a_client_that_keeps_talking_is_not_pinged(server):
    with RawClient(server) as dave:
        dave.login("dave", resource="talks")
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            dave.send("<presence><show>chat</show></presence>")
            dave.drain(0.4)
        assert not [e for e in dave.pending if _is_ping(e, dave)]
        reply = dave.iq("get", f"<ping xmlns='{PING}'/>")
        assert reply.get("type") == "result"
