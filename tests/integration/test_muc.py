"""XEP-0045 Multi-User Chat on conference.localhost in a live parleyd: a room is created by its
first occupant (201, owner), others join and see each other (110 on their own presence),
groupchat messages reach every occupant, a late joiner gets the history, a nick in use is a
conflict, private messages reach one occupant, moderators kick (307) and owners ban (301, then
forbidden), members-only rooms want registration until the owner grants membership, the subject
changes, a persistent room and its affiliations survive a restart, the service and its rooms
answer disco, and a room message passes the policy chain like a 1:1 message (the e2ee module
refuses an OMEMO message and nobody in the room receives it)."""

import re
import subprocess
import time

from xmpp_helpers import DOMAIN, NS_DISCO_INFO, NS_PING, RawClient, q, stanza_error

MUC = "http://jabber.org/protocol/muc"
MUC_USER = "http://jabber.org/protocol/muc#user"
MUC_ADMIN = "http://jabber.org/protocol/muc#admin"
MUC_OWNER = "http://jabber.org/protocol/muc#owner"
NS_DATA = "jabber:x:data"
NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
NS_DELAY = "urn:xmpp:delay"
SERVICE = f"conference.{DOMAIN}"

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


def codes(presence):
    x = presence.find(q("x", MUC_USER))
    return set() if x is None else {s.get("code") for s in x.findall(q("status", MUC_USER))}


def item(presence):
    return presence.find(f"{q('x', MUC_USER)}/{q('item', MUC_USER)}")


def join(client, room, nick, extra=""):
    """Sends the join presence; returns this occupant's own presence (110) or the error."""
    to = f"{room}@{SERVICE}/{nick}"
    client.send(f"<presence to='{to}'><x xmlns='{MUC}'>{extra}</x></presence>")
    return client.wait_for(
        lambda e: e.tag == q("presence") and e.get("from") == to
        and (e.get("type") == "error" or "110" in codes(e)))


def presence_from(client, room, nick, predicate=lambda e: True, timeout=None):
    return client.wait_for(lambda e: e.tag == q("presence")
                           and e.get("from") == f"{room}@{SERVICE}/{nick}" and predicate(e),
                           timeout)


def say(client, room, body, msg_id=None, extra=""):
    msg_id = msg_id or f"g-{time.monotonic_ns()}"
    client.send(f"<message to='{room}@{SERVICE}' type='groupchat' id='{msg_id}'>"
                f"<body>{body}</body>{extra}</message>")
    return msg_id


def groupchat(client, body, timeout=None):
    return client.wait_message(body, type_="groupchat", timeout=timeout)


def no_message(client, body, seconds=0.8):
    client.drain(seconds)
    return not [e for e in client.pending if e.tag == q("message")
                and e.findtext(q("body")) == body]


def admin_set(client, room, item_xml):
    return client.iq("set", f"<query xmlns='{MUC_ADMIN}'>{item_xml}</query>",
                     to=f"{room}@{SERVICE}")


def configure(client, room, **fields):
    values = "".join(f"<field var='muc#roomconfig_{k}'><value>{v}</value></field>"
                     for k, v in fields.items())
    return client.iq("set", f"<query xmlns='{MUC_OWNER}'><x xmlns='{NS_DATA}' type='submit'>"
                     f"<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig"
                     f"</value></field>{values}</x></query>", to=f"{room}@{SERVICE}")


def login(server, user, resource="muc"):
    return RawClient(server).login(user, resource=resource)


def test_create_join_and_see_each_other(server):
    with login(server, "alice") as alice, login(server, "bob") as bob:
        mine = join(alice, "lobby", "Alice")
        assert mine.get("type") is None, stanza_error(mine)
        assert {"110", "201"} <= codes(mine)
        assert item(mine).get("affiliation") == "owner"
        assert item(mine).get("role") == "moderator"
        # The creator's room gets the (empty) subject after the self-presence.
        subject = alice.wait_for(lambda e: e.tag == q("message")
                                 and e.find(q("subject")) is not None)
        assert subject.get("from") == f"lobby@{SERVICE}"

        bobs = join(bob, "lobby", "Bob")
        assert "110" in codes(bobs) and "201" not in codes(bobs)
        assert item(bobs).get("affiliation") == "none"
        assert item(bobs).get("role") == "participant"
        # Bob first saw Alice; Alice (a moderator) sees Bob with his real JID.
        seen = bob.wait_for(lambda e: e.tag == q("presence")
                            and e.get("from") == f"lobby@{SERVICE}/Alice")
        assert item(seen).get("role") == "moderator"
        assert item(seen).get("jid") is None  # semi-anonymous: participants see no JIDs
        bob_seen = presence_from(alice, "lobby", "Bob")
        assert item(bob_seen).get("jid") == bob.jid
        assert "110" not in codes(bob_seen)

        # Leaving: everyone hears it.
        bob.send(f"<presence to='lobby@{SERVICE}/Bob' type='unavailable'/>")
        gone = presence_from(alice, "lobby", "Bob", lambda e: e.get("type") == "unavailable")
        assert item(gone).get("role") == "none"
        own = presence_from(bob, "lobby", "Bob", lambda e: e.get("type") == "unavailable")
        assert "110" in codes(own)


