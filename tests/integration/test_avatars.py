"""XEP-0398 avatar conversion and XEP-0153 presence hashes in a live parleyd: an avatar published
with XEP-0084 appears as the vCard PHOTO; a vCard PHOTO is published to PEP, with notifications
to contacts who asked for them; and available presence, broadcast or directed, carries the
avatar's SHA-1 unless the client put a <photo/> of its own."""

import base64
import hashlib

import pytest

from test_pep import PUBSUB, PUBSUB_EVENT, event_items, items_of, login_with_caps, publish
from xmpp_helpers import DOMAIN, NS_DISCO_INFO, NS_VCARD, RawClient, q, stanza_error

AVATAR_DATA = "urn:xmpp:avatar:data"
AVATAR_META = "urn:xmpp:avatar:metadata"
UPDATE = "vcard-temp:x:update"

IMAGE_A = b"\x89PNG\r\n\x1a\n" + b"first avatar " * 20
IMAGE_B = b"GIF89a" + b"second avatar " * 30


def sha1(data):
    return hashlib.sha1(data).hexdigest()


def b64(data):
    return base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def contacts(server):
    """bob sees alice's presence (and alice bob's); carol sees nobody's."""
    with RawClient(server) as a, RawClient(server) as b:
        a.login("alice", resource="setup", roster=True)
        b.login("bob", resource="setup", roster=True)
        for x, y, xn, yn in ((b, a, "bob", "alice"), (a, b, "alice", "bob")):
            x.send(f"<presence to='{yn}@{DOMAIN}' type='subscribe'/>")
            y.wait_for(lambda e: e.tag == q("presence") and e.get("type") == "subscribe")
            y.send(f"<presence to='{xn}@{DOMAIN}' type='subscribed'/>")
            x.wait_for(lambda e: e.tag == q("presence") and e.get("type") == "subscribed")


def photo_hash(presence):
    photo = presence.find(f"{q('x', UPDATE)}/{q('photo', UPDATE)}")
    return None if photo is None else (photo.text or "")


def presence_from(client, jid, timeout=5):
    return client.wait_for(lambda e: e.tag == q("presence") and e.get("from") == jid
                           and e.get("type") is None, timeout)


def vcard_photo(client, owner):
    reply = client.iq("get", f"<vCard xmlns='{NS_VCARD}'/>", to=f"{owner}@{DOMAIN}")
    assert reply.get("type") == "result", stanza_error(reply)
    photo = reply.find(f"{q('vCard', NS_VCARD)}/{q('PHOTO', NS_VCARD)}")
    if photo is None:
        return None
    return (photo.findtext(q("TYPE", NS_VCARD)),
            base64.b64decode("".join(photo.findtext(q("BINVAL", NS_VCARD)).split())))


def test_the_account_announces_the_conversion(server):
    with RawClient(server) as alice:
        alice.login("alice", resource="disco")
        info = alice.iq("get", f"<query xmlns='{NS_DISCO_INFO}'/>", to=f"alice@{DOMAIN}")
        assert "urn:xmpp:pep-vcard-conversion:0" in {
            f.get("var") for f in info.iter(q("feature", NS_DISCO_INFO))}


def test_a_pep_avatar_becomes_the_vcard_photo_and_the_presence_hash(server, contacts):
    with RawClient(server) as alice, RawClient(server) as bob, RawClient(server) as carol:
        bob.login("bob", resource="watch")
        carol.login("carol", resource="x")
        alice.login("alice", resource="pep", presence=False)
        avatar_id = sha1(IMAGE_A)
        reply = publish(alice, AVATAR_DATA, f"<data xmlns='{AVATAR_DATA}'>{b64(IMAGE_A)}</data>",
                        item_id=avatar_id)
        assert reply.get("type") == "result", stanza_error(reply)
        reply = publish(alice, AVATAR_META,
                        f"<metadata xmlns='{AVATAR_META}'><info id='{avatar_id}' "
                        f"type='image/png' bytes='{len(IMAGE_A)}'/></metadata>",
                        item_id=avatar_id)
        assert reply.get("type") == "result", stanza_error(reply)
        # Anyone may read a vCard: the stranger sees the photo too (XEP-0398 §6 warns of it).
        assert vcard_photo(carol, "alice") == ("image/png", IMAGE_A)

        # The client says nothing of avatars in its presence; the contact gets the hash.
        alice.send("<presence/>")
        assert photo_hash(presence_from(bob, alice.jid)) == avatar_id
        # Directed presence (as a MUC join is) carries it too.
        alice.send(f"<presence to='carol@{DOMAIN}'/>")
        assert photo_hash(presence_from(carol, alice.jid)) == avatar_id
        # A client's own empty <photo/> ("no avatar") is left alone; an <x/> without one is not.
        alice.send(f"<presence><x xmlns='{UPDATE}'><photo/></x></presence>")
        assert photo_hash(presence_from(bob, alice.jid)) == ""
        alice.send(f"<presence><show>away</show><x xmlns='{UPDATE}'/></presence>")
        assert photo_hash(presence_from(bob, alice.jid)) == avatar_id


def test_a_vcard_photo_is_published_to_pep(server, contacts):
    with RawClient(server) as alice, RawClient(server) as bob, RawClient(server) as carol:
        login_with_caps(bob, "bob", "avatar-watch", [AVATAR_META])
        carol.login("carol", resource="y")
        bob.drain(1.0)
        bob.pending.clear()
        alice.login("alice", resource="legacy", presence=False)
        vcard = (f"<vCard xmlns='{NS_VCARD}'><FN>Alice</FN><PHOTO><TYPE>image/gif</TYPE>"
                 f"<BINVAL>{b64(IMAGE_B)}</BINVAL></PHOTO></vCard>")
        reply = alice.iq("set", vcard, to=None)
        assert reply.get("type") == "result", stanza_error(reply)
        new_id = sha1(IMAGE_B)
        event = bob.wait_for(lambda e: e.tag == q("message")
                             and e.get("from") == f"alice@{DOMAIN}"
                             and event_items(e, AVATAR_META) is not None)
        item = event_items(event, AVATAR_META).find(q("item", PUBSUB_EVENT))
        assert item.get("id") == new_id
        info = item.find(f"{{{AVATAR_META}}}metadata/{{{AVATAR_META}}}info")
        assert info.get("id") == new_id and info.get("type") == "image/gif"
        assert info.get("bytes") == str(len(IMAGE_B))
        # The contact can fetch the data under that id; the stranger cannot (presence access).
        got = items_of(bob, "alice", AVATAR_DATA)
        assert got.get("type") == "result", stanza_error(got)
        data = got.find(f"{q('pubsub', PUBSUB)}/{q('items', PUBSUB)}/{q('item', PUBSUB)}")
        assert data.get("id") == new_id
        assert base64.b64decode(data.findtext(f"{{{AVATAR_DATA}}}data")) == IMAGE_B
        assert items_of(carol, "alice", AVATAR_DATA).get("type") == "error"
        # And alice's presence now carries the new hash.
        alice.send("<presence/>")
        assert photo_hash(presence_from(bob, alice.jid)) == new_id

        # Setting the same vCard again publishes nothing new.
        bob.drain(0.5)
        bob.pending.clear()
        alice.iq("set", vcard, to=None)
        bob.drain(1.0)
        assert not [e for e in bob.pending if e.tag == q("message")
                    and event_items(e, AVATAR_META) is not None]
