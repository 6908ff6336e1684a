"""XEP-0313 Message Archive Management in a live parleyd: every chat message between two
accounts lands once in each party's archive; the recipient's copy carries a XEP-0359
<stanza-id/> naming its archive id (and the sender's carbon the sender's); the owner pages
through the archive with RSM forwards and backwards, filters by partner and time, and finds
every message exactly once and in order; a message the policy chain refuses is archived
nowhere; preferences ('never', per-JID lists) keep messages out; and nobody else may read or
configure an account's archive."""

import time
import xml.etree.ElementTree as ET

from xmpp_helpers import DOMAIN, NS_DISCO_INFO, RawClient, next_id, q, stanza_error

MAM = "urn:xmpp:mam:2"
RSM = "http://jabber.org/protocol/rsm"
SID = "urn:xmpp:sid:0"
FORWARD = "urn:xmpp:forward:0"
DELAY = "urn:xmpp:delay"
DATA = "jabber:x:data"
CARBONS = "urn:xmpp:carbons:2"

# The e2ee module refuses OMEMO: an easy message for the policy chain to refuse.
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


def jid(user):
    return f"{user}@{DOMAIN}"


def form(**fields):
    """A submitted urn:xmpp:mam:2 form; field names with '_' for '-'."""
    out = (f"<x xmlns='{DATA}' type='submit'><field var='FORM_TYPE' type='hidden'>"
           f"<value>{MAM}</value></field>")
    for name, value in fields.items():
        values = value if isinstance(value, list) else [value]
        out += (f"<field var='{name.replace('_', '-')}'>"
                + "".join(f"<value>{v}</value>" for v in values) + "</field>")
    return out + "</x>"


def rsm(max_=None, after=None, before=None):
    out = f"<set xmlns='{RSM}'>"
    if max_ is not None:
        out += f"<max>{max_}</max>"
    if after is not None:
        out += f"<after>{after}</after>"
    if before is not None:
        out += f"<before>{before}</before>" if before else "<before/>"
    return out + "</set>"


class Page:
    def __init__(self, reply, results):
        self.reply = reply
        self.results = results
        self.fin = reply.find(q("fin", MAM))
        self.set = self.fin.find(q("set", RSM)) if self.fin is not None else None

    @property
    def complete(self):
        return self.fin.get("complete")

    def ids(self):
        return [r.find(q("result", MAM)).get("id") for r in self.results]

    def messages(self):
        return [r.find(f"{q('result', MAM)}/{q('forwarded', FORWARD)}/{q('message')}")
                for r in self.results]

    def bodies(self):
        return [m.findtext(q("body")) for m in self.messages()]

    def rsm(self, name):
        return self.set.find(q(name, RSM))


def query(client, inside="", to=None, type_="set"):
    """Sends a MAM query; returns its Page (results matched by queryid, in arrival order)."""
    qid = next_id("mamq")
    reply = client.iq(type_, f"<query xmlns='{MAM}' queryid='{qid}'>{inside}</query>", to=to)
    results = [e for e in client.pending if e.tag == q("message")
               and e.find(q("result", MAM)) is not None
               and e.find(q("result", MAM)).get("queryid") == qid]
    for r in results:
        client.pending.remove(r)
    if reply.get("type") == "result":
        for r in results:
            assert r.get("to") == client.jid and r.get("from") in (None, bare(client.jid))
    return Page(reply, results)


def bare(full):
    return full.split("/", 1)[0]


def stanza_id(message, by):
    ids = [e.get("id") for e in message.findall(q("stanza-id", SID)) if e.get("by") == by]
    assert len(ids) <= 1, ET.tostring(message)
    return ids[0] if ids else None


def everything_with(client, partner, **filters):
    """The owner's whole archive with `partner` (one page, complete)."""
    page = query(client, form(**{"with": partner}, **filters) + rsm(250))
    assert page.reply.get("type") == "result", stanza_error(page.reply)
    assert page.complete == "true"
    return page