def test_messages_reach_every_occupant_and_late_joiners_get_history(server):
    with login(server, "alice") as alice, login(server, "bob") as bob, \
            login(server, "carol") as carol:
        join(alice, "talk", "Alice")
        join(bob, "talk", "Bob")
        say(alice, "talk", "first words", msg_id="h1")
        for c in (alice, bob):
            m = groupchat(c, "first words")
            assert m.get("from") == f"talk@{SERVICE}/Alice"
            assert m.get("to") == c.jid
        say(bob, "talk", "second words")
        say(bob, "talk", "third words")
        groupchat(alice, "third words")

        join(carol, "talk", "Carol")
        old = groupchat(carol, "first words")
        assert old.find(q("delay", NS_DELAY)) is not None
        assert old.find(q("delay", NS_DELAY)).get("from") == f"talk@{SERVICE}"
        groupchat(carol, "third words")

        with login(server, "dave") as dave:
            # <history maxstanzas='1'/>: only the newest.
            join(dave, "talk", "Dave", extra="<history maxstanzas='1'/>")
            groupchat(dave, "third words")
            assert no_message(dave, "second words")


def test_a_nick_in_use_is_a_conflict(server):
    with login(server, "alice") as alice, login(server, "bob") as bob:
        join(alice, "nicks", "Alice")
        err = join(bob, "nicks", "Alice")
        assert err.get("type") == "error"
        assert stanza_error(err)[1] == "conflict"
        # Bob never entered: Alice's message does not reach him.
        say(alice, "nicks", "only for occupants")
        groupchat(alice, "only for occupants")
        assert no_message(bob, "only for occupants")


def test_nick_change_announces_303(server):
    with login(server, "alice") as alice, login(server, "bob") as bob:
        join(alice, "renames", "Alice")
        join(bob, "renames", "Bob")
        bob.send(f"<presence to='renames@{SERVICE}/Robert'/>")
        old = presence_from(alice, "renames", "Bob", lambda e: e.get("type") == "unavailable")
        assert "303" in codes(old) and item(old).get("nick") == "Robert"
        presence_from(alice, "renames", "Robert")
        say(alice, "renames", "hello Robert")
        assert groupchat(bob, "hello Robert")


def test_private_message_reaches_one_occupant(server):
    with login(server, "alice") as alice, login(server, "bob") as bob, \
            login(server, "carol") as carol:
        for c, nick in ((alice, "Alice"), (bob, "Bob"), (carol, "Carol")):
            join(c, "whisper", nick)
        alice.message(f"whisper@{SERVICE}/Bob", "just for you", type_="chat")
        m = bob.wait_message("just for you")
        assert m.get("from") == f"whisper@{SERVICE}/Alice"
        assert m.get("to") == bob.jid
        assert no_message(carol, "just for you")
        alice.message(f"whisper@{SERVICE}/Nobody", "lost", type_="chat")
        err = alice.wait_for(lambda e: e.tag == q("message") and e.get("type") == "error")
        assert stanza_error(err)[1] == "item-not-found"


def test_kick_and_ban(server):
    with login(server, "alice") as alice, login(server, "bob") as bob, \
            login(server, "carol") as carol:
        join(alice, "strict", "Alice")
        join(bob, "strict", "Bob")
        join(carol, "strict", "Carol")
        # A participant may not kick.
        r = admin_set(carol, "strict", "<item nick='Bob' role='none'/>")
        assert r.get("type") == "error" and stanza_error(r)[1] == "not-allowed"

        r = admin_set(alice, "strict", "<item nick='Bob' role='none'><reason>calm down</reason></item>")
        assert r.get("type") == "result", stanza_error(r)
        kicked = presence_from(bob, "strict", "Bob", lambda e: e.get("type") == "unavailable")
        assert {"110", "307"} <= codes(kicked)
        told = presence_from(carol, "strict", "Bob", lambda e: e.get("type") == "unavailable")
        assert "307" in codes(told)
        say(alice, "strict", "after the kick")
        groupchat(carol, "after the kick")
        assert no_message(bob, "after the kick")

        # A kicked user may come back; a banned one may not.
        join(bob, "strict", "Bob")
        r = admin_set(alice, "strict", f"<item jid='bob@{DOMAIN}' affiliation='outcast'/>")
        assert r.get("type") == "result", stanza_error(r)
        banned = presence_from(bob, "strict", "Bob", lambda e: e.get("type") == "unavailable")
        assert {"110", "301"} <= codes(banned)
        assert item(banned).get("affiliation") == "outcast"
        err = join(bob, "strict", "Bob")
        assert err.get("type") == "error" and stanza_error(err)[1] == "forbidden"

        # The owner sees the outcast list.
        r = alice.iq("get", f"<query xmlns='{MUC_ADMIN}'><item affiliation='outcast'/></query>",
                     to=f"strict@{SERVICE}")
        jids = [i.get("jid") for i in r.iter(q("item", MUC_ADMIN))]
        assert jids == [f"bob@{DOMAIN}"]


