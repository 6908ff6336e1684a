"""XEP-0163 Personal Eventing (with XEP-0115 caps) in a live parleyd: the account advertises a
PEP service; the owner publishes (nodes created on first publish, publish-options checked as
preconditions); contacts who see the owner's presence and asked for a node with "+notify" in
their caps are notified and get the last item when they come online; the access models
presence, open and whitelist decide who reads; max_items trims; retractions are announced; a
caps hash is trusted for other clients only once verified; and the pep.publish hook lets the
e2ee module refuse OMEMO key publishing with an explanation and an event."""

import base64
import hashlib

import pytest

from xmpp_helpers import DOMAIN, NS_DISCO_INFO, RawClient, q, stanza_error

PUBSUB = "http://jabber.org/protocol/pubsub"
PUBSUB_OWNER = "http://jabber.org/protocol/pubsub#owner"
PUBSUB_EVENT = "http://jabber.org/protocol/pubsub#event"
PUBSUB_ERRORS = "http://jabber.org/protocol/pubsub#errors"
CAPS = "http://jabber.org/protocol/caps"
NS_DATA = "jabber:x:data"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
AVATAR_META = "urn:xmpp:avatar:metadata"
NICK = "http://jabber.org/protocol/nick"
BOOKMARKS = "urn:xmpp:bookmarks:1"

SERVER_EXTRA_YAML = """
modules:
  e2ee:
    enabled: true
"""


def caps_ver(identity, features):
    """XEP-0115 §5.1 for a client with one identity and no extended forms."""
    s = identity + "<" + "".join(f + "<" for f in sorted(features))
    return base64.b64encode(hashlib.sha1(s.encode()).digest()).decode()


CLIENT_IDENTITY = ("client", "pc", "", "parley-test")


def disco_answer(features):
    category, type_, lang, name = CLIENT_IDENTITY
    inner = f"<identity category='{category}' type='{type_}' name='{name}'/>" + "".join(
        f"<feature var='{f}'/>" for f in features)
    return f"<query xmlns='{NS_DISCO_INFO}' node='{{node}}'>{inner}</query>"


def announce(client, features, ver=None):
    """Sends available presence with caps for `features` and answers the server's disco#info
    query if one comes (none does for a hash the server has verified before). Returns the query
    the server sent, or None."""
    ver = ver or caps_ver("/".join(CLIENT_IDENTITY), features)
    client.send(f"<presence><c xmlns='{CAPS}' hash='sha-1' node='https://parley.test/caps' "
                f"ver='{ver}'/></presence>")
    client.wait_for(lambda e: e.tag == q("presence") and e.get("from") == client.jid
                    and e.get("type") is None)
    # The query follows the presence echo (the server asks after broadcasting).
    client.drain(1.0)
    asked = [e for e in client.pending if e.tag == q("iq") and e.get("type") == "get"
             and e.find(q("query", NS_DISCO_INFO)) is not None]
    if not asked:
        return None
    query = asked[0]
    client.pending.remove(query)
    node = query.find(q("query", NS_DISCO_INFO)).get("node")
    assert node == f"https://parley.test/caps#{ver}"
    payload = disco_answer(features).replace("{node}", node)
    client.send(f"<iq type='result' id='{query.get('id')}' to='{query.get('from')}'>"
                f"{payload}</iq>")
    return query


def login_with_caps(client, user, resource, notify_nodes, extra=()):
    client.login(user, resource=resource, presence=False, roster=True)
    features = [NS_DISCO_INFO] + [n + "+notify" for n in notify_nodes] + list(extra)
    return announce(client, features)


def publish(client, node, payload, item_id=None, options=None):
    item_attr = f" id='{item_id}'" if item_id else ""
    opts = ""
    if options:
        fields = "".join(f"<field var='{k}'><value>{v}</value></field>" for k, v in options.items())
        opts = (f"<publish-options><x xmlns='{NS_DATA}' type='submit'>"
                f"<field var='FORM_TYPE' type='hidden'><value>{PUBSUB}#publish-options</value>"
                f"</field>{fields}</x></publish-options>")
    return client.iq("set", f"<pubsub xmlns='{PUBSUB}'><publish node='{node}'>"
                            f"<item{item_attr}>{payload}</item></publish>{opts}</pubsub>", to=None)


def items_of(client, owner, node, max_items=None):
    attr = f" max_items='{max_items}'" if max_items else ""
    return client.iq("get", f"<pubsub xmlns='{PUBSUB}'><items node='{node}'{attr}/></pubsub>",
                     to=f"{owner}@{DOMAIN}")


