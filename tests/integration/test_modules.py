"""Policy modules loaded by a live parleyd: file-transfer denial (§4), end-to-end-encryption
denial (§3) and the login notice (§7); refusals reach the sender as stanza errors naming the
clause and never reach the recipient; SIGHUP turns a module off and on under live sessions."""

import json
import signal
import time

from xmpp_helpers import DOMAIN, RawClient, q, stanza_error

SERVER_EXTRA_YAML = """
modules:
  file_transfer:
    enabled: true
  e2ee:
    enabled: true
  notice:
    enabled: true
    policy_version: "2026-11"
"""

SI_OFFER = (
    "<si xmlns='http://jabber.org/protocol/si' id='s5b_1' mime-type='text/plain' "
    "profile='http://jabber.org/protocol/si/profile/file-transfer'>"
    "<file xmlns='http://jabber.org/protocol/si/profile/file-transfer' name='clients.csv' "
    "size='1022'/>"
    "<feature xmlns='http://jabber.org/protocol/feature-neg'>"
    "<x xmlns='jabber:x:data' type='form'><field var='stream-method' type='list-single'>"
    "<option><value>http://jabber.org/protocol/bytestreams</value></option>"
    "</field></x></feature></si>"
)
JINGLE_RTP = (
    "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='call1' "
    "initiator='{initiator}'><content creator='initiator' name='voice'>"
    "<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'>"
    "<payload-type id='111' name='opus' clockrate='48000' channels='2'/></description>"
    "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' pwd='asd88fgpdd777uzjYhagZg' "
    "ufrag='8hhy'/></content></jingle>"
)
OMEMO = (
    "<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='27183'>"
    "<key rid='31415'>c2VjcmV0</key><iv>aXY=</iv></header><payload>cGF5bG9hZA==</payload>"
    "</encrypted><body>I sent you an OMEMO encrypted message but your client doesn't seem to "
    "support that.</body>"
)


def _reload(server, marker_count):
    server.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while server.log().count("reload done") < marker_count:
        assert time.monotonic() < deadline, "parleyd did not report the reload"
        assert "reload failed" not in server.log(), server.log()[-2000:]
        time.sleep(0.1)


def test_notice_arrives_at_login(server):
    with RawClient(server) as carol:
        carol.login("carol", resource="notice", presence=False)
        notice = carol.wait_for(lambda e: e.tag == q("message") and e.get("type") == "headline")
        assert notice.get("from") == DOMAIN
        assert "monitored" in notice.findtext(q("body"))
        version = notice.find("{urn:parley:notice:0}notice")
        assert version is not None and version.get("version") == "2026-11"


def test_file_transfer_is_refused_and_never_delivered(server):
    with RawClient(server) as alice, RawClient(server) as bob:
        alice.login("alice", resource="ft")
        bob.login("bob", resource="ft")
        reply = alice.iq("set", SI_OFFER, to=bob.jid)
        err_type, condition, text = stanza_error(reply)
        assert (err_type, condition) == ("cancel", "policy-violation")
        assert text.startswith("Blocked by the IM policy (§4 File sharing): ")
        # An HTTP upload slot request to the server is refused the same way.
        reply = alice.iq(
            "get",
            "<request xmlns='urn:xmpp:http:upload:0' filename='a.jpg' size='2345' "
            "content-type='image/jpeg'/>",
            to=DOMAIN,
        )
        assert stanza_error(reply)[1] == "policy-violation"
        # Voice calls are not file transfer: Jingle RTP reaches bob.
        alice.send(f"<iq type='set' id='call-1' to='{bob.jid}'>"
                   + JINGLE_RTP.format(initiator=alice.jid) + "</iq>")
        call = bob.wait_for(lambda e: e.tag == q("iq") and e.get("id") == "call-1", timeout=5)
        assert call.find("{urn:xmpp:jingle:1}jingle") is not None
        bob.drain(0.5)
        assert not [e for e in bob.pending if e.find("{http://jabber.org/protocol/si}si") is not None]