def test_members_only_room(server):
    with login(server, "alice") as alice, login(server, "erin") as erin:
        join(alice, "club", "Alice")
        r = configure(alice, "club", membersonly=1)
        assert r.get("type") == "result", stanza_error(r)
        err = join(erin, "club", "Erin")
        assert err.get("type") == "error"
        assert stanza_error(err)[1] == "registration-required"

        r = admin_set(alice, "club", f"<item jid='erin@{DOMAIN}' affiliation='member'/>")
        assert r.get("type") == "result", stanza_error(r)
        mine = join(erin, "club", "Erin")
        assert mine.get("type") is None, stanza_error(mine)
        assert item(mine).get("affiliation") == "member"


def test_subject_change(server):
    with login(server, "alice") as alice, login(server, "bob") as bob:
        join(alice, "topics", "Alice")
        join(bob, "topics", "Bob")
        # Participants may not change it unless the room says so.
        bob.send(f"<message to='topics@{SERVICE}' type='groupchat' id='s1'>"
                 "<subject>mine now</subject></message>")
        err = bob.wait_for(lambda e: e.get("id") == "s1" and e.get("type") == "error")
        assert stanza_error(err)[1] == "forbidden"

        alice.send(f"<message to='topics@{SERVICE}' type='groupchat'>"
                   "<subject>Release planning</subject></message>")
        m = bob.wait_for(lambda e: e.tag == q("message")
                         and e.findtext(q("subject")) == "Release planning")
        assert m.get("from") == f"topics@{SERVICE}/Alice"

        r = configure(alice, "topics", changesubject=1)
        assert r.get("type") == "result"
        bob.send(f"<message to='topics@{SERVICE}' type='groupchat'>"
                 "<subject>Bob's topic</subject></message>")
        alice.wait_for(lambda e: e.tag == q("message") and e.findtext(q("subject")) == "Bob's topic")

        with login(server, "carol") as carol:
            join(carol, "topics", "Carol")
            m = carol.wait_for(lambda e: e.tag == q("message") and e.find(q("subject")) is not None)
            assert m.findtext(q("subject")) == "Bob's topic"
            assert m.get("from") == f"topics@{SERVICE}/Bob"


def test_configuration_form_and_locked_room(server):
    with login(server, "alice") as alice, login(server, "bob") as bob:
        mine = join(alice, "reserved", "Alice")
        assert "201" in codes(mine)
        form = alice.iq("get", f"<query xmlns='{MUC_OWNER}'/>", to=f"reserved@{SERVICE}")
        assert form.get("type") == "result", stanza_error(form)
        fields = {f.get("var") for f in form.iter(q("field", NS_DATA))}
        assert {"muc#roomconfig_roomname", "muc#roomconfig_persistentroom",
                "muc#roomconfig_membersonly", "muc#roomconfig_whois"} <= fields
        # Until the owner submits the form, the room is locked.
        err = join(bob, "reserved", "Bob")
        assert stanza_error(err)[1] == "item-not-found"
        r = bob.iq("get", f"<query xmlns='{MUC_OWNER}'/>", to=f"reserved@{SERVICE}")
        assert stanza_error(r)[1] == "forbidden"
        r = alice.iq("set", f"<query xmlns='{MUC_OWNER}'><x xmlns='{NS_DATA}' type='submit'/>"
                     "</query>", to=f"reserved@{SERVICE}")
        assert r.get("type") == "result"
        assert join(bob, "reserved", "Bob").get("type") is None


