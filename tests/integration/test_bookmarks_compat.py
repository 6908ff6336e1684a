"""XEP-0402 §5.3 bookmarks compatibility in a live parleyd: the account announces '#compat'; a
legacy client's XEP-0048 list (private XML storage, or the PEP node storage:bookmarks) becomes
one urn:xmpp:bookmarks:1 item per room, with notifications to the owner's modern clients and
none to contacts; a legacy read shows what modern clients stored."""

from test_pep import (PUBSUB, PUBSUB_EVENT, app_error, event_items, login_with_caps, publish,
                      items_of, wait_event, PUBSUB_ERRORS)
from xmpp_helpers import DOMAIN, NS_DISCO_INFO, RawClient, q, stanza_error

PRIVATE = "jabber:iq:private"
LEGACY = "storage:bookmarks"
NATIVE = "urn:xmpp:bookmarks:1"
FALCON = f"falcon@conference.{DOMAIN}"
SALES = f"sales@conference.{DOMAIN}"
TEA = f"tea@conference.{DOMAIN}"

LEGACY_LIST = (f"<storage xmlns='{LEGACY}'>"
               f"<conference jid='{FALCON}' name='Project Falcon' autojoin='true'>"
               f"<nick>Alice</nick><password>s3cret</password>"
               f"<pinned xmlns='urn:parley:test:pin'/></conference>"
               f"<conference jid='{SALES}' name='Sales'/>"
               f"<url name='Intranet' url='https://intranet.example/'/></storage>")


def private(client, type_, inner):
    return client.iq(type_, f"<query xmlns='{PRIVATE}'>{inner}</query>", to=None)


def native_items(client):
    got = items_of(client, "alice", NATIVE)
    assert got.get("type") == "result", stanza_error(got)
    return {i.get("id"): i.find(q("conference", NATIVE)) for i in got.iter(q("item", PUBSUB))}


def legacy_rooms(reply):
    storage = reply.find(f"{q('query', PRIVATE)}/{q('storage', LEGACY)}")
    assert storage is not None, stanza_error(reply)
    return {c.get("jid"): c for c in storage.iter(q("conference", LEGACY))}, storage


def notified_ids(client, owner="alice", timeout=1.0):
    client.drain(timeout)
    published, retracted = set(), set()
    for e in list(client.pending):
        items = event_items(e, NATIVE) if e.tag == q("message") else None
        if items is None or e.get("from") != f"{owner}@{DOMAIN}":
            continue
        published |= {i.get("id") for i in items.iter(q("item", PUBSUB_EVENT))}
        retracted |= {r.get("id") for r in items.iter(q("retract", PUBSUB_EVENT))}
        client.pending.remove(e)
    return published, retracted


def test_the_account_announces_compat(server):
    with RawClient(server) as alice:
        alice.login("alice", resource="disco")
        info = alice.iq("get", f"<query xmlns='{NS_DISCO_INFO}'/>", to=f"alice@{DOMAIN}")
        features = {f.get("var") for f in info.iter(q("feature", NS_DISCO_INFO))}
        assert f"{NATIVE}#compat" in features and f"{NATIVE}#compat-pep" in features


