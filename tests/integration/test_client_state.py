"""XEP-0352 client state indication in a live parleyd: the feature is offered after
authentication; while a client is inactive, presence updates and chat states wait (only the
newest presence of each contact is kept) and a message with a body goes out at once, after what
waited; <active/> releases what is held."""

from xmpp_helpers import DOMAIN, RawClient, q

CSI = "urn:xmpp:csi:0"
CHATSTATES = "http://jabber.org/protocol/chatstates"


def make_contacts(server, a, b):
    with RawClient(server) as x, RawClient(server) as y:
        x.login(a, resource="setup", roster=True)
        y.login(b, resource="setup", roster=True)
        for p, r, pn, rn in ((x, y, a, b), (y, x, b, a)):
            p.send(f"<presence to='{rn}@{DOMAIN}' type='subscribe'/>")
            r.wait_for(lambda e: e.tag == q("presence") and e.get("type") == "subscribe")
            r.send(f"<presence to='{pn}@{DOMAIN}' type='subscribed'/>")
            p.wait_for(lambda e: e.tag == q("presence") and e.get("type") == "subscribed")


def chat_state(client, to, state="composing"):
    client.send(f"<message to='{to}' type='chat'><{state} xmlns='{CHATSTATES}'/></message>")


def test_inactive_clients_get_presence_and_chat_states_later_and_in_order(server):
    make_contacts(server, "alice", "bob")
    with RawClient(server) as bob, RawClient(server) as alice:
        bob.login("bob", resource="pocket")
        assert bob.features.find(q("csi", CSI)) is not None
        alice.login("alice", resource="desk")
        bob.wait_for(lambda e: e.tag == q("presence") and e.get("from") == f"alice@{DOMAIN}/desk")
        bob.send(f"<inactive xmlns='{CSI}'/>")
        bob.iq("get", "<ping xmlns='urn:xmpp:ping'/>")  # the state change is processed

        alice.send("<presence><show>away</show></presence>")
        alice.send("<presence><show>dnd</show><status>in a meeting</status></presence>")
        chat_state(alice, f"bob@{DOMAIN}/pocket")
        bob.drain(1.0)
        assert not [e for e in bob.pending if e.get("from") == f"alice@{DOMAIN}/desk"]

        # A real message wakes the client: what waited comes first, then the message.
        alice.message(f"bob@{DOMAIN}/pocket", "are you there?")
        bob.wait_message("are you there?")
        arrived = [e for e in bob.pending if e.get("from") == f"alice@{DOMAIN}/desk"]
        presences = [e for e in arrived if e.tag == q("presence")]
        assert len(presences) == 1, "only the newest presence of a contact is kept"
        assert presences[0].findtext(q("show")) == "dnd"
        assert [e for e in arrived if e.tag == q("message")
                and e.find(q("composing", CHATSTATES)) is not None]


def test_active_releases_what_was_held(server):
    with RawClient(server) as bob, RawClient(server) as alice:
        bob.login("bob", resource="pocket2")
        alice.login("alice", resource="desk2")
        bob.wait_for(lambda e: e.tag == q("presence") and e.get("from") == f"alice@{DOMAIN}/desk2")
        bob.send(f"<inactive xmlns='{CSI}'/>")
        bob.iq("get", "<ping xmlns='urn:xmpp:ping'/>")
        chat_state(alice, f"bob@{DOMAIN}/pocket2", "paused")
        alice.send("<presence><show>xa</show></presence>")
        bob.drain(1.0)
        assert not [e for e in bob.pending if e.get("from") == f"alice@{DOMAIN}/desk2"]
        bob.send(f"<active xmlns='{CSI}'/>")
        bob.wait_for(lambda e: e.tag == q("message") and e.find(q("paused", CHATSTATES))
                     is not None)
        p = bob.wait_for(lambda e: e.tag == q("presence") and
                         e.get("from") == f"alice@{DOMAIN}/desk2")
        assert p.findtext(q("show")) == "xa"
        # Active again: a chat state arrives at once.
        chat_state(alice, f"bob@{DOMAIN}/pocket2", "composing")
        bob.wait_for(lambda e: e.tag == q("message") and e.find(q("composing", CHATSTATES))
                     is not None, timeout=3)