def event_items(message, node):
    items = message.find(f"{q('event', PUBSUB_EVENT)}/{q('items', PUBSUB_EVENT)}")
    if items is None or items.get("node") != node:
        return None
    return items


def wait_event(client, owner, node, timeout=5):
    return client.wait_for(lambda e: e.tag == q("message") and e.get("from") == f"{owner}@{DOMAIN}"
                           and event_items(e, node) is not None, timeout)


def app_error(reply):
    error = reply.find(q("error"))
    return {c.tag for c in error} if error is not None else set()


def metadata(avatar_id):
    return (f"<metadata xmlns='{AVATAR_META}'><info bytes='1234' id='{avatar_id}' height='64' "
            f"width='64' type='image/png'/></metadata>")


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


def test_the_account_offers_a_pep_service(server):
    with RawClient(server) as alice:
        alice.login("alice", resource="disco")
        reply = alice.iq("get", f"<query xmlns='{NS_DISCO_INFO}'/>", to=f"alice@{DOMAIN}")
        assert reply.get("type") == "result", stanza_error(reply)
        identities = {(i.get("category"), i.get("type"))
                      for i in reply.iter(q("identity", NS_DISCO_INFO))}
        features = {f.get("var") for f in reply.iter(q("feature", NS_DISCO_INFO))}
        assert ("pubsub", "pep") in identities
        assert f"{PUBSUB}#publish-options" in features
        assert f"{PUBSUB}#access-whitelist" in features
        server_info = alice.iq("get", f"<query xmlns='{NS_DISCO_INFO}'/>")
        assert f"{PUBSUB}#pep" in {f.get("var") for f in server_info.iter(q("feature",
                                                                           NS_DISCO_INFO))}


def test_a_contact_is_notified_and_reads_the_items(server, contacts):
    with RawClient(server) as alice, RawClient(server) as bob, RawClient(server) as carol:
        alice.login("alice", resource="pub")
        login_with_caps(bob, "bob", "sub", [AVATAR_META])
        carol.login("carol", resource="x")
        reply = publish(alice, AVATAR_META, metadata("a1"), item_id="a1")
        assert reply.get("type") == "result", stanza_error(reply)
        assert reply.find(f"{q('pubsub', PUBSUB)}/{q('publish', PUBSUB)}/{q('item', PUBSUB)}"
                          ).get("id") == "a1"
        event = wait_event(bob, "alice", AVATAR_META)
        item = event_items(event, AVATAR_META).find(q("item", PUBSUB_EVENT))
        assert item.get("id") == "a1"
        assert item.find(f"{{{AVATAR_META}}}metadata/{{{AVATAR_META}}}info").get("id") == "a1"
        assert event.get("type") == "headline"

        # bob (subscribed) reads; carol (no subscription) is told why not.
        got = items_of(bob, "alice", AVATAR_META)
        assert got.get("type") == "result", stanza_error(got)
        assert [i.get("id") for i in got.iter(q("item", PUBSUB))] == ["a1"]
        refused = items_of(carol, "alice", AVATAR_META)
        assert refused.get("type") == "error"
        assert q("not-authorized", NS_STANZAS) in app_error(refused)
        assert q("presence-subscription-required", PUBSUB_ERRORS) in app_error(refused)
        # carol asked for nothing and sees nothing of the publish.
        carol.drain(0.5)
        assert not [e for e in carol.pending if e.tag == q("message")]


def test_a_client_without_notify_gets_no_events(server, contacts):
    with RawClient(server) as alice, RawClient(server) as bob:
        alice.login("alice", resource="pub2")
        login_with_caps(bob, "bob", "nonotify", [], extra=[NICK])  # no +notify at all
        reply = publish(alice, AVATAR_META, metadata("a2"), item_id="a2")
        assert reply.get("type") == "result", stanza_error(reply)
        bob.drain(1.0)
        assert not [e for e in bob.pending
                    if e.tag == q("message") and event_items(e, AVATAR_META) is not None]


def test_the_last_item_arrives_when_the_contact_comes_online(server, contacts):
    with RawClient(server) as alice:
        alice.login("alice", resource="nick")
        reply = publish(alice, NICK, f"<nick xmlns='{NICK}'>Alice A.</nick>")
        assert reply.get("type") == "result", stanza_error(reply)
    with RawClient(server) as bob:
        # Nobody publishes now: what arrives is the stored last item (alice is even offline).
        login_with_caps(bob, "bob", "late", [NICK])
        event = wait_event(bob, "alice", NICK)
        nick = event_items(event, NICK).find(f"{q('item', PUBSUB_EVENT)}/{{{NICK}}}nick")
        assert nick.text == "Alice A."