def test_disco_of_the_service_and_a_room(server):
    with login(server, "alice") as alice:
        items = alice.iq("get", f"<query xmlns='{NS_DISCO_ITEMS}'/>", to=DOMAIN)
        assert SERVICE in [i.get("jid") for i in items.iter(q("item", NS_DISCO_ITEMS))]
        info = alice.iq("get", f"<query xmlns='{NS_DISCO_INFO}'/>", to=SERVICE)
        identity = info.find(f"{q('query', NS_DISCO_INFO)}/{q('identity', NS_DISCO_INFO)}")
        assert (identity.get("category"), identity.get("type")) == ("conference", "text")
        assert MUC in [f.get("var") for f in info.iter(q("feature", NS_DISCO_INFO))]

        join(alice, "discoverable", "Alice")
        configure(alice, "discoverable", roomname="Open talk", whois="anyone")
        info = alice.iq("get", f"<query xmlns='{NS_DISCO_INFO}'/>", to=f"discoverable@{SERVICE}")
        features = {f.get("var") for f in info.iter(q("feature", NS_DISCO_INFO))}
        assert {MUC, "muc_temporary", "muc_open", "muc_unmoderated", "muc_nonanonymous",
                "muc_unsecured"} <= features
        identity = info.find(f"{q('query', NS_DISCO_INFO)}/{q('identity', NS_DISCO_INFO)}")
        assert identity.get("name") == "Open talk"
        rooms = alice.iq("get", f"<query xmlns='{NS_DISCO_ITEMS}'/>", to=SERVICE)
        assert f"discoverable@{SERVICE}" in [i.get("jid") for i in rooms.iter(q("item", NS_DISCO_ITEMS))]

        missing = alice.iq("get", f"<query xmlns='{NS_DISCO_INFO}'/>", to=f"nosuch@{SERVICE}")
        assert stanza_error(missing)[1] == "item-not-found"


def test_a_temporary_room_disappears_with_its_last_occupant(server):
    with login(server, "alice") as alice:
        join(alice, "fleeting", "Alice")
    with login(server, "bob") as bob:
        # The logout's unavailable presence empties the room, soon after the socket closes.
        deadline = time.monotonic() + 10
        while True:
            info = bob.iq("get", f"<query xmlns='{NS_DISCO_INFO}'/>", to=f"fleeting@{SERVICE}")
            if info.get("type") == "error" or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert stanza_error(info)[1] == "item-not-found"
        mine = join(bob, "fleeting", "Bob")
        assert "201" in codes(mine) and item(mine).get("affiliation") == "owner"


def test_omemo_in_a_room_is_refused_by_the_e2ee_module(server):
    with login(server, "alice") as alice, login(server, "bob") as bob:
        join(alice, "secure", "Alice")
        join(bob, "secure", "Bob")
        alice.send(f"<message to='secure@{SERVICE}' type='groupchat' id='g-omemo'>{OMEMO}</message>")
        err = alice.wait_for(lambda e: e.get("id") == "g-omemo" and e.get("type") == "error")
        assert stanza_error(err)[1] == "policy-violation"
        assert no_message(bob, "I sent you an OMEMO encrypted message")
        alice.drain(0.3)
        assert not [e for e in alice.pending if e.tag == q("message")
                    and e.get("type") == "groupchat"
                    and e.findtext(q("body")) == "I sent you an OMEMO encrypted message"]


def test_a_persistent_room_survives_a_restart(server):
    with login(server, "alice") as alice, login(server, "bob") as bob:
        join(alice, "archive", "Alice")
        r = configure(alice, "archive", persistentroom=1, roomname="Archive", membersonly=1)
        assert r.get("type") == "result", stanza_error(r)
        r = admin_set(alice, "archive", f"<item jid='bob@{DOMAIN}' affiliation='member'/>")
        assert r.get("type") == "result", stanza_error(r)
        join(bob, "archive", "Bob")
        say(alice, "archive", "remember me")
        groupchat(bob, "remember me")

    server.restart()

    with login(server, "carol") as carol, login(server, "bob") as bob:
        info = carol.iq("get", f"<query xmlns='{NS_DISCO_INFO}'/>", to=f"archive@{SERVICE}")
        assert info.get("type") == "result", stanza_error(info)
        features = {f.get("var") for f in info.iter(q("feature", NS_DISCO_INFO))}
        assert {"muc_persistent", "muc_membersonly"} <= features
        # The affiliations came back: carol is no member, bob is.
        err = join(carol, "archive", "Carol")
        assert stanza_error(err)[1] == "registration-required"
        mine = join(bob, "archive", "Bob")
        assert mine.get("type") is None, stanza_error(mine)
        assert item(mine).get("affiliation") == "member"
        assert "201" not in codes(mine)
        old = groupchat(bob, "remember me")
        assert old.find(q("delay", NS_DELAY)) is not None


def test_password_and_max_users(server):
    with login(server, "alice") as alice, login(server, "bob") as bob, \
            login(server, "carol") as carol:
        join(alice, "guarded", "Alice")
        r = configure(alice, "guarded", passwordprotectedroom=1, roomsecret="s3cret", maxusers=2)
        assert r.get("type") == "result", stanza_error(r)
        err = join(bob, "guarded", "Bob")
        assert stanza_error(err)[1] == "not-authorized"
        err = join(bob, "guarded", "Bob", extra="<password>wrong</password>")
        assert stanza_error(err)[1] == "not-authorized"
        mine = join(bob, "guarded", "Bob", extra="<password>s3cret</password>")
        assert mine.get("type") is None, stanza_error(mine)
        # Two occupants: the room is full.
        err = join(carol, "guarded", "Carol", extra="<password>s3cret</password>")
        assert stanza_error(err)[1] == "service-unavailable"