def test_alice_sends_bob_120_and_bob_pages_through_them(server):
    with RawClient(server) as alice, RawClient(server) as bob:
        alice.login("alice", resource="desk")
        bob.login("bob", resource="pc")
        for i in range(120):
            alice.message(jid("bob"), f"message {i}", msg_id=f"page-{i}")
        delivered = [bob.wait_message(f"message {i}") for i in range(120)]
        # Each delivered copy names its place in bob's archive.
        delivered_ids = [stanza_id(m, jid("bob")) for m in delivered]
        assert all(delivered_ids) and len(set(delivered_ids)) == 120
        wanted = [f"message {i}" for i in range(120)]

        # Forwards, 50 at a time.
        seen, after, pages = [], None, []
        while True:
            page = query(bob, rsm(50, after=after))
            assert page.reply.get("type") == "result", stanza_error(page.reply)
            pages.append(page)
            assert page.rsm("count").text == "120"
            assert page.rsm("first").get("index") == str(len(seen))
            assert page.rsm("first").text == page.ids()[0]
            assert page.rsm("last").text == page.ids()[-1]
            seen += page.results
            if page.complete == "true":
                break
            assert page.complete == "false"
            assert len(pages) < 5
            after = page.rsm("last").text
        assert [len(p.results) for p in pages] == [50, 50, 20]
        assert [b for p in pages for b in p.bodies()] == wanted
        assert [i for p in pages for i in p.ids()] == delivered_ids
        for result in seen:
            forwarded = result.find(f"{q('result', MAM)}/{q('forwarded', FORWARD)}")
            assert forwarded.find(q("delay", DELAY)).get("stamp").endswith("Z")
            original = forwarded.find(q("message"))
            assert original.get("from") == alice.jid and original.get("to") == jid("bob")

        # Backwards from the newest page (an empty <before/>).
        seen_back, before, pages = [], "", []
        while True:
            page = query(bob, rsm(50, before=before))
            assert page.reply.get("type") == "result", stanza_error(page.reply)
            pages.append(page)
            seen_back = page.bodies() + seen_back
            assert page.rsm("first").get("index") == str(120 - len(seen_back))
            if page.complete == "true":
                break
            assert len(pages) < 5
            before = page.rsm("first").text
        assert [len(p.results) for p in pages] == [50, 50, 20]
        assert seen_back == wanted

        # Alice has her own copies, under her own ids; delivered copies never name hers.
        mine = everything_with(alice, jid("bob"))
        assert mine.bodies() == wanted
        assert not set(mine.ids()) & set(delivered_ids)


def test_the_account_advertises_mam_and_stanza_ids(server):
    with RawClient(server) as alice:
        alice.login("alice", resource="disco")
        reply = alice.iq("get", f"<query xmlns='{NS_DISCO_INFO}'/>", to=jid("alice"))
        features = {f.get("var") for f in reply.iter(q("feature", NS_DISCO_INFO))}
        assert {MAM, MAM + "#extended", SID} <= features


def test_the_query_form_lists_the_fields(server):
    with RawClient(server) as alice:
        alice.login("alice", resource="form")
        page = query(alice, type_="get")
        assert page.reply.get("type") == "result", stanza_error(page.reply)
        fields = [f.get("var") for f in page.reply.iter(q("field", DATA))]
        assert fields == ["FORM_TYPE", "with", "start", "end", "before-id", "after-id", "ids"]


def test_filters_with_start_and_end(server):
    with RawClient(server) as carol, RawClient(server) as bob:
        carol.login("carol", resource="pc")
        bob.login("bob", resource="filters")
        for i in range(3):
            carol.message(jid("bob"), f"from carol {i}")
            bob.wait_message(f"from carol {i}")
        page = everything_with(bob, jid("carol"))
        assert page.bodies() == [f"from carol {i}" for i in range(3)]
        # A full JID matches that resource only.
        page = everything_with(bob, carol.jid)
        assert len(page.results) == 3
        page = everything_with(bob, jid("carol") + "/elsewhere")
        assert page.results == []

        stamps = [r.find(f"{q('result', MAM)}/{q('forwarded', FORWARD)}/{q('delay', DELAY)}")
                  .get("stamp") for r in everything_with(bob, jid("carol")).results]
        page = query(bob, form(start=stamps[1]) + rsm(250))
        assert page.bodies() == ["from carol 1", "from carol 2"]
        page = query(bob, form(start=stamps[1], end=stamps[1]))
        assert page.bodies() == ["from carol 1"]
        page = query(bob, form(end=stamps[0]) + rsm(250))
        assert page.bodies()[-1] == "from carol 0"
        assert "from carol 1" not in page.bodies()
        assert stanza_error(query(bob, form(start="last tuesday")).reply)[1] == "bad-request"