def test_whitelist_nodes_stay_with_the_owner(server, contacts):
    with RawClient(server) as desk, RawClient(server) as phone, RawClient(server) as bob:
        desk.login("alice", resource="desk")
        login_with_caps(phone, "alice", "phone", [BOOKMARKS])
        login_with_caps(bob, "bob", "spy", [BOOKMARKS])
        options = {"pubsub#persist_items": "true", "pubsub#access_model": "whitelist",
                   "pubsub#max_items": "max", "pubsub#send_last_published_item": "never"}
        room = f"project-falcon@conference.{DOMAIN}"
        conf = (f"<conference xmlns='{BOOKMARKS}' name='Falcon' autojoin='true'>"
                f"<nick>alice</nick></conference>")
        reply = publish(desk, BOOKMARKS, conf, item_id=room, options=options)
        assert reply.get("type") == "result", stanza_error(reply)
        event = wait_event(phone, "alice", BOOKMARKS)
        assert event_items(event, BOOKMARKS).find(q("item", PUBSUB_EVENT)).get("id") == room
        bob.drain(1.0)
        assert not [e for e in bob.pending if e.tag == q("message")
                    and event_items(e, BOOKMARKS) is not None]
        refused = items_of(bob, "alice", BOOKMARKS)
        assert q("closed-node", PUBSUB_ERRORS) in app_error(refused)
        own = items_of(desk, "alice", BOOKMARKS)
        assert [i.get("id") for i in own.iter(q("item", PUBSUB))] == [room]

        # A second bookmark keeps the first ('max' items), and a publish whose options differ
        # from the node's configuration is refused as a failed precondition.
        room2 = f"sales@conference.{DOMAIN}"
        assert publish(desk, BOOKMARKS, conf, item_id=room2, options=options).get(
            "type") == "result"
        own = items_of(desk, "alice", BOOKMARKS)
        assert [i.get("id") for i in own.iter(q("item", PUBSUB))] == [room2, room]
        clash = publish(desk, BOOKMARKS, conf, item_id="x",
                        options={**options, "pubsub#access_model": "open"})
        assert clash.get("type") == "error"
        assert {q("conflict", NS_STANZAS), q("precondition-not-met", PUBSUB_ERRORS)} <= \
            app_error(clash)


def test_max_items_keeps_the_newest(server, contacts):
    with RawClient(server) as alice:
        alice.login("alice", resource="max")
        for i in range(4):
            reply = publish(alice, "urn:parley:test:history", f"<n xmlns='urn:t'>{i}</n>",
                            item_id=f"i{i}", options={"pubsub#max_items": "2",
                                                      "pubsub#access_model": "open"})
            assert reply.get("type") == "result", stanza_error(reply)
        got = items_of(alice, "alice", "urn:parley:test:history")
        assert [i.get("id") for i in got.iter(q("item", PUBSUB))] == ["i3", "i2"]
        # Republishing an old id makes it the newest.
        publish(alice, "urn:parley:test:history", "<n xmlns='urn:t'>again</n>", item_id="i2",
                options={"pubsub#max_items": "2"})
        got = items_of(alice, "alice", "urn:parley:test:history", max_items=1)
        assert [i.get("id") for i in got.iter(q("item", PUBSUB))] == ["i2"]
        # The node configuration shows what was asked for.
        conf = alice.iq("get", f"<pubsub xmlns='{PUBSUB_OWNER}'><configure "
                               f"node='urn:parley:test:history'/></pubsub>", to=None)
        values = {f.get("var"): f.findtext(q("value", NS_DATA))
                  for f in conf.iter(q("field", NS_DATA))}
        assert values["pubsub#max_items"] == "2"
        assert values["pubsub#access_model"] == "open"


def test_retraction_is_announced_and_others_cannot_publish(server, contacts):
    with RawClient(server) as alice, RawClient(server) as bob:
        alice.login("alice", resource="ret")
        login_with_caps(bob, "bob", "ret", [AVATAR_META])
        assert publish(alice, AVATAR_META, metadata("r1"), item_id="r1").get("type") == "result"
        wait_event(bob, "alice", AVATAR_META)
        reply = alice.iq("set", f"<pubsub xmlns='{PUBSUB}'><retract node='{AVATAR_META}' "
                                f"notify='true'><item id='r1'/></retract></pubsub>", to=None)
        assert reply.get("type") == "result", stanza_error(reply)
        event = bob.wait_for(lambda e: e.tag == q("message") and event_items(e, AVATAR_META)
                             is not None and event_items(e, AVATAR_META).find(
                                 q("retract", PUBSUB_EVENT)) is not None)
        assert event_items(event, AVATAR_META).find(q("retract", PUBSUB_EVENT)).get("id") == "r1"
        # bob cannot publish on alice's account.
        forged = bob.iq("set", f"<pubsub xmlns='{PUBSUB}'><publish node='{AVATAR_META}'><item>"
                               f"{metadata('evil')}</item></publish></pubsub>",
                        to=f"alice@{DOMAIN}")
        assert forged.get("type") == "error"
        assert q("forbidden", NS_STANZAS) in app_error(forged)


