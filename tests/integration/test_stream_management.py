"""XEP-0198 stream management in a live parleyd: the feature after authentication; enabling
after (not before) binding; <r/> answered with the number of stanzas handled; the server asking
for acknowledgements; <handled-count-too-high/>; resumption after a dropped TCP connection,
with everything the client had not acknowledged sent again and the session never seen offline
by contacts; a resumption that comes too late, whose messages then wait in offline storage; and
resumptions that must fail (unknown id, another account's session)."""

import time

import pytest

from xmpp_helpers import DOMAIN, RawClient, q

SM = "urn:xmpp:sm:3"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_STREAM_ERRORS = "urn:ietf:params:xml:ns:xmpp-streams"
NS_DELAY = "urn:xmpp:delay"

RESUME_TIMEOUT = 3
SERVER_LIMITS = {"sm_resume_timeout": RESUME_TIMEOUT}


def authenticated(server, user):
    """A client that has authenticated but not bound (post-auth features in .features)."""
    c = RawClient(server)
    c.open_stream()
    c.starttls()
    c.authenticate(user, server.password(user))
    return c


def enable(client, resume=True):
    client.send(f"<enable xmlns='{SM}'" + (" resume='true'" if resume else "") + "/>")
    enabled = client.wait_for(lambda e: e.tag in (q("enabled", SM), q("failed", SM)))
    assert enabled.tag == q("enabled", SM), enabled
    return enabled


def handled(client):
    """Asks the server how many of our stanzas it handled."""
    client.send(f"<r xmlns='{SM}'/>")
    return int(client.wait_for(lambda e: e.tag == q("a", SM)).get("h"))


def drop(client):
    """The connection dies: no </stream:stream>, no TLS close_notify."""
    client.sock.close()
    client.closed = True


def chats(client, prefix, count, timeout=10):
    """The bodies of the next `count` chat messages starting with `prefix`, in arrival order."""
    got = []
    for _ in range(count):
        m = client.wait_for(lambda e: e.tag == q("message") and
                            (e.findtext(q("body")) or "").startswith(prefix), timeout)
        got.append(m.findtext(q("body")))
    return got


def test_the_feature_comes_after_authentication_and_enable_after_bind(server):
    c = RawClient(server)
    try:
        features = c.open_stream()
        assert features.find(q("sm", SM)) is None  # not before authentication
    finally:
        c.close()
    c = authenticated(server, "alice")
    try:
        assert c.features.find(q("sm", SM)) is not None
        c.send(f"<enable xmlns='{SM}'/>")
        failed = c.wait_for(lambda e: e.tag == q("failed", SM))
        assert failed.find(q("unexpected-request", NS_STANZAS)) is not None
        c.bind("sm-order")
        enabled = enable(c, resume=False)
        assert enabled.get("id") is None  # acknowledgements only
        c.send(f"<enable xmlns='{SM}'/>")  # twice
        again = c.wait_for(lambda e: e.tag == q("failed", SM))
        assert again.find(q("unexpected-request", NS_STANZAS)) is not None
    finally:
        c.close()


def test_acknowledgements_both_ways(server):
    with RawClient(server) as bob:
        bob.login("bob", resource="acks")
        enable(bob)
        assert handled(bob) == 0
        for _ in range(3):
            assert bob.iq("get", "<ping xmlns='urn:xmpp:ping'/>").get("type") == "result"
        bob.send("<presence/>")  # handled, though nothing answers it
        assert handled(bob) == 4
        with RawClient(server) as alice:
            alice.login("alice", resource="acks")
            alice.message(f"bob@{DOMAIN}/acks", "ack me")
            # The server asks for an acknowledgement after sending.
            bob.wait_for(lambda e: e.tag == q("message"))
            bob.wait_for(lambda e: e.tag == q("r", SM))


def test_handled_count_too_high_ends_the_stream(server):
    with RawClient(server) as bob:
        bob.login("bob", resource="toohigh")
        enable(bob)
        bob.send(f"<a xmlns='{SM}' h='1000'/>")
        err = bob.wait_for(lambda e: e.tag == q("error", "http://etherx.jabber.org/streams"))
        assert err.find(q("undefined-condition", NS_STREAM_ERRORS)) is not None
        too_high = err.find(q("handled-count-too-high", SM))
        assert too_high is not None and too_high.get("h") == "1000"
        assert int(too_high.get("send-count")) < 1000
        assert bob.wait_closed()


@pytest.fixture(scope="module")
def alice_sees_bob(server):
    with RawClient(server) as a, RawClient(server) as b:
        a.login("alice", resource="setup", roster=True)
        b.login("bob", resource="setup", roster=True)
        a.send(f"<presence to='bob@{DOMAIN}' type='subscribe'/>")
        b.wait_for(lambda e: e.tag == q("presence") and e.get("type") == "subscribe")
        b.send(f"<presence to='alice@{DOMAIN}' type='subscribed'/>")
        a.wait_for(lambda e: e.tag == q("presence") and e.get("type") == "subscribed")