def test_the_owner_destroys_a_room(server):
    with login(server, "alice") as alice, login(server, "bob") as bob:
        join(alice, "doomed", "Alice")
        join(bob, "doomed", "Bob")
        r = bob.iq("set", f"<query xmlns='{MUC_OWNER}'><destroy/></query>", to=f"doomed@{SERVICE}")
        assert stanza_error(r)[1] == "forbidden"
        r = alice.iq("set", f"<query xmlns='{MUC_OWNER}'><destroy><reason>done</reason></destroy>"
                     "</query>", to=f"doomed@{SERVICE}")
        assert r.get("type") == "result", stanza_error(r)
        out = presence_from(bob, "doomed", "Bob", lambda e: e.get("type") == "unavailable")
        assert out.find(f"{q('x', MUC_USER)}/{q('destroy', MUC_USER)}") is not None
        say(alice, "doomed", "anyone here?", msg_id="g-doomed")
        err = alice.wait_for(lambda e: e.get("id") == "g-doomed" and e.get("type") == "error")
        assert stanza_error(err)[1] in ("item-not-found", "not-acceptable")


def test_many_occupants_join_and_talk_at_once(server):
    """Joins and messages from several io threads meet in one room: everyone ends up seeing
    every message exactly once."""
    users = ["alice", "bob", "carol", "dave", "erin", "frank"]
    clients = [login(server, u) for u in users]
    try:
        for c, u in zip(clients, users):
            c.send(f"<presence to='busy@{SERVICE}/{u}'><x xmlns='{MUC}'/></presence>")
        for c, u in zip(clients, users):
            presence_from(c, "busy", u, lambda e: "110" in codes(e))
        for c, u in zip(clients, users):
            for i in range(3):
                say(c, "busy", f"{u}-{i}")
        for c in clients:
            for u in users:
                for i in range(3):
                    groupchat(c, f"{u}-{i}")
            assert all(e.findtext(q("body")) is None or e.get("type") != "groupchat"
                       for e in c.drain(0.3))
    finally:
        for c in clients:
            c.close()


NS_OCCUPANT_ID = "urn:xmpp:occupant-id:0"


def occupant_id(stanza):
    ids = stanza.findall(q("occupant-id", NS_OCCUPANT_ID))
    assert len(ids) <= 1, "a room stanza carries one occupant-id"
    return ids[0].get("id") if ids else None


def test_occupant_ids_are_stable_per_user_and_forgeries_are_stripped(server):
    """XEP-0421: every presence and groupchat message from the room carries the sender's
    occupant-id; it stays the same when the user rejoins (another resource, another nick) and
    differs between users and rooms; one a client sends is replaced by the room's."""
    with login(server, "alice") as alice, login(server, "bob") as bob:
        mine = join(alice, "ids", "Alice")
        alice_id = occupant_id(mine)
        assert alice_id and len(alice_id) >= 16
        bobs = join(bob, "ids", "Bob")
        bob_id = occupant_id(bobs)
        assert bob_id and bob_id != alice_id
        assert occupant_id(presence_from(bob, "ids", "Alice")) == alice_id
        assert occupant_id(presence_from(alice, "ids", "Bob")) == bob_id

        # A forged id (Alice's) in Bob's message is replaced by Bob's own.
        say(bob, "ids", "trust me, I am Alice",
            extra=f"<occupant-id xmlns='{NS_OCCUPANT_ID}' id='{alice_id}'/>")
        for c in (alice, bob):
            assert occupant_id(groupchat(c, "trust me, I am Alice")) == bob_id
        # And in his presence too.
        bob.send(f"<presence to='ids@{SERVICE}/Bob'><status>away</status>"
                 f"<occupant-id xmlns='{NS_OCCUPANT_ID}' id='{alice_id}'/></presence>")
        update = presence_from(alice, "ids", "Bob", lambda e: e.findtext(q("status")) == "away")
        assert occupant_id(update) == bob_id

        bob.send(f"<presence to='ids@{SERVICE}/Bob' type='unavailable'/>")
        gone = presence_from(alice, "ids", "Bob", lambda e: e.get("type") == "unavailable")
        assert occupant_id(gone) == bob_id

        # Bob comes back from another resource under another nick: the same id, also on the
        # history the room replays.
        with login(server, "bob", resource="phone") as phone:
            again = join(phone, "ids", "Robert")
            assert occupant_id(again) == bob_id
            assert occupant_id(groupchat(phone, "trust me, I am Alice")) == bob_id
            say(phone, "ids", "back again")
            assert occupant_id(groupchat(alice, "back again")) == bob_id
            # The same user has another id in another room.
            other = join(phone, "ids-elsewhere", "Robert")
            assert occupant_id(other) not in (None, bob_id)

        info = alice.iq("get", f"<query xmlns='{NS_DISCO_INFO}'/>", to=f"ids@{SERVICE}")
        assert NS_OCCUPANT_ID in {f.get("var") for f in info.iter(q("feature", NS_DISCO_INFO))}

    # The key survives a restart (it lives in PostgreSQL), and so does every id.
    server.restart()
    with login(server, "bob") as bob:
        assert occupant_id(join(bob, "ids", "Bob")) == bob_id