def test_legacy_private_bookmarks_become_native_items(server):
    with RawClient(server) as desk, RawClient(server) as phone, RawClient(server) as bob:
        # bob sees alice's presence and asked for bookmark notifications: he must get none.
        login_with_caps(bob, "bob", "spy", [NATIVE])
        bob.send(f"<presence to='alice@{DOMAIN}' type='subscribe'/>")
        desk.login("alice", resource="desk", roster=True)
        desk.wait_for(lambda e: e.tag == q("presence") and e.get("type") == "subscribe")
        desk.send(f"<presence to='bob@{DOMAIN}' type='subscribed'/>")
        bob.wait_for(lambda e: e.tag == q("presence") and e.get("type") == "subscribed")
        login_with_caps(phone, "alice", "phone", [NATIVE])

        reply = private(desk, "set", LEGACY_LIST)
        assert reply.get("type") == "result", stanza_error(reply)
        published, _ = notified_ids(phone)
        assert published == {FALCON, SALES}
        items = native_items(phone)
        assert set(items) == {FALCON, SALES}
        falcon = items[FALCON]
        assert falcon.get("name") == "Project Falcon" and falcon.get("autojoin") == "true"
        assert falcon.findtext(q("nick", NATIVE)) == "Alice"
        assert falcon.findtext(q("password", NATIVE)) == "s3cret"
        assert falcon.find(f"{q('extensions', NATIVE)}/{{urn:parley:test:pin}}pinned") is not None
        assert items[SALES].get("autojoin") in (None, "false")

        # The same list again changes nothing and tells nobody; a shorter one retracts.
        private(desk, "set", LEGACY_LIST)
        assert notified_ids(phone) == (set(), set())
        shorter = LEGACY_LIST.replace(f"<conference jid='{SALES}' name='Sales'/>", "")
        private(desk, "set", shorter)
        assert notified_ids(phone) == (set(), {SALES})
        assert set(native_items(phone)) == {FALCON}

        # The contact heard nothing of it and cannot read the node.
        published, retracted = notified_ids(bob)
        assert not published and not retracted
        refused = items_of(bob, "alice", NATIVE)
        assert q("closed-node", PUBSUB_ERRORS) in app_error(refused)


def test_a_legacy_read_shows_what_modern_clients_stored(server):
    with RawClient(server) as desk, RawClient(server) as phone:
        desk.login("alice", resource="desk2")
        phone.login("alice", resource="phone2")
        conf = (f"<conference xmlns='{NATIVE}' name='Tea room' autojoin='true'>"
                f"<nick>A.</nick></conference>")
        options = {"pubsub#persist_items": "true", "pubsub#access_model": "whitelist",
                   "pubsub#max_items": "max", "pubsub#send_last_published_item": "never"}
        reply = publish(phone, NATIVE, conf, item_id=TEA, options=options)
        assert reply.get("type") == "result", stanza_error(reply)
        rooms, storage = legacy_rooms(private(desk, "get", f"<storage xmlns='{LEGACY}'/>"))
        assert TEA in rooms and FALCON in rooms
        assert rooms[TEA].get("name") == "Tea room" and rooms[TEA].get("autojoin") == "true"
        assert rooms[TEA].findtext(q("nick", LEGACY)) == "A."
        # The URL bookmark, which has no native form, is kept from the legacy list.
        assert [u.get("url") for u in storage.iter(q("url", LEGACY))] == [
            "https://intranet.example/"]


def test_legacy_bookmarks_in_pep_are_converted_too(server):
    with RawClient(server) as old, RawClient(server) as phone:
        old.login("alice", resource="old-pep")
        login_with_caps(phone, "alice", "phone3", [NATIVE])
        only_sales = (f"<storage xmlns='{LEGACY}'><conference jid='{SALES}' name='Sales' "
                      f"autojoin='1'/></storage>")
        reply = publish(old, LEGACY, only_sales, item_id="current",
                        options={"pubsub#access_model": "whitelist",
                                 "pubsub#persist_items": "true"})
        assert reply.get("type") == "result", stanza_error(reply)
        published, retracted = notified_ids(phone)
        assert published == {SALES} and {FALCON, TEA} <= retracted
        assert set(native_items(phone)) == {SALES}
        # Reading the legacy PEP node shows the native list, as one item.
        got = items_of(old, "alice", LEGACY)
        assert got.get("type") == "result", stanza_error(got)
        storage = got.find(f"{q('pubsub', PUBSUB)}/{q('items', PUBSUB)}/{q('item', PUBSUB)}/"
                           f"{q('storage', LEGACY)}")
        assert [c.get("jid") for c in storage.iter(q("conference", LEGACY))] == [SALES]