def test_extended_ids_and_count_only(server):
    with RawClient(server) as carol, RawClient(server) as bob:
        carol.login("carol", resource="ext")
        bob.login("bob", resource="ext")
        for i in range(4):
            carol.message(jid("bob"), f"extended {i}")
            bob.wait_message(f"extended {i}")
        ids = everything_with(bob, jid("carol")).ids()[-4:]
        page = query(bob, form(after_id=ids[0], before_id=ids[3]))
        assert page.bodies() == ["extended 1", "extended 2"]
        page = query(bob, form(ids=[ids[2], ids[0]]))
        assert page.bodies() == ["extended 0", "extended 2"]
        page = query(bob, form(**{"with": jid("carol")}) + rsm(2, after=ids[1]) + "<flip-page/>")
        assert page.bodies() == ["extended 3", "extended 2"]
        # max 0: the count alone.
        page = query(bob, form(**{"with": jid("carol")}) + rsm(0))
        assert page.results == [] and page.rsm("first") is None
        assert int(page.rsm("count").text) >= 4
        assert page.complete == "false"
        meta = bob.iq("get", f"<metadata xmlns='{MAM}'/>", to=None)
        end = meta.find(f"{q('metadata', MAM)}/{q('end', MAM)}")
        assert end is not None and end.get("id") == ids[3]


def test_an_unknown_id_is_item_not_found(server):
    with RawClient(server) as bob:
        bob.login("bob", resource="unknown")
        for inside in (rsm(10, after="3f2c9a0e-6b1d-4c1e-9f3a-0d8b7e6a5c41"),
                       rsm(10, before="not-an-id"),
                       form(after_id="3f2c9a0e-6b1d-4c1e-9f3a-0d8b7e6a5c41")):
            page = query(bob, inside)
            assert stanza_error(page.reply)[1] == "item-not-found"
            assert page.results == []


def test_origin_id_is_kept_and_forged_stanza_ids_are_removed(server):
    with RawClient(server) as alice, RawClient(server) as bob:
        alice.login("alice", resource="forge")
        bob.login("bob", resource="forge")
        alice.send(f"<message to='{jid('bob')}' type='chat' id='forge-1'><body>trust me</body>"
                   f"<stanza-id xmlns='{SID}' by='{jid('bob')}' id='forged'/>"
                   f"<origin-id xmlns='{SID}' id='origin-42'/></message>")
        got = bob.wait_message("trust me")
        assert got.find(q("origin-id", SID)).get("id") == "origin-42"
        real = stanza_id(got, jid("bob"))
        assert real and real != "forged"
        archived = everything_with(bob, jid("alice"))
        assert archived.ids()[-1] == real
        assert archived.messages()[-1].find(q("origin-id", SID)).get("id") == "origin-42"
        assert archived.messages()[-1].find(q("stanza-id", SID)) is None


def test_the_senders_carbon_carries_the_senders_archive_id(server):
    with RawClient(server) as desk, RawClient(server) as phone, RawClient(server) as bob:
        desk.login("alice", resource="desk-c")
        phone.login("alice", resource="phone-c")
        bob.login("bob", resource="carbon")
        reply = phone.iq("set", f"<enable xmlns='{CARBONS}'/>", to=None)
        assert reply.get("type") == "result"
        desk.message(jid("bob"), "carbon copy")
        bob.wait_message("carbon copy")
        carbon = phone.wait_for(lambda e: e.find(q("sent", CARBONS)) is not None)
        original = carbon.find(f"{q('sent', CARBONS)}/{q('forwarded', FORWARD)}/{q('message')}")
        assert stanza_id(original, jid("bob")) is None
        mine = stanza_id(original, jid("alice"))
        assert mine == everything_with(phone, jid("bob")).ids()[-1]


def test_a_message_stored_offline_is_archived_with_its_id(server):
    with RawClient(server) as erin:
        erin.login("erin", resource="pc")
        erin.message(jid("frank"), "while you were out")
        time.sleep(0.5)
    with RawClient(server) as frank:
        frank.login("frank", resource="back")
        got = frank.wait_message("while you were out")
        assert got.find(q("delay", DELAY)) is not None
        page = everything_with(frank, jid("erin"))
        assert page.bodies() == ["while you were out"]
        assert stanza_id(got, jid("frank")) == page.ids()[0]


def test_a_refused_message_is_archived_nowhere(server):
    with RawClient(server) as alice, RawClient(server) as bob:
        alice.login("alice", resource="omemo")
        bob.login("bob", resource="omemo")
        alice.send(f"<message to='{jid('bob')}' type='chat' id='refused-1'>{OMEMO}</message>")
        err = alice.wait_for(lambda e: e.get("id") == "refused-1" and e.get("type") == "error")
        assert stanza_error(err)[1] == "policy-violation"
        alice.message(jid("bob"), "after the refusal")
        bob.wait_message("after the refusal")
        for owner, partner in ((bob, "alice"), (alice, "bob")):
            bodies = everything_with(owner, jid(partner)).bodies()
            assert bodies[-1] == "after the refusal"
            assert "I sent you an OMEMO encrypted message" not in bodies