def ping(client, to):
    return client.iq("get", f"<ping xmlns='{NS_PING}'/>", to=to)


def test_self_ping_tells_a_client_whether_it_is_still_joined(server):
    """XEP-0410: the room answers a ping to the sender's own occupant JID itself: a result
    while that full JID is joined under that nick, not-acceptable when it is not joined,
    item-not-found when it is joined but under another nick now."""
    with login(server, "alice") as alice, login(server, "alice", resource="tablet") as tablet, \
            login(server, "bob") as bob:
        join(alice, "pings", "Alice")
        r = ping(alice, f"pings@{SERVICE}/Alice")
        assert r.get("type") == "result", stanza_error(r)
        assert r.get("from") == f"pings@{SERVICE}/Alice"

        # Alice's other resource is not joined, nor is Bob: whichever nick they ping.
        for client, nick in ((tablet, "Alice"), (bob, "Alice"), (bob, "Bob")):
            r = ping(client, f"pings@{SERVICE}/{nick}")
            assert r.get("type") == "error"
            assert stanza_error(r)[1] == "not-acceptable"
            assert r.find(q("error")).get("by") == f"pings@{SERVICE}"
        # A room that does not exist knows nobody either.
        r = ping(bob, f"nowhere@{SERVICE}/Bob")
        assert stanza_error(r)[1] == "not-acceptable"

        join(bob, "pings", "Bob")  # keeps the room alive when Alice leaves below
        # Renamed by another client of hers: the old nick is gone, she is still in.
        alice.send(f"<presence to='pings@{SERVICE}/Alicia'/>")
        presence_from(alice, "pings", "Alicia", lambda e: "110" in codes(e))
        r = ping(alice, f"pings@{SERVICE}/Alice")
        assert stanza_error(r)[1] == "item-not-found"
        assert ping(alice, f"pings@{SERVICE}/Alicia").get("type") == "result"

        # After leaving, the same ping says she is out.
        alice.send(f"<presence to='pings@{SERVICE}/Alicia' type='unavailable'/>")
        presence_from(alice, "pings", "Alicia", lambda e: e.get("type") == "unavailable")
        r = ping(alice, f"pings@{SERVICE}/Alicia")
        assert stanza_error(r)[1] == "not-acceptable"


def test_rooms_advertise_the_self_ping_optimization(server):
    with login(server, "alice") as alice:
        join(alice, "pinged", "Alice")
        info = alice.iq("get", f"<query xmlns='{NS_DISCO_INFO}'/>", to=f"pinged@{SERVICE}")
        features = {f.get("var") for f in info.iter(q("feature", NS_DISCO_INFO))}
        assert "http://jabber.org/protocol/muc#self-ping-optimization" in features


def role_is(role):
    return lambda e: item(e) is not None and item(e).get("role") == role


