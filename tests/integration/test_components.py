"""XEP-0114 external components in a live parleyd, driven by a raw-socket component: the
handshake (accepted; a wrong secret is <not-authorized/>; an unknown domain <host-unknown/>; a
second connection for a connected domain <conflict/>; a silent one times out), a user's message
to echo.localhost reaches the component and its reply from someone@echo.localhost reaches the
user, a component speaking for a local user is cut off with <invalid-from/>, a stanza without
'to' with <improper-addressing/>, a component's stanza to its own domain is refused instead of
looping, the server answers a component's iq, presence reaches the component (and the
unavailable when the user leaves), stanzas to a disconnected component bounce with
<service-unavailable/>, and disco#items on the server lists the component while it is
connected."""

import hashlib
import time
import xml.etree.ElementTree as ET
from types import SimpleNamespace


from xmpp_helpers import DOMAIN, NS_DISCO_INFO, NS_STREAM, RawClient, q, stanza_error

NS_COMPONENT = "jabber:component:accept"
NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
ECHO = f"echo.{DOMAIN}"
ECHO_SECRET = "echo-Secret-9f2c"
OTHER = f"other.{DOMAIN}"

SERVER_LIMITS = {"negotiation_timeout": 4}
SERVER_EXTRA_YAML = f"""
components:
  - domain: {ECHO}
    secret: {ECHO_SECRET}
  - domain: {OTHER}
    secret: other-secret
"""


class Component(RawClient):
    """A component on the raw XEP-0114 protocol: RawClient's parsing, the component port."""

    def __init__(self, server, timeout=20.0):
        assert server.component_port, "the component listener is not open"
        super().__init__(SimpleNamespace(c2s_port=server.component_port, tls_port=None), False,
                         timeout)

    def open(self, domain=ECHO):
        self.send(f"<?xml version='1.0'?><stream:stream xmlns='{NS_COMPONENT}' "
                  f"xmlns:stream='{NS_STREAM}' to='{domain}'>")
        return self.wait_stream_open()

    def handshake(self, secret=ECHO_SECRET):
        digest = hashlib.sha1((self.stream_attrs["id"] + secret).encode()).hexdigest()
        self.send(f"<handshake>{digest}</handshake>")
        return self.next()

    def wait_stanza(self, tag, predicate=lambda e: True, timeout=None):
        return self.wait_for(lambda e: e.tag == q(tag, NS_COMPONENT) and predicate(e), timeout)


def connect(server, domain=ECHO, secret=ECHO_SECRET):
    component = Component(server)
    component.open(domain)
    reply = component.handshake(secret)
    assert reply.tag == q("handshake", NS_COMPONENT), ET.tostring(reply)
    return component


def wait_disconnected(server, user="carol", domain=ECHO, timeout=10):
    """Until the server no longer routes to `domain` (a closed component is detached
    asynchronously): polls disco#items on the server."""
    with RawClient(server) as probe:
        probe.login(user, presence=False)
        deadline = time.monotonic() + timeout
        while domain in disco_items(probe):
            assert time.monotonic() < deadline, f"{domain} still listed after disconnecting"
            time.sleep(0.1)


def disco_items(client):
    reply = client.iq("get", f"<query xmlns='{NS_DISCO_ITEMS}'/>", to=DOMAIN)
    assert reply.get("type") == "result", ET.tostring(reply)
    return {i.get("jid") for i in reply.iter(q("item", NS_DISCO_ITEMS))}


def test_handshake_is_accepted(server):
    component = Component(server)
    attrs = component.open()
    assert attrs.get("from") == ECHO
    assert attrs.get("id")
    assert component.handshake().tag == q("handshake", NS_COMPONENT)
    component.close()
    assert component.wait_closed()


def test_wrong_secret_is_not_authorized(server):
    component = Component(server)
    component.open()
    reply = component.handshake("not-the-secret")
    assert reply.tag == q("error", NS_STREAM)
    assert reply.find("{urn:ietf:params:xml:ns:xmpp-streams}not-authorized") is not None
    assert component.wait_closed()


def test_unknown_domain_is_host_unknown(server):
    component = Component(server)
    component.send(f"<?xml version='1.0'?><stream:stream xmlns='{NS_COMPONENT}' "
                   f"xmlns:stream='{NS_STREAM}' to='nobody.{DOMAIN}'>")
    cond, text = component.stream_error()
    assert cond == "host-unknown"
    assert f"nobody.{DOMAIN}" in text
    assert component.wait_closed()