def test_chat_states_are_not_archived(server):
    with RawClient(server) as alice, RawClient(server) as bob:
        alice.login("alice", resource="states")
        bob.login("bob", resource="states")
        alice.send(f"<message to='{jid('bob')}' type='chat' id='typing-1'>"
                   "<composing xmlns='http://jabber.org/protocol/chatstates'/></message>")
        typing = bob.wait_for(lambda e: e.get("id") == "typing-1")
        assert stanza_id(typing, jid("bob")) is None
        alice.send(f"<message to='{jid('bob')}' type='chat' id='nostore-1'><body>ephemeral</body>"
                   "<no-store xmlns='urn:xmpp:hints'/></message>")
        bob.wait_message("ephemeral")
        assert "ephemeral" not in everything_with(bob, jid("alice")).bodies()


def prefs(client, payload=None):
    if payload is None:
        reply = client.iq("get", f"<prefs xmlns='{MAM}'/>", to=None)
    else:
        reply = client.iq("set", payload, to=None)
    assert reply.get("type") == "result", stanza_error(reply)
    p = reply.find(q("prefs", MAM))
    lists = {name: [j.text for j in p.find(q(name, MAM)).findall(q("jid", MAM))]
             for name in ("always", "never")}
    return p.get("default"), lists


def test_preferences_keep_messages_out(server):
    with RawClient(server) as dave, RawClient(server) as erin:
        dave.login("dave", resource="prefs")
        erin.login("erin", resource="prefs")
        assert prefs(dave) == ("always", {"always": [], "never": []})

        def exchange(body):
            erin.message(jid("dave"), body)
            return dave.wait_message(body)

        # default='never': nothing goes into dave's archive; erin's still keeps hers.
        assert prefs(dave, f"<prefs xmlns='{MAM}' default='never'><always/><never/></prefs>") == (
            "never", {"always": [], "never": []})
        got = exchange("not for the record")
        assert stanza_id(got, jid("dave")) is None
        assert "not for the record" not in everything_with(dave, jid("erin")).bodies()
        assert everything_with(erin, jid("dave")).bodies()[-1] == "not for the record"

        # An 'always' entry beats the default.
        prefs(dave, f"<prefs xmlns='{MAM}' default='never'><always><jid>{jid('erin')}</jid>"
                    "</always><never/></prefs>")
        got = exchange("erin is always kept")
        assert stanza_id(got, jid("dave")) == everything_with(dave, jid("erin")).ids()[-1]

        # A 'never' entry beats the default the other way.
        prefs(dave, f"<prefs xmlns='{MAM}' default='always'><always/>"
                    f"<never><jid>{jid('erin')}</jid></never></prefs>")
        assert prefs(dave) == ("always", {"always": [], "never": [jid("erin")]})
        exchange("erin is never kept")
        assert everything_with(dave, jid("erin")).bodies()[-1] == "erin is always kept"

        # roster: erin is not in dave's roster.
        prefs(dave, f"<prefs xmlns='{MAM}' default='roster'><always/><never/></prefs>")
        exchange("not a contact")
        assert "not a contact" not in everything_with(dave, jid("erin")).bodies()

        prefs(dave, f"<prefs xmlns='{MAM}' default='always'><always/><never/></prefs>")
        exchange("back on the record")
        assert everything_with(dave, jid("erin")).bodies()[-1] == "back on the record"


def test_nobody_else_may_read_or_configure_an_archive(server):
    with RawClient(server) as carol:
        carol.login("carol", resource="snoop")
        page = query(carol, rsm(10), to=jid("bob"))
        assert stanza_error(page.reply)[1] == "forbidden"
        assert page.results == []
        reply = carol.iq("get", f"<prefs xmlns='{MAM}'/>", to=jid("bob"))
        assert stanza_error(reply)[1] == "forbidden"
        reply = carol.iq("get", f"<metadata xmlns='{MAM}'/>", to=jid("bob"))
        assert stanza_error(reply)[1] == "forbidden"
        # Nor through the server's address.
        page = query(carol, rsm(10), to=DOMAIN)
        assert stanza_error(page.reply)[1] == "service-unavailable"
