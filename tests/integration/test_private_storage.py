"""XEP-0049 private XML storage in a live parleyd: a fragment stored by one resource is read by
another and after a new login; an unknown fragment comes back empty; reserved namespaces,
empty queries and other accounts' storage are refused."""

from xmpp_helpers import DOMAIN, RawClient, q, stanza_error

PRIVATE = "jabber:iq:private"
BOOKMARKS = "storage:bookmarks"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"

CONFERENCE = (f"<storage xmlns='{BOOKMARKS}'><conference name='Project Falcon' autojoin='true' "
              f"jid='falcon@conference.{DOMAIN}'><nick>Alice</nick></conference></storage>")


def private(client, type_, inner, to=None):
    return client.iq(type_, f"<query xmlns='{PRIVATE}'>{inner}</query>", to=to)


def condition(reply):
    error = reply.find(q("error"))
    return [c.tag.split("}", 1)[1] for c in error if c.tag.startswith("{" + NS_STANZAS)][0]


def test_a_fragment_is_kept_for_the_accounts_clients(server):
    with RawClient(server) as desk, RawClient(server) as laptop:
        desk.login("alice", resource="desk")
        laptop.login("alice", resource="laptop")
        reply = private(desk, "set", CONFERENCE + "<prefs xmlns='urn:parley:test:prefs'>"
                                                  "<sound>off</sound></prefs>")
        assert reply.get("type") == "result", stanza_error(reply)
        got = private(laptop, "get", f"<storage xmlns='{BOOKMARKS}'/>")
        assert got.get("type") == "result", stanza_error(got)
        conf = got.find(f"{q('query', PRIVATE)}/{{{BOOKMARKS}}}storage/{{{BOOKMARKS}}}conference")
        assert conf.get("jid") == f"falcon@conference.{DOMAIN}"
        assert conf.findtext(f"{{{BOOKMARKS}}}nick") == "Alice"
        # Replacing keeps one copy.
        private(desk, "set", f"<storage xmlns='{BOOKMARKS}'/>")
        got = private(laptop, "get", f"<storage xmlns='{BOOKMARKS}'/>")
        assert len(got.find(f"{q('query', PRIVATE)}/{{{BOOKMARKS}}}storage")) == 0
    with RawClient(server) as later:
        later.login("alice", resource="later")
        got = private(later, "get", "<prefs xmlns='urn:parley:test:prefs'/>")
        assert got.find(f"{q('query', PRIVATE)}/{{urn:parley:test:prefs}}prefs").findtext(
            "{urn:parley:test:prefs}sound") == "off"
        # Never stored: the empty element comes back.
        empty = private(later, "get", "<nothing xmlns='urn:parley:test:none'/>")
        assert empty.get("type") == "result"
        element = empty.find(f"{q('query', PRIVATE)}/{{urn:parley:test:none}}nothing")
        assert element is not None and len(element) == 0


def test_what_private_storage_refuses(server):
    with RawClient(server) as bob:
        bob.login("bob", resource="x")
        assert condition(private(bob, "get", "", to=None)) == "bad-request"
        assert condition(private(bob, "set", "<message xmlns='jabber:client'/>")) == \
            "not-acceptable"
        assert condition(private(bob, "get", f"<storage xmlns='{BOOKMARKS}'/>",
                                 to=f"alice@{DOMAIN}")) == "forbidden"