def test_client_namespace_is_refused_on_the_component_port(server):
    component = Component(server)
    component.send(f"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                   f"xmlns:stream='{NS_STREAM}' to='{ECHO}'>")
    assert component.stream_error()[0] == "invalid-namespace"


def test_a_silent_component_times_out(server):
    component = Component(server)
    component.open()
    cond, _ = component.stream_error(timeout=15)
    assert cond == "connection-timeout"
    assert component.wait_closed()


def test_second_connection_for_a_domain_is_a_conflict(server):
    first = connect(server)
    second = Component(server)
    second.open()
    reply = second.handshake()
    assert reply.tag == q("error", NS_STREAM)
    assert reply.find("{urn:ietf:params:xml:ns:xmpp-streams}conflict") is not None
    assert second.wait_closed()
    # The first connection still serves the domain.
    with RawClient(server) as alice:
        alice.login("alice")
        alice.message(f"bot@{ECHO}", "still there?")
        got = first.wait_stanza("message")
        assert got.findtext(q("body", NS_COMPONENT)) == "still there?"
    first.close()
    wait_disconnected(server)


def test_message_round_trip_between_user_and_component(server):
    component = connect(server)
    with RawClient(server) as alice:
        alice.login("alice", resource="phone")
        alice.message(ECHO, "hello echo", msg_id="m-echo-1")
        got = component.wait_stanza("message", lambda e: e.get("id") == "m-echo-1")
        assert got.get("from") == alice.jid  # stamped by the server
        assert got.get("to") == ECHO
        assert got.findtext(q("body", NS_COMPONENT)) == "hello echo"

        component.send(f"<message from='someone@{ECHO}/bot' to='{alice.jid}' type='chat' "
                       f"id='m-echo-2'><body>echo: hello echo</body></message>")
        reply = alice.wait_message("echo: hello echo")
        assert reply.get("from") == f"someone@{ECHO}/bot"
        assert reply.get("id") == "m-echo-2"
    component.close()
    wait_disconnected(server)


def test_component_may_not_speak_for_a_local_user(server):
    component = connect(server)
    with RawClient(server) as bob:
        bob.login("bob")
        component.send(f"<message from='alice@{DOMAIN}' to='bob@{DOMAIN}' type='chat'>"
                       f"<body>I am alice, honest</body></message>")
        cond, text = component.stream_error()
        assert cond == "invalid-from"
        assert ECHO in text
        assert component.wait_closed()
        bob.drain(0.8)
        assert not [e for e in bob.pending if e.tag == q("message")]
    wait_disconnected(server)


def test_stanza_without_to_is_improper_addressing(server):
    component = connect(server)
    component.send(f"<message from='x@{ECHO}'><body>to nobody</body></message>")
    assert component.stream_error()[0] == "improper-addressing"
    assert component.wait_closed()
    wait_disconnected(server)


def test_component_stanza_to_its_own_domain_is_not_routed_back(server):
    component = connect(server)
    component.send(f"<message from='a@{ECHO}' to='b@{ECHO}' id='loop-1' type='chat'>"
                   f"<body>round and round</body></message>")
    got = component.wait_stanza("message", lambda e: e.get("id") == "loop-1")
    assert got.get("type") == "error"
    assert stanza_error_ns(got)[1] == "not-allowed"
    # Only the one error: the stanza itself never came back.
    component.drain(0.8)
    assert not [e for e in component.pending if e.get("id") == "loop-1"]
    component.close()
    wait_disconnected(server)


def stanza_error_ns(elem):
    """stanza_error() for an element in the component namespace."""
    err = elem.find(q("error", NS_COMPONENT))
    assert err is not None, ET.tostring(elem)
    ns = "{urn:ietf:params:xml:ns:xmpp-stanzas}"
    conds = [c.tag[len(ns):] for c in err if c.tag.startswith(ns) and c.tag != ns + "text"]
    return err.get("type"), conds[0] if conds else None, err.findtext(ns + "text")


def test_server_answers_a_component_iq(server):
    component = connect(server)
    component.send(f"<iq type='get' id='c-info-1' from='{ECHO}' to='{DOMAIN}'>"
                   f"<query xmlns='{NS_DISCO_INFO}'/></iq>")
    reply = component.wait_stanza("iq", lambda e: e.get("id") == "c-info-1")
    assert reply.get("type") == "result", ET.tostring(reply)
    assert reply.get("to") == ECHO
    assert reply.find(q("query", NS_DISCO_INFO)) is not None
    component.close()
    wait_disconnected(server)


def test_presence_reaches_the_component_and_so_does_leaving(server):
    component = connect(server)
    alice = RawClient(server)
    alice.login("alice", resource="laptop")
    alice.send(f"<presence to='bot@{ECHO}'/>")
    got = component.wait_stanza("presence", lambda e: e.get("from") == alice.jid)
    assert got.get("type") is None
    # The component's presence for bot@ reaches alice.
    component.send(f"<presence from='bot@{ECHO}/x' to='{alice.jid}'/>")
    seen = alice.wait_for(lambda e: e.tag == q("presence") and e.get("from") == f"bot@{ECHO}/x")
    assert seen.get("type") is None
    alice.close()  # the directed presence is undone when alice leaves (RFC 6121 §4.6.3)
    gone = component.wait_stanza("presence", lambda e: e.get("from") == alice.jid
                                 and e.get("type") == "unavailable")
    assert gone.get("to") == f"bot@{ECHO}"
    component.close()
    wait_disconnected(server)


def test_stanzas_to_a_disconnected_component_bounce(server):
    wait_disconnected(server)
    with RawClient(server) as alice:
        alice.login("alice")
        reply = alice.iq("get", f"<query xmlns='{NS_DISCO_INFO}'/>", to=ECHO)
        error_type, cond, text = stanza_error(reply)
        assert (error_type, cond) == ("cancel", "service-unavailable")
        assert "not connected" in text
        alice.message(f"bot@{ECHO}", "anyone?", msg_id="m-absent")
        bounced = alice.wait_for(lambda e: e.tag == q("message") and e.get("id") == "m-absent")
        assert bounced.get("type") == "error"
        assert stanza_error(bounced)[1] == "service-unavailable"
        # Presence is dropped without a word.
        alice.send(f"<presence to='bot@{ECHO}'/>")
        alice.drain(0.8)
        assert not [e for e in alice.pending if e.get("type") == "error"]


def test_disco_items_lists_connected_components(server):
    with RawClient(server) as alice:
        alice.login("alice", presence=False)
        assert ECHO not in disco_items(alice)
        component = connect(server)
        items = disco_items(alice)
        assert ECHO in items
        assert OTHER not in items  # configured, but not connected
        assert f"conference.{DOMAIN}" in items  # the built-in services are still there
        component.close()
    wait_disconnected(server)
