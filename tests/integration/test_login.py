"""Logging in: STARTTLS, direct TLS (XEP-0368), SCRAM-SHA-256/-1, wrong password, resources."""

import pytest

from xmpp_helpers import (
    DOMAIN, NS_TLS, AuthFailed, RawClient, bare, q, run, slix_login, slixmpp,
)


def require_slixmpp():
    if slixmpp is None:
        pytest.fail("python3-slixmpp is not installed (deploy/install-deps installs it)")


def test_starttls_required_and_advertised(server):
    with RawClient(server) as c:
        features = c.open_stream()
        attrs = c.stream_attrs
        assert attrs.get("from") == DOMAIN
        assert attrs.get("id"), "the stream header must carry an id"
        assert attrs.get("version") == "1.0"
        starttls = features.find(q("starttls", NS_TLS))
        assert starttls is not None, "STARTTLS must be offered on the c2s port"
        assert starttls.find(q("required", NS_TLS)) is not None, "STARTTLS must be required"
        assert "PLAIN" not in c.mechanisms(), "PLAIN must never be offered before TLS"
        c.starttls()
        mechs = c.mechanisms()
        assert "SCRAM-SHA-256" in mechs and "SCRAM-SHA-1" in mechs, mechs


def test_raw_scram_sha256_login_and_bind(server):
    with RawClient(server) as c:
        c.login("alice", resource="raw256", mechanism="SCRAM-SHA-256")
        assert c.jid == f"alice@{DOMAIN}/raw256"


def test_raw_scram_sha1_login_server_generated_resource(server):
    with RawClient(server) as c:
        c.login("bob", mechanism="SCRAM-SHA-1")
        assert bare(c.jid) == f"bob@{DOMAIN}"
        assert "/" in c.jid and c.jid.split("/", 1)[1], "the server must generate a resource"


def test_slixmpp_starttls_scram_sha256(server):
    require_slixmpp()

    async def body():
        c = await slix_login(server, "alice", resource="slix", mech="SCRAM-SHA-256")
        try:
            assert c.auth_mechanism == "SCRAM-SHA-256"
            assert str(c.boundjid) == f"alice@{DOMAIN}/slix"
            assert c.is_connected()
        finally:
            await c.close()

    run(body())


def test_slixmpp_scram_sha1(server):
    require_slixmpp()

    async def body():
        c = await slix_login(server, "bob", resource="sha1", mech="SCRAM-SHA-1")
        try:
            assert str(c.boundjid) == f"bob@{DOMAIN}/sha1"
        finally:
            await c.close()

    run(body())


def test_slixmpp_default_mechanism_choice(server):
    """Whatever slixmpp picks from what we offer (maybe a -PLUS variant) must work."""
    require_slixmpp()

    async def body():
        c = await slix_login(server, "carol", resource="default")
        print(f"slixmpp authenticated with {c.auth_mechanism}")
        await c.close()

    run(body())


def test_wrong_password_raw(server):
    with RawClient(server) as c:
        c.open_stream()
        c.starttls()
        with pytest.raises(AuthFailed) as e:
            c.authenticate("dave", "not-the-password", "SCRAM-SHA-256")
        assert e.value.condition == "not-authorized"


def test_unknown_user_same_failure_as_wrong_password(server):
    with RawClient(server) as c:
        c.open_stream()
        c.starttls()
        with pytest.raises(AuthFailed) as e:
            c.authenticate("nosuchuser", "whatever", "SCRAM-SHA-1")
        assert e.value.condition == "not-authorized"


def test_wrong_password_slixmpp(server):
    require_slixmpp()

    async def body():
        with pytest.raises(AuthFailed) as e:
            await slix_login(server, "erin", password="wrong", mech="SCRAM-SHA-256", timeout=30)
        assert e.value.condition == "not-authorized"

    run(body())


def test_direct_tls_raw(server):
    with RawClient(server, direct_tls=True) as c:
        features = c.open_stream()
        assert features.find(q("starttls", NS_TLS)) is None, "no STARTTLS inside direct TLS"
        c.login("alice", resource="direct", mechanism="SCRAM-SHA-256")
        assert c.jid == f"alice@{DOMAIN}/direct"


def test_direct_tls_slixmpp(server):
    require_slixmpp()

    async def body():
        c = await slix_login(server, "bob", resource="xep0368", direct_tls=True)
        try:
            assert str(c.boundjid) == f"bob@{DOMAIN}/xep0368"
        finally:
            await c.close()

    run(body())


def test_two_resources_of_one_account(server):
    require_slixmpp()

    async def body():
        a1 = await slix_login(server, "carol", resource="laptop")
        a2 = await slix_login(server, "carol", resource="phone")
        try:
            # Both sessions live: a message to each full JID reaches exactly that one.
            a1.send_message(mto=f"carol@{DOMAIN}/phone", mbody="to phone", mtype="chat")
            a2.send_message(mto=f"carol@{DOMAIN}/laptop", mbody="to laptop", mtype="chat")
            m2 = await a2.next_message(body="to phone")
            m1 = await a1.next_message(body="to laptop")
            assert str(m2["from"]) == f"carol@{DOMAIN}/laptop"
            assert str(m1["from"]) == f"carol@{DOMAIN}/phone"
            # Each resource sees the other's available presence.
            await a1.next_presence(lambda p: str(p["from"]) == f"carol@{DOMAIN}/phone"
                                   and p["type"] in ("available", ""))
        finally:
            await a1.close()
            await a2.close()

    run(body())


def test_resource_conflict_replaces_old_session(server):
    old = RawClient(server)
    new = RawClient(server)
    try:
        old.login("frank", resource="desk")
        new.login("frank", resource="desk")
        assert new.jid == f"frank@{DOMAIN}/desk"
        cond, _text = old.stream_error()
        assert cond == "conflict"
        assert old.wait_closed(), "the replaced session must be closed"
        # The new session works.
        pong = new.iq("get", "<ping xmlns='urn:xmpp:ping'/>")
        assert pong.get("type") == "result"
    finally:
        old.close()
        new.close()
