"""XEP-0191 Blocking Command in a live parleyd: the server advertises it; a client reads its
blocklist (and from then on gets pushes of every change), blocks and unblocks addresses; a
blocked contact's messages and iqs are answered with <service-unavailable/> and its presence is
dropped, while the user's own stanzas to it are refused with <not-acceptable/> and <blocked/>;
blocking sends the contact unavailable presence, unblocking the user's presence again; a domain
blocks everyone at it but never the user's own resources; the list survives logins and a
restart; and legacy clients read it as a XEP-0016 privacy list but cannot change it."""

import contextlib
from xml.sax.saxutils import quoteattr

from xmpp_helpers import DOMAIN, NS_DISCO_INFO, NS_PING, NS_VCARD, RawClient, bare, q, stanza_error

BLOCKING = "urn:xmpp:blocking"
BLOCKING_ERRORS = "urn:xmpp:blocking:errors"
PRIVACY = "jabber:iq:privacy"


def _command(action, jids):
    items = "".join(f"<item jid={quoteattr(j)}/>" for j in jids)
    return f"<{action} xmlns='{BLOCKING}'>{items}</{action}>"


def _change(client, action, *jids):
    reply = client.iq("set", _command(action, jids), to=None)
    assert reply.get("type") == "result", stanza_error(reply)


def _block(client, *jids):
    _change(client, "block", *jids)


def _unblock(client, *jids):
    _change(client, "unblock", *jids)


def _blocklist(client):
    """Requests the blocklist (which subscribes the session to pushes) and returns its JIDs."""
    reply = client.iq("get", f"<blocklist xmlns='{BLOCKING}'/>", to=None)
    assert reply.get("type") == "result", stanza_error(reply)
    return [i.get("jid") for i in reply.find(q("blocklist", BLOCKING)).findall(q("item", BLOCKING))]


def _is_push(action):
    return lambda e: (e.tag == q("iq") and e.get("type") == "set"
                      and e.find(q(action, BLOCKING)) is not None)


def _push(client, action, timeout=5):
    """Waits for a block or unblock push; acknowledges it and returns its JIDs."""
    push = client.wait_for(_is_push(action), timeout)
    assert push.get("to") == client.jid
    client.send(f"<iq type='result' id={quoteattr(push.get('id'))}/>")
    return [i.get("jid") for i in push.find(q(action, BLOCKING)).findall(q("item", BLOCKING))]


def _reply_to(client, stanza_id, timeout=5):
    return client.wait_for(lambda e: e.get("id") == stanza_id
                           and e.get("type") in ("error", "result"), timeout)


def _is_blocked_error(reply):
    """XEP-0191 §3.3: <not-acceptable/> with <blocked xmlns='urn:xmpp:blocking:errors'/>."""
    err = stanza_error(reply)
    return (reply.get("type") == "error" and err is not None and err[:2] == ("cancel",
                                                                            "not-acceptable")
            and reply.find(f"{q('error')}/{q('blocked', BLOCKING_ERRORS)}") is not None)


def _from_user(client, user, seconds=1.0):
    """Everything `client` received from any resource of `user` within `seconds`."""
    client.drain(seconds)
    return [e for e in client.pending if bare(e.get("from") or "") == f"{user}@{DOMAIN}"]


@contextlib.contextmanager
def _clean_blocklist(client):
    """Unblocks everything when the test is done, so later tests start from an empty list."""
    try:
        yield client
    finally:
        if not client.closed:
            _unblock(client)


def test_the_server_advertises_blocking_and_privacy_lists(server):
    with RawClient(server) as alice:
        alice.login("alice", resource="disco")
        reply = alice.iq("get", f"<query xmlns='{NS_DISCO_INFO}'/>")
        features = {f.get("var") for f in reply.iter(q("feature", NS_DISCO_INFO))}
        assert BLOCKING in features
        assert PRIVACY in features


def test_an_empty_blocklist_and_malformed_commands(server):
    with RawClient(server) as carol:
        carol.login("carol", resource="errors")
        assert _blocklist(carol) == []
        # §3.3: a <block/> without an <item/> is a bad request.
        reply = carol.iq("set", f"<block xmlns='{BLOCKING}'/>", to=None)
        assert stanza_error(reply)[1] == "bad-request"
        # An item that is no address.
        for jid in ("", "@nowhere", "bad@"):
            reply = carol.iq("set", _command("block", [jid]), to=None)
            assert stanza_error(reply)[1] == "jid-malformed", jid
        # Nothing was stored by the refused commands.
        assert _blocklist(carol) == []
        # Only the owner reads or changes a blocklist.
        reply = carol.iq("get", f"<blocklist xmlns='{BLOCKING}'/>", to=f"dave@{DOMAIN}")
        assert stanza_error(reply)[1] == "forbidden"


