"""XEP-0280 Message Carbons in a live parleyd: a client that enables carbons gets a copy of what
its account's other resources send (<sent/>) and of what they receive that it did not get itself
(<received/>), each from the account's bare JID and forwarding the original (XEP-0297); a client
that has not enabled them gets nothing extra; <private/> messages are copied nowhere and reach
the recipient without the marker; only chat and normal messages are copied; and a message the
policy chain refuses (here the e2ee module refusing OMEMO) is copied nowhere either."""

import contextlib
import time

from xmpp_helpers import DOMAIN, NS_DISCO_INFO, RawClient, q, stanza_error

CARBONS = "urn:xmpp:carbons:2"
FORWARD = "urn:xmpp:forward:0"

SERVER_EXTRA_YAML = """
modules:
  e2ee:
    enabled: true
"""

OMEMO = (
    "<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='27183'>"
    "<key rid='31415'>c2VjcmV0</key><iv>aXY=</iv></header><payload>cGF5bG9hZA==</payload>"
    "</encrypted><body>I sent you an OMEMO encrypted message</body>"
)


def _enable(client, action="enable"):
    reply = client.iq("set", f"<{action} xmlns='{CARBONS}'/>", to=None)
    assert reply.get("type") == "result", stanza_error(reply)


def _forwarded(element, direction):
    """The message a carbon of `direction` ('sent' or 'received') forwards, or None."""
    if element.tag != q("message"):
        return None
    wrapper = element.find(q(direction, CARBONS))
    if wrapper is None:
        return None
    return wrapper.find(f"{q('forwarded', FORWARD)}/{q('message')}")


def _carbon(client, direction, msg_id, timeout=5):
    """Waits for the carbon of message `msg_id`; returns (copy, forwarded original)."""
    copy = client.wait_for(
        lambda e: (_forwarded(e, direction) is not None
                   and _forwarded(e, direction).get("id") == msg_id), timeout)
    return copy, _forwarded(copy, direction)


def _copies_of(client, msg_id, seconds=1.0):
    """Everything `client` got within `seconds` that concerns message `msg_id`: the original or
    a carbon of it."""
    client.drain(seconds)
    return [e for e in client.pending
            if e.get("id") == msg_id
            or any(_forwarded(e, d) is not None and _forwarded(e, d).get("id") == msg_id
                   for d in ("sent", "received"))]


@contextlib.contextmanager
def _alice_twice_and_bob(server, tag, enable=("desk", "phone")):
    """alice at her desk and on her phone, and bob, logged in; carbons enabled on `enable`."""
    with RawClient(server) as desk, RawClient(server) as phone, RawClient(server) as bob:
        desk.login("alice", resource=f"desk-{tag}")
        phone.login("alice", resource=f"phone-{tag}")
        bob.login("bob", resource=f"pc-{tag}")
        for name, client in (("desk", desk), ("phone", phone)):
            if name in enable:
                _enable(client)
        yield desk, phone, bob


def test_the_server_advertises_carbons(server):
    with RawClient(server) as alice:
        alice.login("alice", resource="disco")
        reply = alice.iq("get", f"<query xmlns='{NS_DISCO_INFO}'/>")
        features = {f.get("var") for f in reply.iter(q("feature", NS_DISCO_INFO))}
        assert CARBONS in features


def test_switching_carbons_takes_a_set(server):
    with RawClient(server) as alice:
        alice.login("alice", resource="switch")
        reply = alice.iq("get", f"<enable xmlns='{CARBONS}'/>", to=None)
        assert stanza_error(reply)[1] == "bad-request"
        _enable(alice)
        _enable(alice)  # repeating is not an error (XEP-0280 §10.1)
        _enable(alice, "disable")
        _enable(alice, "disable")


def test_a_message_to_one_resource_is_copied_to_the_others(server):
    with _alice_twice_and_bob(server, "recv") as (desk, phone, bob):
        bob.message(desk.jid, "to the desk only", msg_id="c-recv")
        assert desk.wait_message("to the desk only").get("id") == "c-recv"
        copy, original = _carbon(phone, "received", "c-recv")
        assert copy.get("from") == f"alice@{DOMAIN}" and copy.get("to") == phone.jid
        assert copy.get("type") == "chat"
        assert original.get("from") == bob.jid and original.get("to") == desk.jid
        assert original.findtext(q("body")) == "to the desk only"
        # The desk got the original, so no copy; the phone got only the copy.
        assert [e.tag for e in _copies_of(desk, "c-recv")] == []
        assert _copies_of(phone, "c-recv") == []