def test_a_verified_caps_hash_is_not_asked_again_an_unverified_one_is(server):
    features = [NS_DISCO_INFO, NICK + "+notify", "urn:parley:test:verified"]
    with RawClient(server) as first, RawClient(server) as second:
        first.login("dave", resource="one", presence=False)
        assert announce(first, features) is not None
        second.login("dave", resource="two", presence=False)
        assert announce(second, features) is None
    # A ver that does not match what the client answers is never trusted for another client.
    bogus = "bm90LXRoZS1yZWFsLWhhc2g="
    with RawClient(server) as first, RawClient(server) as second:
        first.login("erin", resource="one", presence=False)
        assert announce(first, features, ver=bogus) is not None
        second.login("erin", resource="two", presence=False)
        assert announce(second, features, ver=bogus) is not None


def test_the_e2ee_module_refuses_omemo_device_lists(server):
    with RawClient(server) as frank:
        frank.login("frank", resource="omemo")
        node = "urn:xmpp:omemo:2:devices"
        reply = publish(frank, node, "<devices xmlns='urn:xmpp:omemo:2'><device id='12345'/>"
                                     "</devices>", item_id="current")
        assert reply.get("type") == "error"
        assert q("policy-violation", NS_STANZAS) in app_error(reply)
        text = reply.find(f"{q('error')}/{{{NS_STANZAS}}}text").text
        assert "OMEMO" in text and "IM policy" in text
        got = items_of(frank, "frank", node)
        assert got.get("type") == "error"  # nothing was stored: the node does not exist
        rows = server.wait_events(lambda r: r.get("kind") == "e2ee.omemo_publish",
                                  "--module", "e2ee")
        assert rows and rows[0]["actor"].startswith(f"frank@{DOMAIN}")


def test_a_new_subscriber_gets_the_last_items(server):
    with RawClient(server) as alice, RawClient(server) as erin:
        alice.login("alice", resource="approve", roster=True)
        reply = publish(alice, NICK, f"<nick xmlns='{NICK}'>Alice the approver</nick>")
        assert reply.get("type") == "result", stanza_error(reply)
        login_with_caps(erin, "erin", "new", [NICK])
        erin.drain(0.5)
        assert not [e for e in erin.pending if e.tag == q("message")
                    and e.get("from") == f"alice@{DOMAIN}"], "nothing before the subscription"
        erin.send(f"<presence to='alice@{DOMAIN}' type='subscribe'/>")
        alice.wait_for(lambda e: e.tag == q("presence") and e.get("type") == "subscribe")
        alice.send(f"<presence to='erin@{DOMAIN}' type='subscribed'/>")
        event = wait_event(erin, "alice", NICK)
        nick = event_items(event, NICK).find(f"{q('item', PUBSUB_EVENT)}/{{{NICK}}}nick")
        assert nick.text == "Alice the approver"


NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"


def disco_nodes(client, owner):
    reply = client.iq("get", f"<query xmlns='{NS_DISCO_ITEMS}'/>", to=f"{owner}@{DOMAIN}")
    assert reply.get("type") == "result", stanza_error(reply)
    items = list(reply.iter(q("item", NS_DISCO_ITEMS)))
    assert all(i.get("jid") == f"{owner}@{DOMAIN}" for i in items)
    return {i.get("node") for i in items}