def test_voice_and_moderator_status_change_hands(server):
    """§8.5-§8.6 and §9.6-§9.7: moderators take and give voice, admins and owners grant and
    revoke moderator status; every occupant sees the new role; a visitor's message is refused
    with forbidden and reaches nobody."""
    with login(server, "alice") as alice, login(server, "bob") as bob, \
            login(server, "carol") as carol:
        join(alice, "stage", "Alice")
        join(bob, "stage", "Bob")
        join(carol, "stage", "Carol")
        r = admin_set(carol, "stage", "<item nick='Bob' role='visitor'/>")
        assert stanza_error(r)[1] == "not-allowed"

        r = admin_set(alice, "stage", "<item nick='Bob' role='visitor'><reason>hush</reason></item>")
        assert r.get("type") == "result", stanza_error(r)
        presence_from(carol, "stage", "Bob", role_is("visitor"))
        own = presence_from(bob, "stage", "Bob", role_is("visitor"))
        assert "110" in codes(own)
        say(bob, "stage", "can you hear me", msg_id="v1")
        err = bob.wait_for(lambda e: e.get("id") == "v1" and e.get("type") == "error")
        assert stanza_error(err)[1] == "forbidden"
        assert no_message(carol, "can you hear me")

        r = admin_set(alice, "stage", "<item nick='Bob' role='participant'/>")
        assert r.get("type") == "result", stanza_error(r)
        presence_from(carol, "stage", "Bob", role_is("participant"))
        say(bob, "stage", "now you can")
        groupchat(carol, "now you can")

        # The owner makes Carol a moderator; she may then silence Bob, not the owner.
        r = admin_set(alice, "stage", "<item nick='Carol' role='moderator'/>")
        assert r.get("type") == "result", stanza_error(r)
        seen = presence_from(bob, "stage", "Carol", role_is("moderator"))
        assert item(seen).get("affiliation") == "none"
        r = admin_set(carol, "stage", "<item nick='Bob' role='visitor'/>")
        assert r.get("type") == "result", stanza_error(r)
        presence_from(alice, "stage", "Bob", role_is("visitor"))
        for change in ("visitor", "participant"):
            r = admin_set(carol, "stage", f"<item nick='Alice' role='{change}'/>")
            assert stanza_error(r)[1] == "not-allowed"
        # A moderator who is no admin does not make moderators.
        r = admin_set(carol, "stage", "<item nick='Bob' role='moderator'/>")
        assert stanza_error(r)[1] == "not-allowed"

        # The owner takes Carol's moderator status back.
        r = admin_set(alice, "stage", "<item nick='Carol' role='participant'/>")
        assert r.get("type") == "result", stanza_error(r)
        presence_from(bob, "stage", "Carol", role_is("participant"))
        r = admin_set(carol, "stage", "<item nick='Bob' role='participant'/>")
        assert stanza_error(r)[1] == "not-allowed"
        r = admin_set(alice, "stage", "<item nick='Nobody' role='visitor'/>")
        assert stanza_error(r)[1] == "item-not-found"


def room_notice(client, room, timeout=None):
    """A message from the room itself carrying status codes (§10.2.1)."""
    return client.wait_for(lambda e: e.tag == q("message") and e.get("from") == f"{room}@{SERVICE}"
                           and codes(e), timeout)


def test_status_codes_tell_occupants_what_the_configuration_changed(server):
    """§10.2.1: 104 for any change, with 172/173 when the room becomes non-anonymous or
    semi-anonymous and 170/171 when logging is switched on or off; §7.2.12: 170 and 100 in the
    self-presence of someone entering a logged, non-anonymous room, and only there."""
    with login(server, "alice") as alice, login(server, "bob") as bob:
        join(alice, "codes", "Alice")
        join(bob, "codes", "Bob")
        for fields, expected in (({"roomname": "Codes"}, {"104"}),
                                 ({"whois": "anyone"}, {"104", "172"}),
                                 ({"whois": "moderators"}, {"104", "173"}),
                                 ({"enablelogging": 1}, {"104", "170"})):
            r = configure(alice, "codes", **fields)
            assert r.get("type") == "result", stanza_error(r)
            for c in (alice, bob):
                notice = room_notice(c, "codes")
                assert notice.get("type") == "groupchat"
                assert codes(notice) == expected, fields
        configure(alice, "codes", whois="anyone")
        assert codes(room_notice(bob, "codes")) == {"104", "172"}

        with login(server, "carol") as carol:
            mine = join(carol, "codes", "Carol")
            assert {"110", "100", "170"} <= codes(mine)
            seen = presence_from(bob, "codes", "Carol")
            assert not codes(seen) & {"100", "170", "110", "201"}

        r = configure(alice, "codes", enablelogging=0)
        assert codes(room_notice(bob, "codes")) == {"104", "171"}
        form = alice.iq("get", f"<query xmlns='{MUC_OWNER}'/>", to=f"codes@{SERVICE}")
        logging = [f for f in form.iter(q("field", NS_DATA))
                   if f.get("var") == "muc#roomconfig_enablelogging"]
        assert logging and logging[0].findtext(q("value", NS_DATA)) == "0"


def invite(client, room, invitee, msg_id=None, reason="join us"):
    msg_id = msg_id or f"inv-{time.monotonic_ns()}"
    client.send(f"<message to='{room}@{SERVICE}' id='{msg_id}'><x xmlns='{MUC_USER}'>"
                f"<invite to='{invitee}'><reason>{reason}</reason></invite></x></message>")
    return msg_id


def invitation(client, room):
    return client.wait_for(lambda e: e.tag == q("message") and e.get("from") == f"{room}@{SERVICE}"
                           and e.find(f"{q('x', MUC_USER)}/{q('invite', MUC_USER)}") is not None)