def test_a_blocked_contact_cannot_reach_the_user(server):
    with RawClient(server) as alice, RawClient(server) as bob:
        alice.login("alice", resource="desk-in")
        bob.login("bob", resource="pc-in")
        with _clean_blocklist(alice):
            _block(alice, f"bob@{DOMAIN}")
            # Messages, to the bare JID or the resource: service-unavailable, nothing delivered.
            for to, msg_id in ((f"alice@{DOMAIN}", "in-bare"), (alice.jid, "in-full")):
                bob.message(to, "let me in", msg_id=msg_id)
                err = _reply_to(bob, msg_id)
                assert stanza_error(err)[:2] == ("cancel", "service-unavailable")
                assert err.find(f"{q('error')}/{q('blocked', BLOCKING_ERRORS)}") is None
            # An iq to her resource and one a service answers for her account: the same.
            bob.send(f"<iq type='get' id='in-ping' to='{alice.jid}'><ping xmlns='{NS_PING}'/></iq>")
            assert stanza_error(_reply_to(bob, "in-ping"))[1] == "service-unavailable"
            reply = bob.iq("get", f"<vCard xmlns='{NS_VCARD}'/>", to=f"alice@{DOMAIN}")
            assert stanza_error(reply)[1] == "service-unavailable"
            # Presence is dropped without a word (§3.3), subscription requests included.
            bob.send(f"<presence to='{alice.jid}'/>")
            bob.send(f"<presence to='alice@{DOMAIN}' type='subscribe'/>")
            assert _from_user(alice, "bob") == []
            bob.drain(0.5)
            assert [e for e in bob.pending if e.get("type") == "error"] == []

            # §3.4: after the unblock, bob's messages arrive again.
            _unblock(alice, f"bob@{DOMAIN}")
            bob.message(f"alice@{DOMAIN}", "finally", msg_id="in-after")
            assert alice.wait_message("finally").get("from") == bob.jid


def test_the_user_cannot_reach_a_blocked_contact(server):
    with RawClient(server) as alice, RawClient(server) as bob, RawClient(server) as dave:
        alice.login("alice", resource="desk-out")
        bob.login("bob", resource="pc-out")
        dave.login("dave", resource="pc-out")
        with _clean_blocklist(alice):
            _block(alice, f"bob@{DOMAIN}")
            alice.message(f"bob@{DOMAIN}", "you will not see this", msg_id="out-msg")
            assert _is_blocked_error(_reply_to(alice, "out-msg"))
            alice.send(f"<iq type='get' id='out-ping' to='{bob.jid}'>"
                       f"<ping xmlns='{NS_PING}'/></iq>")
            assert _is_blocked_error(_reply_to(alice, "out-ping"))
            alice.send(f"<presence to='{bob.jid}' id='out-presence'/>")
            assert _is_blocked_error(_reply_to(alice, "out-presence"))
            assert _from_user(bob, "alice") == []
            # Everyone else is reached as before.
            alice.message(f"dave@{DOMAIN}", "hello dave", msg_id="out-dave")
            assert dave.wait_message("hello dave").get("from") == alice.jid


def test_changes_are_pushed_to_the_resources_that_asked_for_the_list(server):
    with RawClient(server) as desk, RawClient(server) as phone, RawClient(server) as tablet:
        desk.login("alice", resource="desk-push")
        phone.login("alice", resource="phone-push")
        tablet.login("alice", resource="tablet-push")
        assert _blocklist(desk) == [] and _blocklist(phone) == []  # the tablet never asks
        with _clean_blocklist(desk):
            _block(desk, f"carol@{DOMAIN}", "montague.lit")
            for client in (desk, phone):
                assert sorted(_push(client, "block")) == sorted([f"carol@{DOMAIN}", "montague.lit"])
            _unblock(phone, f"carol@{DOMAIN}")
            for client in (desk, phone):
                assert _push(client, "unblock") == [f"carol@{DOMAIN}"]
            _unblock(desk)  # §3.5: unblock all, pushed as an empty <unblock/>
            for client in (desk, phone):
                assert _push(client, "unblock") == []
            tablet.drain(0.5)
            pushes = [e for e in tablet.pending if _is_push("block")(e) or _is_push("unblock")(e)]
            assert pushes == []
            assert _blocklist(tablet) == []


def test_blocking_makes_the_user_unavailable_to_the_contact(server):
    with RawClient(server) as erin, RawClient(server) as frank:
        erin.login("erin", resource="home")
        frank.login("frank", resource="home")
        # Subscribed both ways, so each sees the other's presence.
        for a, b in ((erin, frank), (frank, erin)):
            a.send(f"<presence to='{bare(b.jid)}' type='subscribe'/>")
            b.wait_for(lambda e: e.tag == q("presence") and e.get("type") == "subscribe")
            b.send(f"<presence to='{bare(a.jid)}' type='subscribed'/>")
            a.wait_for(lambda e, b=b: e.tag == q("presence") and e.get("from") == b.jid
                       and e.get("type") is None)
        for client in (erin, frank):
            client.drain(0.3)
            client.pending.clear()
        with _clean_blocklist(erin):
            _block(erin, f"frank@{DOMAIN}")
            # §3.3: the contact sees the user go away ...
            frank.wait_for(lambda e: e.tag == q("presence") and e.get("from") == erin.jid
                           and e.get("type") == "unavailable")
            # ... and nothing more of her, nor she of him.
            erin.send("<presence><show>away</show></presence>")
            frank.send("<presence><show>dnd</show></presence>")
            assert _from_user(frank, "erin") == []
            assert _from_user(erin, "frank") == []
            # §3.4: unblocking sends her current presence.
            _unblock(erin, f"frank@{DOMAIN}")
            back = frank.wait_for(lambda e: e.tag == q("presence") and e.get("from") == erin.jid)
            assert back.get("type") is None and back.findtext(q("show")) == "away"