def test_what_one_resource_sends_is_copied_to_the_others(server):
    with _alice_twice_and_bob(server, "sent") as (desk, phone, bob):
        desk.message(f"bob@{DOMAIN}", "sent from the desk", msg_id="c-sent")
        assert bob.wait_message("sent from the desk").get("id") == "c-sent"
        copy, original = _carbon(phone, "sent", "c-sent")
        assert copy.get("from") == f"alice@{DOMAIN}" and copy.get("to") == phone.jid
        assert original.get("from") == desk.jid and original.get("to") == f"bob@{DOMAIN}"
        assert _copies_of(desk, "c-sent") == []  # not back to the sender


def test_a_session_without_carbons_gets_no_copies(server):
    with RawClient(server) as desk, RawClient(server) as tablet, RawClient(server) as bob:
        desk.login("alice", resource="desk-n")
        tablet.login("alice", resource="tablet-n")
        bob.login("bob", resource="pc-n")
        _enable(desk)
        bob.message(desk.jid, "only for the desk", msg_id="c-none-1")
        desk.wait_message("only for the desk")
        desk.message(f"bob@{DOMAIN}", "desk answers", msg_id="c-none-2")
        bob.wait_message("desk answers")
        assert _copies_of(tablet, "c-none-1") == [] and _copies_of(tablet, "c-none-2") == []
        # Enabled, then disabled again: still nothing.
        _enable(tablet)
        _enable(tablet, "disable")
        bob.message(desk.jid, "still only for the desk", msg_id="c-none-3")
        desk.wait_message("still only for the desk")
        assert _copies_of(tablet, "c-none-3") == []


def test_private_messages_are_copied_nowhere_and_lose_the_marker(server):
    with _alice_twice_and_bob(server, "private") as (desk, phone, bob):
        desk.send(f"<message to='{bob.jid}' type='chat' id='c-private'><body>just us</body>"
                  f"<private xmlns='{CARBONS}'/></message>")
        got = bob.wait_message("just us")
        assert got.find(q("private", CARBONS)) is None
        assert _copies_of(phone, "c-private") == []


def test_a_message_to_the_bare_jid_is_copied_only_to_resources_that_did_not_get_it(server):
    with RawClient(server) as desk, RawClient(server) as phone, RawClient(server) as bob:
        desk.login("alice", resource="desk-b")
        # A negative priority: messages to the bare JID do not go to it (RFC 6121 §8.5.2.1.1).
        phone.login("alice", resource="phone-b", presence=False)
        phone.send("<presence><priority>-1</priority></presence>")
        phone.wait_for(lambda e: e.tag == q("presence") and e.get("from") == phone.jid)
        bob.login("bob", resource="pc-b")
        _enable(desk)
        _enable(phone)
        bob.message(f"alice@{DOMAIN}", "to alice", msg_id="c-bare")
        assert desk.wait_message("to alice").get("id") == "c-bare"
        _copy, original = _carbon(phone, "received", "c-bare")
        assert original.get("to") == f"alice@{DOMAIN}"
        assert _copies_of(desk, "c-bare") == []


def test_only_chat_and_normal_messages_are_copied(server):
    with _alice_twice_and_bob(server, "headline", enable=("phone",)) as (desk, phone, bob):
        bob.message(desk.jid, "a headline", type_="headline", msg_id="c-headline")
        desk.wait_message("a headline")
        bob.message(desk.jid, "a normal message", type_="normal", msg_id="c-normal")
        desk.wait_message("a normal message")
        _carbon(phone, "received", "c-normal")
        assert _copies_of(phone, "c-headline") == []


def test_a_refused_message_is_copied_nowhere(server):
    with _alice_twice_and_bob(server, "refused") as (desk, phone, bob):
        desk.send(f"<message to='{bob.jid}' type='chat' id='c-omemo'>{OMEMO}</message>")
        err = desk.wait_for(lambda e: e.get("id") == "c-omemo" and e.get("type") == "error")
        assert stanza_error(err)[1] == "policy-violation"
        time.sleep(0.3)
        assert _copies_of(phone, "c-omemo") == []
        assert _copies_of(bob, "c-omemo") == []


def test_a_message_to_another_own_resource_is_not_copied_back_to_the_sender(server):
    with _alice_twice_and_bob(server, "self") as (desk, phone, bob):
        desk.message(phone.jid, "note to my phone", msg_id="c-self")
        assert phone.wait_message("note to my phone").get("id") == "c-self"
        assert _copies_of(desk, "c-self") == []
        assert _copies_of(phone, "c-self") == []
        assert _copies_of(bob, "c-self") == []
