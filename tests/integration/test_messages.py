"""Message routing: bare and full JIDs, offline storage with XEP-0203 delay, 'from' stamping,
errors for unknown users."""

import asyncio

import pytest

from xmpp_helpers import (
    DOMAIN, NS_DELAY, RawClient, q, run, slix_login, slixmpp, stanza_error,
)


def require_slixmpp():
    if slixmpp is None:
        pytest.fail("python3-slixmpp is not installed (deploy/install-deps installs it)")


def test_message_to_bare_and_full_jid(server):
    require_slixmpp()

    async def body():
        alice = await slix_login(server, "alice", resource="desk")
        bob = await slix_login(server, "bob", resource="phone")
        try:
            alice.send_message(mto=f"bob@{DOMAIN}", mbody="hello bare bob", mtype="chat")
            m = await bob.next_message(body="hello bare bob")
            assert str(m["from"]) == f"alice@{DOMAIN}/desk"
            assert m["type"] == "chat"

            alice.send_message(mto=f"bob@{DOMAIN}/phone", mbody="hello full bob", mtype="chat")
            m = await bob.next_message(body="hello full bob")
            assert str(m["from"]) == f"alice@{DOMAIN}/desk"
            assert str(m["to"]) == f"bob@{DOMAIN}/phone"

            # And a reply the other way, type normal.
            bob.send_message(mto=f"alice@{DOMAIN}/desk", mbody="hi alice", mtype="normal")
            m = await alice.next_message(body="hi alice")
            assert str(m["from"]) == f"bob@{DOMAIN}/phone"
        finally:
            await alice.close()
            await bob.close()

    run(body())


def test_offline_message_delivered_at_next_login_with_delay(server):
    require_slixmpp()

    async def body():
        # carol logs in and out once so the account has been used (not required, but realistic).
        carol = await slix_login(server, "carol", resource="r")
        await carol.close()

        alice = await slix_login(server, "alice", resource="offline-sender")
        try:
            for i in range(3):
                alice.send_message(mto=f"carol@{DOMAIN}", mbody=f"while you were out {i}", mtype="chat")
            # A round trip makes sure the server has handled the messages before carol logs in.
            await alice.get_roster(timeout=15)
            await asyncio.sleep(0.5)
        finally:
            await alice.close()

        carol = await slix_login(server, "carol", resource="back")
        try:
            got = []
            for i in range(3):
                m = await carol.next_message(timeout=20)
                got.append(m)
            assert [m["body"] for m in got] == [f"while you were out {i}" for i in range(3)]
            for m in got:
                assert m["from"].bare == f"alice@{DOMAIN}"
                delay = m.xml.find(q("delay", NS_DELAY))
                assert delay is not None, "offline messages carry XEP-0203 <delay/>"
                assert delay.get("stamp"), "a <delay/> needs a stamp"
                assert delay.get("from") in (DOMAIN, None)
        finally:
            await carol.close()

        # Delivered once: a further login gets nothing more.
        carol = await slix_login(server, "carol", resource="again")
        try:
            with pytest.raises(asyncio.TimeoutError):
                await carol.next_message(timeout=2)
        finally:
            await carol.close()

    run(body())


def test_spoofed_from_is_overwritten(server):
    with RawClient(server) as dave, RawClient(server) as erin:
        dave.login("dave", resource="honest")
        erin.login("erin", resource="target")
        dave.send(
            f"<message from='frank@{DOMAIN}/forged' to='{erin.jid}' type='chat' id='spoof1'>"
            "<body>who am I</body></message>"
        )
        m = erin.wait_message(body="who am I")
        assert m.get("from") == dave.jid, f"server must stamp 'from', got {m.get('from')!r}"


def test_message_to_unknown_user_is_service_unavailable(server):
    with RawClient(server) as c:
        c.login("frank", resource="x")
        c.message(f"nobody@{DOMAIN}", "anyone there?", msg_id="unknown1")
        err = c.wait_for(lambda e: e.tag == q("message") and e.get("id") == "unknown1")
        assert err.get("type") == "error"
        assert err.get("from") == f"nobody@{DOMAIN}"
        _type, cond, _text = stanza_error(err)
        assert cond == "service-unavailable"


def test_iq_to_unknown_user_is_service_unavailable(server):
    with RawClient(server) as c:
        c.login("frank", resource="y")
        reply = c.iq("get", "<query xmlns='jabber:iq:version'/>", to=f"nobody@{DOMAIN}/r")
        assert reply.get("type") == "error"
        assert stanza_error(reply)[1] == "service-unavailable"


def test_chat_to_offline_resource_goes_to_bare_jid(server):
    """RFC 6121 8.5.3.2.1: chat to an unavailable resource is handled as if sent to the bare JID."""
    with RawClient(server) as dave, RawClient(server) as erin:
        dave.login("dave", resource="d")
        erin.login("erin", resource="online")
        dave.message(f"erin@{DOMAIN}/gone", "to a gone resource")
        m = erin.wait_message(body="to a gone resource")
        assert m.get("from") == dave.jid


def test_offline_messages_survive_a_restart(server):
    # Which accounts have offline messages is kept in memory and read from the database at
    # start-up; a restart must not make stored messages invisible to the next login.
    with RawClient(server) as bob:
        bob.login("bob", resource="before-restart")
        bodies = [f"stored before the restart {i}" for i in range(3)]
        for body in bodies:
            bob.message(f"carol@{DOMAIN}", body)
        bob.iq("get", "<ping xmlns='urn:xmpp:ping'/>")  # handled in order: all are stored now
    server.restart()
    with RawClient(server) as carol:
        carol.login("carol", resource="after-restart")
        got = [carol.wait_message(body, timeout=10).findtext(q("body")) for body in bodies]
        assert got == bodies
        # Taken, not copied: a second login finds nothing.
    with RawClient(server) as carol:
        carol.login("carol", resource="again")
        carol.drain(1.0)
        assert not [e for e in carol.pending if e.tag == q("message")]
