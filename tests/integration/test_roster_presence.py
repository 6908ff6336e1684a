"""RFC 6121: roster pushes to every interested resource, the subscription handshake both ways,
presence broadcast and unavailable on disconnect."""

import pytest

from xmpp_helpers import DOMAIN, NS_ROSTER, RawClient, bare, q, run, slix_login, slixmpp

ALICE, BOB = f"alice@{DOMAIN}", f"bob@{DOMAIN}"


def roster_item(elem, jid):
    query = elem.find(q("query", NS_ROSTER))
    if query is None:
        return None
    for item in query.findall(q("item", NS_ROSTER)):
        if item.get("jid") == jid:
            return item
    return None


def is_push_for(jid, **attrs):
    def match(e):
        if e.tag != q("iq") or e.get("type") != "set":
            return False
        item = roster_item(e, jid)
        if item is None:
            return False
        return all(item.get(k) == v for k, v in attrs.items())
    return match


def wait_push(c, jid, **attrs):
    push = c.wait_for(is_push_for(jid, **attrs))
    # RFC 6121 2.1.6: a push comes from the account's bare JID or has no 'from'.
    assert push.get("from") in (None, bare(c.jid)), push.get("from")
    c.send(f"<iq type='result' id='{push.get('id')}'/>")
    return roster_item(push, jid)


def roster(c):
    reply = c.iq("get", f"<query xmlns='{NS_ROSTER}'/>", to=None)
    assert reply.get("type") == "result"
    return reply


def is_presence(from_=None, type_=None, from_bare=None):
    def match(e):
        if e.tag != q("presence"):
            return False
        if type_ is not None and e.get("type") != type_:
            return False
        if type_ is None and e.get("type") not in (None, "available"):
            return False
        if from_ is not None and e.get("from") != from_:
            return False
        if from_bare is not None and bare(e.get("from") or "") != from_bare:
            return False
        return True
    return match


def test_roster_set_is_pushed_to_all_resources(server):
    if slixmpp is None:
        pytest.fail("python3-slixmpp is not installed")

    async def body():
        a1 = await slix_login(server, "carol", resource="one")
        a2 = await slix_login(server, "carol", resource="two")
        try:
            await a1.update_roster(f"dave@{DOMAIN}", name="Dave", groups=["Friends"], timeout=15)
            for c in (a1, a2):
                while True:
                    push = await c.roster_pushes.get()
                    items = push["roster"]["items"]
                    if f"dave@{DOMAIN}" in {str(j) for j in items}:
                        break
                item = {str(j): v for j, v in items.items()}[f"dave@{DOMAIN}"]
                assert item["name"] == "Dave"
                assert list(item["groups"]) == ["Friends"]
                assert item["subscription"] in ("none", "")

            # Removal is pushed too.
            await a2.del_roster_item(f"dave@{DOMAIN}")  # an iq set with subscription='remove'
            for c in (a1, a2):
                while True:
                    push = await c.roster_pushes.get()
                    items = {str(j): v for j, v in push["roster"]["items"].items()}
                    if items.get(f"dave@{DOMAIN}", {}).get("subscription") == "remove":
                        break
        finally:
            await a1.close()
            await a2.close()

    run(body())


def test_subscription_handshake_both_ways(server):
    alice = RawClient(server)
    bob = RawClient(server)
    try:
        alice.login("alice", resource="home", presence=False)
        bob.login("bob", resource="work", presence=False)
        roster(alice)
        roster(bob)
        alice.send("<presence/>")
        bob.send("<presence/>")

        # 1. alice subscribes to bob.
        alice.send(f"<presence to='{BOB}' type='subscribe'/>")
        item = wait_push(alice, BOB, ask="subscribe")
        assert item.get("subscription") == "none"
        req = bob.wait_for(is_presence(type_="subscribe"))
        assert req.get("from") == ALICE, "a subscription request comes from the bare JID"

        # 2. bob approves.
        bob.send(f"<presence to='{ALICE}' type='subscribed'/>")
        assert wait_push(bob, ALICE, subscription="from") is not None
        item = wait_push(alice, BOB, subscription="to")
        assert item.get("ask") is None
        ok = alice.wait_for(is_presence(type_="subscribed"))
        assert ok.get("from") == BOB
        # alice now gets bob's current presence.
        alice.wait_for(is_presence(from_=bob.jid))

        # 3. And back: bob subscribes to alice, alice approves.
        bob.send(f"<presence to='{ALICE}' type='subscribe'/>")
        wait_push(bob, ALICE, subscription="from", ask="subscribe")
        req = alice.wait_for(is_presence(type_="subscribe"))
        assert req.get("from") == BOB
        alice.send(f"<presence to='{BOB}' type='subscribed'/>")
        wait_push(alice, BOB, subscription="both")
        wait_push(bob, ALICE, subscription="both")
        bob.wait_for(is_presence(type_="subscribed", from_bare=ALICE))
        bob.wait_for(is_presence(from_=alice.jid))

        # Stored state.
        assert roster_item(roster(alice), BOB).get("subscription") == "both"
        assert roster_item(roster(bob), ALICE).get("subscription") == "both"

        # 4. Presence flows both ways now.
        alice.send("<presence><show>away</show><status>lunch</status></presence>")
        p = bob.wait_for(lambda e: is_presence(from_=alice.jid)(e) and e.findtext(q("status")) == "lunch")
        assert p.findtext(q("show")) == "away"
        bob.send("<presence><status>busy</status></presence>")
        alice.wait_for(lambda e: is_presence(from_=bob.jid)(e) and e.findtext(q("status")) == "busy")

        # 5. Going offline is broadcast as unavailable.
        bob.close()
        alice.wait_for(is_presence(from_=bob.jid, type_="unavailable"))
    finally:
        alice.close()
        bob.close()


def test_presence_probe_on_login(server):
    """A login gets the presence of the contacts it is subscribed to (RFC 6121 4.2.2 probes)."""
    erin = RawClient(server)
    frank = RawClient(server)
    try:
        erin.login("erin", resource="a", roster=True)
        frank.login("frank", resource="b", roster=True)
        erin.send(f"<presence to='frank@{DOMAIN}' type='subscribe'/>")
        frank.wait_for(is_presence(type_="subscribe"))
        frank.send(f"<presence to='erin@{DOMAIN}' type='subscribed'/>")
        erin.wait_for(is_presence(type_="subscribed"))
        erin.close()
        # erin logs in again: the server probes frank and erin gets frank's presence.
        erin = RawClient(server)
        erin.login("erin", resource="c", roster=True)
        erin.wait_for(is_presence(from_=frank.jid))
    finally:
        erin.close()
        frank.close()
