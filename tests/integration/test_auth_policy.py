"""Authentication beyond the basic SCRAM login: channel binding (-PLUS), PLAIN inside TLS, and
disabled accounts."""

import base64
import hashlib

import pytest

from xmpp_helpers import NS_SASL, AuthFailed, RawClient, q


def _tls_server_end_point(client):
    # RFC 5929 4.1: the hash of the server certificate; the test certificate is signed with
    # SHA-256 (EC P-256), so SHA-256 it is.
    return hashlib.sha256(client.sock.getpeercert(binary_form=True)).digest()


def test_scram_plus_with_tls_server_end_point(server):
    with RawClient(server) as c:
        c.open_stream()
        c.starttls()
        c.authenticate("alice", server.password("alice"), "SCRAM-SHA-256-PLUS",
                       cb_name="tls-server-end-point", cb_data=_tls_server_end_point(c))
        c.bind("plus")
        assert c.jid == "alice@localhost/plus"


def test_scram_plus_with_wrong_binding_is_refused(server):
    # What a man in the middle terminating TLS would present: a different channel.
    with RawClient(server) as c:
        c.open_stream()
        c.starttls()
        with pytest.raises(AuthFailed) as e:
            c.authenticate("alice", server.password("alice"), "SCRAM-SHA-1-PLUS",
                           cb_name="tls-server-end-point", cb_data=b"\x00" * 32)
        assert e.value.condition == "not-authorized"


def test_plain_inside_tls(server):
    with RawClient(server) as c:
        c.open_stream()
        c.starttls()
        token = base64.b64encode(b"\0bob\0" + server.password("bob").encode()).decode()
        c.send(f"<auth xmlns='{NS_SASL}' mechanism='PLAIN'>{token}</auth>")
        assert c.next().tag == q("success", NS_SASL)

    with RawClient(server) as c:
        c.open_stream()
        c.starttls()
        token = base64.b64encode(b"\0bob\0wrong").decode()
        c.send(f"<auth xmlns='{NS_SASL}' mechanism='PLAIN'>{token}</auth>")
        reply = c.next()
        assert reply.tag == q("failure", NS_SASL)
        assert reply.find(q("not-authorized", NS_SASL)) is not None


def test_disabled_account_is_refused_until_enabled(server):
    server.ctl("user", "disable", "erin@localhost")
    try:
        with RawClient(server) as c:
            c.open_stream()
            c.starttls()
            with pytest.raises(AuthFailed) as e:
                c.authenticate("erin", server.password("erin"))
            assert e.value.condition == "account-disabled"
        # A wrong password on a disabled account says nothing about the account's state.
        with RawClient(server) as c:
            c.open_stream()
            c.starttls()
            with pytest.raises(AuthFailed) as e:
                c.authenticate("erin", "not-erins-password")
            assert e.value.condition == "not-authorized"
    finally:
        server.ctl("user", "enable", "erin@localhost")
    with RawClient(server) as c:
        c.login("erin", resource="back")
        assert c.jid == "erin@localhost/back"