def test_an_invitation_to_a_members_only_room_makes_the_invitee_a_member(server):
    """§7.8.2: an owner's (or admin's) invitation to a members-only room adds the invitee to the
    member list, which a persistent room keeps in PostgreSQL; a member invites only when the
    room lets members invite."""
    with login(server, "alice") as alice, login(server, "erin") as erin, \
            login(server, "bob") as bob:
        join(alice, "inner", "Alice")
        join(bob, "inner", "Bob")
        r = configure(alice, "inner", membersonly=1, persistentroom=1)
        assert r.get("type") == "result", stanza_error(r)
        # Bob is no member: the room sends him away (322).
        out = presence_from(bob, "inner", "Bob", lambda e: e.get("type") == "unavailable")
        assert {"110", "322"} <= codes(out)
        assert stanza_error(join(erin, "inner", "Erin"))[1] == "registration-required"

        invite(alice, "inner", f"erin@{DOMAIN}")
        got = invitation(erin, "inner")
        inv = got.find(f"{q('x', MUC_USER)}/{q('invite', MUC_USER)}")
        assert inv.get("from") == alice.jid
        assert inv.findtext(q("reason", MUC_USER)) == "join us"
        mine = join(erin, "inner", "Erin")
        assert mine.get("type") is None, stanza_error(mine)
        assert item(mine).get("affiliation") == "member"

        # A member's invitation is refused until the room lets members invite.
        msg_id = invite(erin, "inner", f"bob@{DOMAIN}")
        err = erin.wait_for(lambda e: e.get("id") == msg_id and e.get("type") == "error")
        assert stanza_error(err)[1] == "forbidden"
        assert stanza_error(join(bob, "inner", "Bob"))[1] == "registration-required"
        r = configure(alice, "inner", allowinvites=1)
        assert r.get("type") == "result", stanza_error(r)
        invite(erin, "inner", f"bob@{DOMAIN}")
        invitation(bob, "inner")
        assert join(bob, "inner", "Bob").get("type") is None

        members = alice.iq("get", f"<query xmlns='{MUC_ADMIN}'><item affiliation='member'/>"
                           "</query>", to=f"inner@{SERVICE}")
        assert {i.get("jid") for i in members.iter(q("item", MUC_ADMIN))} == \
            {f"erin@{DOMAIN}", f"bob@{DOMAIN}"}

    server.restart()
    with login(server, "erin") as erin:
        mine = join(erin, "inner", "Erin")
        assert mine.get("type") is None, stanza_error(mine)
        assert item(mine).get("affiliation") == "member"


def stored_room_password_columns(server, room):
    conninfo = re.search(r'^\s*conninfo: "(.*)"$', server.config.read_text(), re.M).group(1)
    sql = (f"SELECT coalesce(password, '<null>') || '|' || coalesce(password_hash, '<null>')"
           f" FROM muc_rooms WHERE jid = '{room}@{SERVICE}'")
    res = subprocess.run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-c", sql],
                         capture_output=True, text=True, check=True)
    return res.stdout.strip().split("|")


def test_room_passwords_are_stored_hashed_and_never_shown(server):
    """A password-protected persistent room keeps a salted PBKDF2 hash, not the password; the
    owner's form shows the secret empty; the right password opens the room, a wrong one does
    not, before and after a restart, and resubmitting the form without a secret keeps it."""
    with login(server, "alice") as alice, login(server, "bob") as bob:
        join(alice, "vault", "Alice")
        r = configure(alice, "vault", persistentroom=1, passwordprotectedroom=1,
                      roomsecret="open sesame")
        assert r.get("type") == "result", stanza_error(r)
        plain, hashed = stored_room_password_columns(server, "vault")
        assert plain == "<null>"
        assert hashed.startswith("pbkdf2-sha256$") and "open sesame" not in hashed

        form = alice.iq("get", f"<query xmlns='{MUC_OWNER}'/>", to=f"vault@{SERVICE}")
        values = {f.get("var"): f.findtext(q("value", NS_DATA)) for f in form.iter(q("field", NS_DATA))}
        assert values["muc#roomconfig_passwordprotectedroom"] == "1"
        assert not values.get("muc#roomconfig_roomsecret")
        # Submitting the form back as shown (secret empty) keeps the password.
        r = configure(alice, "vault", roomname="Vault", passwordprotectedroom=1)
        assert r.get("type") == "result", stanza_error(r)
        assert stored_room_password_columns(server, "vault")[1] == hashed

        err = join(bob, "vault", "Bob", extra="<password>open sesame!</password>")
        assert stanza_error(err)[1] == "not-authorized"
        assert join(bob, "vault", "Bob", extra="<password>open sesame</password>").get("type") is None

    server.restart()
    with login(server, "bob") as bob, login(server, "carol") as carol:
        assert stanza_error(join(carol, "vault", "Carol"))[1] == "not-authorized"
        err = join(carol, "vault", "Carol", extra="<password>Open sesame</password>")
        assert stanza_error(err)[1] == "not-authorized"
        mine = join(bob, "vault", "Bob", extra="<password>open sesame</password>")
        assert mine.get("type") is None, stanza_error(mine)
