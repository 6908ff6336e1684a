"""Stream-level protections: STARTTLS policy, restricted XML, size limits, auth before stanzas."""

from xmpp_helpers import DOMAIN, RawClient, q

STREAM_OPEN = (
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
    f"to='{DOMAIN}' version='1.0'>"
)


def test_plaintext_stanza_before_starttls_is_policy_violation(server):
    with RawClient(server) as c:
        c.open_stream()
        c.send(f"<message to='bob@{DOMAIN}' type='chat'><body>in the clear</body></message>")
        cond, text = c.stream_error()
        assert cond == "policy-violation"
        assert text and text.strip(), "the policy-violation must explain itself in a <text/>"
        assert c.wait_closed()


def test_doctype_is_restricted_xml(server):
    with RawClient(server) as c:
        c.send("<?xml version='1.0'?><!DOCTYPE stream:stream [<!ENTITY boom 'boom'>]>" + STREAM_OPEN)
        cond, _ = c.stream_error()
        assert cond == "restricted-xml"
        assert c.wait_closed()


def test_processing_instruction_is_restricted_xml(server):
    with RawClient(server, direct_tls=True) as c:
        c.open_stream()
        c.send("<?evil instruction?>")
        cond, _ = c.stream_error()
        assert cond == "restricted-xml"


def test_comment_after_login_is_restricted_xml(server):
    with RawClient(server) as c:
        c.login("alice", resource="comment")
        c.send("<!-- a comment -->")
        cond, _ = c.stream_error()
        assert cond == "restricted-xml"
        assert c.wait_closed()


def test_malformed_xml_is_not_well_formed(server):
    with RawClient(server, direct_tls=True) as c:
        c.open_stream()
        c.send("<message><body>x</wrong></message>")
        cond, _ = c.stream_error()
        assert cond == "not-well-formed"


def test_oversized_stanza_after_auth_is_policy_violation(server):
    with RawClient(server) as c:
        c.login("bob", resource="big")
        # limits.max_stanza_bytes is 65536 in the test configuration. The element is never
        # closed: the limit has to fire while it is still being received.
        c.send(f"<message to='alice@{DOMAIN}' type='chat'><body>")
        chunk = "x" * 8192
        try:
            for _ in range(10):
                c.send(chunk)
        except OSError:
            pass  # the server may already have closed the connection
        cond, _ = c.stream_error()
        assert cond == "policy-violation"


def test_post_auth_limit_is_advertised(server):
    """XEP-0478: the post-authentication limit is announced in the stream features."""
    with RawClient(server) as c:
        c.open_stream()
        c.starttls()
        features = c.authenticate("carol", server.password("carol"), "SCRAM-SHA-256")
        limits = features.find(q("limits", "urn:xmpp:stream-limits:0"))
        assert limits is not None, "no <limits xmlns='urn:xmpp:stream-limits:0'/> after auth"
        assert limits.findtext(q("max-bytes", "urn:xmpp:stream-limits:0")) == "65536"


def test_oversized_pre_auth_stanza_is_policy_violation(server):
    with RawClient(server, direct_tls=True) as c:
        c.open_stream()
        c.send("<message><body>")
        try:
            c.send("y" * 9000)  # pre-auth limit: 8 KiB
        except OSError:
            pass
        cond, _ = c.stream_error()
        assert cond == "policy-violation"


def test_stanza_before_auth_is_not_authorized(server):
    with RawClient(server) as c:
        c.open_stream()
        c.starttls()
        c.send(f"<iq type='get' id='early' to='{DOMAIN}'><ping xmlns='urn:xmpp:ping'/></iq>")
        cond, _ = c.stream_error()
        assert cond == "not-authorized"
        assert c.wait_closed()


def test_unknown_host_is_host_unknown(server):
    with RawClient(server) as c:
        c.send(c.header(to="not-served.example"))
        cond, _ = c.stream_error()
        assert cond == "host-unknown"

