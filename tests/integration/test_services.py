"""Basic services on the server and accounts: disco#info, ping, vCard-temp, unknown IQs."""

from xmpp_helpers import (
    DOMAIN, NS_DISCO_INFO, NS_PING, NS_VCARD, RawClient, q, stanza_error,
)


def test_disco_info_on_server(server):
    with RawClient(server) as c:
        c.login("alice", resource="disco")
        reply = c.iq("get", f"<query xmlns='{NS_DISCO_INFO}'/>", to=DOMAIN)
        assert reply.get("type") == "result", reply
        assert reply.get("from") == DOMAIN
        query = reply.find(q("query", NS_DISCO_INFO))
        identities = [(i.get("category"), i.get("type"))
                      for i in query.findall(q("identity", NS_DISCO_INFO))]
        assert ("server", "im") in identities, identities
        features = {f.get("var") for f in query.findall(q("feature", NS_DISCO_INFO))}
        for needed in (NS_DISCO_INFO, NS_PING, NS_VCARD):
            assert needed in features, f"{needed} missing from {sorted(features)}"


def test_disco_info_on_own_account(server):
    with RawClient(server) as c:
        c.login("alice", resource="disco2")
        reply = c.iq("get", f"<query xmlns='{NS_DISCO_INFO}'/>", to=f"alice@{DOMAIN}")
        assert reply.get("type") == "result", stanza_error(reply)
        query = reply.find(q("query", NS_DISCO_INFO))
        identities = [(i.get("category"), i.get("type"))
                      for i in query.findall(q("identity", NS_DISCO_INFO))]
        assert ("account", "registered") in identities, identities


def test_ping_server(server):
    with RawClient(server) as c:
        c.login("bob", resource="ping")
        reply = c.iq("get", f"<ping xmlns='{NS_PING}'/>", to=DOMAIN)
        assert reply.get("type") == "result"
        assert reply.get("from") == DOMAIN
        # Without 'to' an iq is addressed to the account, which the server answers for.
        reply = c.iq("get", f"<ping xmlns='{NS_PING}'/>", to=None)
        assert reply.get("type") == "result"


def test_vcard_set_and_get(server):
    card = (
        f"<vCard xmlns='{NS_VCARD}'><FN>Carol Example</FN><NICKNAME>caro &amp; co</NICKNAME>"
        "<N><FAMILY>Example</FAMILY><GIVEN>Carol</GIVEN></N>"
        "<EMAIL><INTERNET/><USERID>carol@example.org</USERID></EMAIL></vCard>"
    )
    with RawClient(server) as carol:
        carol.login("carol", resource="vcard")
        reply = carol.iq("set", card, to=None)
        assert reply.get("type") == "result", stanza_error(reply)
        reply = carol.iq("get", f"<vCard xmlns='{NS_VCARD}'/>", to=None)
        assert reply.get("type") == "result", stanza_error(reply)
        vc = reply.find(q("vCard", NS_VCARD))
        assert vc.findtext(q("FN", NS_VCARD)) == "Carol Example"
        assert vc.findtext(q("NICKNAME", NS_VCARD)) == "caro & co"
        assert vc.findtext(f"{q('N', NS_VCARD)}/{q('GIVEN', NS_VCARD)}") == "Carol"

    # Someone else reads it (stored, not per session).
    with RawClient(server) as dave:
        dave.login("dave", resource="reader")
        reply = dave.iq("get", f"<vCard xmlns='{NS_VCARD}'/>", to=f"carol@{DOMAIN}")
        assert reply.get("type") == "result", stanza_error(reply)
        assert reply.get("from") == f"carol@{DOMAIN}"
        vc = reply.find(q("vCard", NS_VCARD))
        assert vc.findtext(q("FN", NS_VCARD)) == "Carol Example"


def test_vcard_of_someone_else_cannot_be_set(server):
    with RawClient(server) as dave:
        dave.login("dave", resource="forger")
        reply = dave.iq("set", f"<vCard xmlns='{NS_VCARD}'><FN>Not Carol</FN></vCard>",
                        to=f"carol@{DOMAIN}")
        assert reply.get("type") == "error"


def test_unknown_iq_namespace_is_feature_not_implemented(server):
    with RawClient(server) as c:
        c.login("erin", resource="unknown-ns")
        reply = c.iq("get", "<query xmlns='urn:example:no-such-protocol'/>", to=DOMAIN)
        assert reply.get("type") == "error"
        _type, cond, _text = stanza_error(reply)
        assert cond == "feature-not-implemented", cond


def test_iq_without_payload_is_bad_request(server):
    with RawClient(server) as c:
        c.login("erin", resource="empty")
        reply = c.iq("get", "", to=DOMAIN)
        assert reply.get("type") == "error"
        assert stanza_error(reply)[1] == "bad-request"