def test_account_disco_items_lists_the_nodes_the_requester_may_read(server, contacts):
    shared, public, private = ("urn:parley:test:disco-presence", "urn:parley:test:disco-open",
                               "urn:parley:test:disco-private")
    with RawClient(server) as alice, RawClient(server) as bob, RawClient(server) as carol:
        alice.login("alice", resource="disco-items")
        bob.login("bob", resource="disco-items")
        carol.login("carol", resource="disco-items")
        for node, access in ((shared, "presence"), (public, "open"), (private, "whitelist")):
            reply = publish(alice, node, "<x xmlns='urn:t'/>", item_id="one",
                            options={"pubsub#access_model": access})
            assert reply.get("type") == "result", stanza_error(reply)
        assert {shared, public, private} <= disco_nodes(alice, "alice")
        seen_by_bob = disco_nodes(bob, "alice")  # a contact who sees alice's presence
        assert {shared, public} <= seen_by_bob and private not in seen_by_bob
        seen_by_carol = disco_nodes(carol, "alice")  # a stranger
        assert public in seen_by_carol
        assert shared not in seen_by_carol and private not in seen_by_carol

        # disco#info on a node: a leaf for who may read it, absent for who may not.
        info = bob.iq("get", f"<query xmlns='{NS_DISCO_INFO}' node='{shared}'/>",
                      to=f"alice@{DOMAIN}")
        assert info.get("type") == "result", stanza_error(info)
        assert ("pubsub", "leaf") in {(i.get("category"), i.get("type"))
                                      for i in info.iter(q("identity", NS_DISCO_INFO))}
        hidden = carol.iq("get", f"<query xmlns='{NS_DISCO_INFO}' node='{shared}'/>",
                          to=f"alice@{DOMAIN}")
        assert hidden.get("type") == "error"
        assert q("item-not-found", NS_STANZAS) in app_error(hidden)


def test_the_stream_features_carry_the_servers_caps(server):
    """XEP-0115 §6.3: after authentication the features name the server's caps, whose ver is
    the hash of what disco#info on the server answers, and node#ver answers the same."""
    with RawClient(server) as alice:
        alice.login("alice", resource="server-caps", presence=False)
        c = alice.features.find(q("c", CAPS))
        assert c is not None, "no <c/> in the stream features after authentication"
        assert c.get("hash") == "sha-1" and c.get("node")
        info = alice.iq("get", f"<query xmlns='{NS_DISCO_INFO}'/>")
        identities = [i for i in info.iter(q("identity", NS_DISCO_INFO))]
        assert len(identities) == 1
        i = identities[0]
        identity = f"{i.get('category')}/{i.get('type')}//{i.get('name')}"
        features = [f.get("var") for f in info.iter(q("feature", NS_DISCO_INFO))]
        assert c.get("ver") == caps_ver(identity, features)
        node = f"{c.get('node')}#{c.get('ver')}"
        by_node = alice.iq("get", f"<query xmlns='{NS_DISCO_INFO}' node='{node}'/>")
        assert by_node.get("type") == "result", stanza_error(by_node)
        assert by_node.find(q("query", NS_DISCO_INFO)).get("node") == node
        assert sorted(f.get("var") for f in by_node.iter(q("feature", NS_DISCO_INFO))) == \
            sorted(features)
    with RawClient(server) as before_auth:
        before_auth.open_stream()
        assert before_auth.features.find(q("c", CAPS)) is None


def test_xep0223_private_storage_never_reaches_contacts(server, contacts):
    """XEP-0223 §3: persistent private data is a whitelist node created by publish-options;
    the owner's clients get it, a contact who asked for the node gets nothing, not even as the
    last item at login, and cannot read it."""
    node = "urn:parley:test:private-prefs"
    options = {"pubsub#persist_items": "true", "pubsub#access_model": "whitelist"}
    with RawClient(server) as desk, RawClient(server) as laptop, RawClient(server) as bob:
        desk.login("alice", resource="xep0223")
        login_with_caps(laptop, "alice", "xep0223-laptop", [node])
        login_with_caps(bob, "bob", "xep0223-spy", [node])
        reply = publish(desk, node, "<prefs xmlns='urn:parley:test'><theme>dark</theme></prefs>",
                        item_id="current", options=options)
        assert reply.get("type") == "result", stanza_error(reply)
        assert wait_event(laptop, "alice", node) is not None
        conf = desk.iq("get", f"<pubsub xmlns='{PUBSUB_OWNER}'><configure node='{node}'/>"
                              f"</pubsub>", to=None)
        values = {f.get("var"): f.findtext(q("value", NS_DATA))
                  for f in conf.iter(q("field", NS_DATA))}
        assert values["pubsub#access_model"] == "whitelist"
        assert values["pubsub#persist_items"] in ("1", "true")
        bob.drain(1.0)
        assert not [e for e in bob.pending if e.tag == q("message")
                    and event_items(e, node) is not None]
        assert q("closed-node", PUBSUB_ERRORS) in app_error(items_of(bob, "alice", node))
    # The stored item is not the "last item" a contact gets when coming online.
    with RawClient(server) as bob, RawClient(server) as phone:
        login_with_caps(bob, "bob", "xep0223-later", [node])
        login_with_caps(phone, "alice", "xep0223-phone", [node])
        assert wait_event(phone, "alice", node) is not None  # the owner's new client does
        bob.drain(1.0)
        assert not [e for e in bob.pending if e.tag == q("message")
                    and event_items(e, node) is not None]