def test_a_blocked_domain_spares_the_users_own_resources_and_server(server):
    with RawClient(server) as desk, RawClient(server) as phone, RawClient(server) as bob:
        desk.login("dave", resource="desk-domain")
        phone.login("dave", resource="phone-domain")
        bob.login("bob", resource="pc-domain")
        with _clean_blocklist(desk):
            _block(desk, DOMAIN)
            bob.message(f"dave@{DOMAIN}", "anyone there?", msg_id="dom-in")
            assert stanza_error(_reply_to(bob, "dom-in"))[1] == "service-unavailable"
            desk.message(f"bob@{DOMAIN}", "nobody here", msg_id="dom-out")
            assert _is_blocked_error(_reply_to(desk, "dom-out"))
            # XEP-0191 §5: never between one's own resources; and the server still answers.
            desk.message(phone.jid, "note to self", msg_id="dom-self")
            assert phone.wait_message("note to self").get("from") == desk.jid
            reply = desk.iq("get", f"<ping xmlns='{NS_PING}'/>")
            assert reply.get("type") == "result", stanza_error(reply)


def test_legacy_clients_read_the_blocklist_as_a_privacy_list(server):
    with RawClient(server) as carol:
        carol.login("carol", resource="legacy")
        with _clean_blocklist(carol):
            _block(carol, f"bob@{DOMAIN}")
            _block(carol, "montague.lit")
            names = carol.iq("get", f"<query xmlns='{PRIVACY}'/>", to=None)
            assert names.get("type") == "result", stanza_error(names)
            query = names.find(q("query", PRIVACY))
            for which in ("active", "default", "list"):
                assert [e.get("name") for e in query.findall(q(which, PRIVACY))] == [BLOCKING]

            reply = carol.iq("get", f"<query xmlns='{PRIVACY}'><list name='{BLOCKING}'/></query>",
                             to=None)
            assert reply.get("type") == "result", stanza_error(reply)
            items = reply.find(f"{q('query', PRIVACY)}/{q('list', PRIVACY)}").findall(
                q("item", PRIVACY))
            assert [(i.get("type"), i.get("value"), i.get("action"), i.get("order"))
                    for i in items] == [("jid", f"bob@{DOMAIN}", "deny", "1"),
                                        ("jid", "montague.lit", "deny", "2")]

            reply = carol.iq("get", f"<query xmlns='{PRIVACY}'><list name='public'/></query>",
                             to=None)
            assert stanza_error(reply)[1] == "item-not-found"
            reply = carol.iq("get", f"<query xmlns='{PRIVACY}'><list name='a'/><list name='b'/>"
                             "</query>", to=None)
            assert stanza_error(reply)[1] == "bad-request"
            # Read-only: a change is refused with a pointer to XEP-0191.
            reply = carol.iq("set", f"<query xmlns='{PRIVACY}'><default name='{BLOCKING}'/>"
                             "</query>", to=None)
            _type, condition, text = stanza_error(reply)
            assert condition == "feature-not-implemented"
            assert "XEP-0191" in text


def test_the_blocklist_survives_logins_and_a_restart(server):
    # An offline message stored before the block is not delivered after it.
    with RawClient(server) as bob:
        bob.login("bob", resource="pc-persist")
        bob.message(f"frank@{DOMAIN}", "stored before the block", msg_id="p-before")
    with RawClient(server) as frank:
        frank.login("frank", resource="persist", presence=False)
        _block(frank, f"bob@{DOMAIN}")
        frank.send("<presence/>")
        frank.wait_for(lambda e: e.tag == q("presence") and e.get("from") == frank.jid)
        assert [e for e in _from_user(frank, "bob") if e.tag == q("message")] == []

    def check_blocked(where):
        # Offline: refused from the stored list, and nothing is stored for later.
        with RawClient(server) as bob:
            bob.login("bob", resource=f"pc-{where}")
            bob.message(f"frank@{DOMAIN}", f"offline, {where}", msg_id=f"p-off-{where}")
            assert stanza_error(_reply_to(bob, f"p-off-{where}"))[1] == "service-unavailable"
            with RawClient(server) as frank:
                frank.login("frank", resource=f"persist-{where}")
                assert _blocklist(frank) == [f"bob@{DOMAIN}"]
                # Online: refused from memory.
                bob.message(f"frank@{DOMAIN}", f"online, {where}", msg_id=f"p-on-{where}")
                assert stanza_error(_reply_to(bob, f"p-on-{where}"))[1] == "service-unavailable"
                assert _from_user(frank, "bob") == []

    check_blocked("relogin")
    server.restart()
    check_blocked("restart")
    with RawClient(server) as frank:
        frank.login("frank", resource="persist-cleanup")
        _unblock(frank)