def test_resumption_sends_again_what_was_not_acknowledged(server, alice_sees_bob):
    with RawClient(server) as alice:
        alice.login("alice", resource="sender", roster=True)
        bob = RawClient(server)
        bob.login("bob", resource="phone")
        enabled = enable(bob)
        previd = enabled.get("id")
        assert enabled.get("resume") == "true" and int(enabled.get("max")) == RESUME_TIMEOUT
        for i in range(3):
            alice.message(f"bob@{DOMAIN}/phone", f"before {i}")
        assert chats(bob, "before", 3) == ["before 0", "before 1", "before 2"]
        # bob answers (one stanza handled by the server), acknowledges the first message only,
        # then his network goes away.
        bob.message(f"alice@{DOMAIN}/sender", "read")
        alice.wait_message("read")
        h_before = handled(bob)
        assert h_before == 1
        bob.send(f"<a xmlns='{SM}' h='1'/>")
        handled(bob)  # round trip: the <a/> was processed
        drop(bob)
        time.sleep(0.5)
        for i in range(2):
            alice.message(f"bob@{DOMAIN}/phone", f"during {i}")

        again = authenticated(server, "bob")
        try:
            # The resumption itself acknowledges one more (XEP-0198 §5: h in <resume/>).
            again.send(f"<resume xmlns='{SM}' previd='{previd}' h='2'/>")
            resumed = again.wait_for(lambda e: e.tag in (q("resumed", SM), q("failed", SM)))
            assert resumed.tag == q("resumed", SM), resumed
            assert resumed.get("previd") == previd
            assert int(resumed.get("h")) == h_before  # <a/> and <r/> are not stanzas
            assert chats(again, "", 3) == ["before 2", "during 0", "during 1"]
            # The session goes on: same full JID, messages flow, acks continue from there.
            alice.message(f"bob@{DOMAIN}/phone", "after")
            assert chats(again, "after", 1) == ["after"]
            again.message(f"alice@{DOMAIN}/sender", "back")
            assert alice.wait_message("back").get("from") == f"bob@{DOMAIN}/phone"
            # alice (who sees bob's presence) never saw bob/phone go offline while he was away.
            alice.drain(0.3)
            assert not [e for e in alice.pending if e.tag == q("presence")
                        and e.get("from") == f"bob@{DOMAIN}/phone"
                        and e.get("type") == "unavailable"]
        finally:
            again.close()


def test_a_late_resumption_fails_and_nothing_is_lost(server):
    with RawClient(server) as alice:
        alice.login("alice", resource="sender2")
        bob = RawClient(server)
        bob.login("bob", resource="late")
        previd = enable(bob).get("id")
        alice.message(f"bob@{DOMAIN}/late", "unacknowledged")
        chats(bob, "unack", 1)
        drop(bob)
        time.sleep(RESUME_TIMEOUT + 1.5)
        again = authenticated(server, "bob")
        try:
            again.send(f"<resume xmlns='{SM}' previd='{previd}' h='0'/>")
            failed = again.wait_for(lambda e: e.tag in (q("resumed", SM), q("failed", SM)))
            assert failed.tag == q("failed", SM)
            assert failed.find(q("item-not-found", NS_STANZAS)) is not None
            # The client binds a new session instead and finds the message in offline storage.
            again.bind("late")
            again.send("<presence/>")
            m = again.wait_for(lambda e: e.tag == q("message") and
                               e.findtext(q("body")) == "unacknowledged")
            assert m.find(q("delay", NS_DELAY)) is not None
        finally:
            again.close()


def test_nobody_resumes_another_accounts_session(server):
    bob = RawClient(server)
    bob.login("bob", resource="mine")
    previd = enable(bob).get("id")
    drop(bob)
    carol = authenticated(server, "carol")
    try:
        carol.send(f"<resume xmlns='{SM}' previd='{previd}' h='0'/>")
        failed = carol.wait_for(lambda e: e.tag in (q("resumed", SM), q("failed", SM)))
        assert failed.tag == q("failed", SM)
        carol.send(f"<resume xmlns='{SM}' previd='no-such-id' h='0'/>")
        failed = carol.wait_for(lambda e: e.tag in (q("resumed", SM), q("failed", SM)))
        assert failed.tag == q("failed", SM)
        carol.bind("after-failure")  # binding still works after failed resumptions
    finally:
        carol.close()
    # bob's own resumption still works: carol's attempt took nothing.
    again = authenticated(server, "bob")
    try:
        again.send(f"<resume xmlns='{SM}' previd='{previd}' h='0'/>")
        assert again.wait_for(lambda e: e.tag in (q("resumed", SM), q("failed", SM))).tag == \
            q("resumed", SM)
    finally:
        again.close()