def test_omemo_message_is_refused(server):
    with RawClient(server) as alice, RawClient(server) as bob:
        alice.login("alice", resource="omemo")
        bob.login("bob", resource="omemo")
        alice.send(f"<message to='{bob.jid}' type='chat' id='om1'>{OMEMO}</message>")
        err = alice.wait_for(lambda e: e.tag == q("message") and e.get("id") == "om1"
                             and e.get("type") == "error")
        condition, text = stanza_error(err)[1:]
        assert condition == "policy-violation"
        assert "§3 Confidentiality" in text
        alice.message(bob.jid, "plain text is fine", msg_id="plain1")
        got = bob.wait_message("plain text is fine", timeout=5)
        assert got.get("id") == "plain1"
        assert not [e for e in bob.pending if e.get("id") == "om1"]


def test_sighup_turns_a_module_off_and_on_without_dropping_sessions(server):
    good = server.config.read_text()
    reloads = server.log().count("reload done")
    with RawClient(server) as alice, RawClient(server) as bob:
        alice.login("alice", resource="toggle")
        bob.login("bob", resource="toggle")
        try:
            server.config.write_text(good.replace(
                "  file_transfer:\n    enabled: true", "  file_transfer:\n    enabled: false"))
            _reload(server, reloads + 1)
            assert "file_transfer: disabled" in server.log()
            alice.send(f"<iq type='set' id='si-off' to='{bob.jid}'>{SI_OFFER}</iq>")
            offer = bob.wait_for(lambda e: e.tag == q("iq") and e.get("id") == "si-off", timeout=5)
            assert offer.find("{http://jabber.org/protocol/si}si") is not None
        finally:
            server.config.write_text(good)
        _reload(server, reloads + 2)
        reply = alice.iq("set", SI_OFFER, to=bob.jid)
        assert stanza_error(reply)[1] == "policy-violation"
        # Both changes are on the record as admin actions.
        changes = server.wait_events(lambda r: r["target"] == "file_transfer",
                                     "--module", "core", count=2)
        assert len(changes) >= 2, changes
        # Both sessions lived through both reloads.
        assert alice.iq("get", "<ping xmlns='urn:xmpp:ping'/>").get("type") == "result"
        assert bob.iq("get", "<ping xmlns='urn:xmpp:ping'/>").get("type") == "result"


def test_a_broken_module_configuration_is_refused_on_reload(server):
    good = server.config.read_text()
    try:
        server.config.write_text(good.replace("    policy_version: \"2026-11\"",
                                              "    policy_version: \"2026-11\"\n    colour: red"))
        server.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "reload failed" not in server.log():
            assert time.monotonic() < deadline, "parleyd did not report the failed reload"
            time.sleep(0.1)
        line = server.log().split("reload failed", 1)[1].splitlines()[0]
        assert "modules.notice.colour" in line
    finally:
        server.config.write_text(good)
    with RawClient(server) as alice:
        alice.login("alice", resource="after-bad")
        reply = alice.iq("set", SI_OFFER, to=alice.jid)
        assert stanza_error(reply)[1] == "policy-violation"  # the running set stayed


def test_decisions_are_compliance_events_in_postgresql(server):
    with RawClient(server) as alice, RawClient(server) as bob:
        alice.login("alice", resource="events")
        bob.login("bob", resource="events")
        reply = alice.iq("set", SI_OFFER, to=bob.jid)
        offer_id = reply.get("id")
        assert stanza_error(reply)[1] == "policy-violation"
    mine = server.wait_events(lambda r: r["stanza_id"] == offer_id, "--module", "file_transfer")
    assert len(mine) == 1, mine
    event = mine[0]
    assert event["kind"] == "file_transfer.si"
    assert event["action"] == "blocked"
    assert event["clause"] == "§4 File sharing"
    assert event["actor"] == f"alice@{DOMAIN}/events"
    assert "clients.csv" not in json.dumps(event)  # no file names in the record
    # The notice module records each notice it sent.
    assert server.wait_events(lambda r: r["kind"] == "notice.sent", "--module", "notice")
