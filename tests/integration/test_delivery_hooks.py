"""Hook points beyond the stanza chain in a live parleyd, with the probe test module
(tests/unit/module_host/fixtures): stanza.deliver (a refusal reaches the sender as a stanza
error naming the clause and never the recipient, offline messages at login included; a
rewrite is what the recipient gets), stanza.decided (sees every stanza with its verdict),
sasl.authenticated (refuses one account's login with a clear SASL failure) and
iq.<namespace> (a module answers iqs in its own namespace), message.server (a module takes
messages addressed to the server) and stream.features (a module edits the features offered)."""

import os
import time

from xmpp_helpers import DOMAIN, AuthFailed, RawClient, q, stanza_error

SERVER_EXTRA_YAML = f"""
modules:
  dir: {os.environ.get("PARLEY_TEST_MODULE_DIR", "")}
  probe:
    deliver: reject
    observe: true
    refuse_login: dave@{DOMAIN}
    iq_ns: urn:test:probe
    feature: urn:test:probe:feature
    server_message: true
"""


def test_a_refusal_at_delivery_reaches_the_sender_not_the_recipient(server):
    with RawClient(server) as alice, RawClient(server) as bob:
        alice.login("alice", resource="deliver")
        bob.login("bob", resource="deliver")
        alice.message(bob.jid, "refused at delivery", msg_id="d-1")
        err = alice.wait_for(lambda e: e.get("id") == "d-1" and e.get("type") == "error")
        err_type, condition, text = stanza_error(err)
        assert (err_type, condition) == ("cancel", "policy-violation")
        assert text == "Blocked by the IM policy (§0 Testing): probe refuses delivery."
        bob.drain(0.5)
        assert not [e for e in bob.pending if e.get("id") == "d-1"]
        # Presence is not what the probe refuses: it still flows.
        assert alice.iq("get", "<ping xmlns='urn:xmpp:ping'/>").get("type") == "result"
    # The observer saw the message with the routing verdict (it passed the chain; the
    # refusal came at delivery).
    rows = server.wait_events(lambda r: r["stanza_id"] == "d-1", "--module", "probe")
    assert [r["kind"] for r in rows] == ["probe.decided.pass"]


def test_offline_messages_are_checked_when_delivered_at_login(server):
    with RawClient(server) as alice:
        alice.login("alice", resource="offline")
        alice.message(f"carol@{alice.jid.split('@')[1].split('/')[0]}", "stored for later",
                      msg_id="d-off")
        time.sleep(0.5)  # stored offline (carol is not online)
        with RawClient(server) as carol:
            carol.login("carol", resource="later")
            carol.drain(1.0)
            assert not [e for e in carol.pending if e.get("id") == "d-off"]
        err = alice.wait_for(lambda e: e.get("id") == "d-off" and e.get("type") == "error")
        assert stanza_error(err)[1] == "policy-violation"


def test_a_rewrite_at_delivery_is_what_the_recipient_gets(server):
    good = server.config.read_text()
    try:
        server.config.write_text(good.replace("deliver: reject", "deliver: modify"))
        assert "probe: reloaded" in server.ctl("module", "reload", "probe").stdout
        with RawClient(server) as alice, RawClient(server) as bob:
            alice.login("alice", resource="rewrite")
            bob.login("bob", resource="rewrite")
            alice.message(bob.jid, "rewritten", msg_id="d-2")
            got = bob.wait_for(lambda e: e.tag == q("message") and e.get("id") == "d-2",
                               timeout=5)
            assert got.get("delivered-to") == bob.jid
    finally:
        server.config.write_text(good)
        server.ctl("module", "reload", "probe")


def test_a_module_refuses_one_accounts_login(server):
    with RawClient(server) as dave:
        dave.open_stream()
        dave.starttls()
        try:
            dave.authenticate("dave", server.password("dave"))
        except AuthFailed as failed:
            assert failed.condition == "account-disabled"
            text = failed.element.findtext("{urn:ietf:params:xml:ns:xmpp-sasl}text")
            assert text == "Blocked by the IM policy (§0 Testing): your IM access is suspended."
        else:
            raise AssertionError("dave's login was not refused")
    with RawClient(server) as erin:
        erin.login("erin", resource="allowed")  # everyone else logs in as before
    refused = server.wait_events(lambda r: r["kind"] == "probe.login_refused",
                                 "--module", "probe", "--actor", f"dave@{DOMAIN}")
    assert len(refused) == 1, refused


def test_a_module_answers_its_own_iq_namespace(server):
    with RawClient(server) as alice:
        alice.login("alice", resource="iq")
        reply = alice.iq("get", "<question xmlns='urn:test:probe'/>")
        assert reply.get("type") == "result"
        answer = reply.find("{urn:test:probe}answer")
        assert answer is not None and answer.get("to") == alice.jid
        reply = alice.iq("set", "<question xmlns='urn:test:probe'/>")
        assert stanza_error(reply)[1:] == ("bad-request", "only get")
        # A namespace nobody serves is still feature-not-implemented.
        reply = alice.iq("get", "<question xmlns='urn:test:nobody'/>")
        assert stanza_error(reply)[1] == "feature-not-implemented"


def test_a_module_takes_messages_addressed_to_the_server(server):
    with RawClient(server) as alice:
        alice.login("alice", resource="to-server")
        # The probe's: taken, answered from the domain, recorded.
        alice.message(DOMAIN, "take probe", msg_id="srv-1")
        answer = alice.wait_message(body="taken by probe", timeout=5)
        assert answer.get("from") == DOMAIN
        # With a resource it is still the server.
        alice.message(f"{DOMAIN}/service", "take probe", msg_id="srv-2")
        alice.wait_message(body="taken by probe", timeout=5)
        # The module's refusal is its own condition and text, not a policy prefix.
        alice.message(DOMAIN, "refuse probe", msg_id="srv-3")
        err = alice.wait_for(lambda e: e.get("id") == "srv-3" and e.get("type") == "error")
        assert stanza_error(err)[1:] == ("not-acceptable", "probe refuses.")
        # Nobody's: as before any module, the server does not accept it.
        alice.message(DOMAIN, "hello server", msg_id="srv-4")
        err = alice.wait_for(lambda e: e.get("id") == "srv-4" and e.get("type") == "error")
        assert stanza_error(err)[1] == "service-unavailable"
    taken = server.wait_events(lambda r: r["kind"] == "probe.server_message",
                               "--module", "probe", count=2)
    assert sorted(r["stanza_id"] for r in taken) == ["srv-1", "srv-2"]


def test_a_module_adds_a_stream_feature_after_authentication(server):
    with RawClient(server) as alice:
        features = alice.open_stream()
        assert features.find("{urn:test:probe:feature}probe") is None  # not before TLS
        alice.starttls()
        features = alice.authenticate("alice", server.password("alice"))
        added = features.find("{urn:test:probe:feature}probe")
        assert added is not None and added.get("for") == f"alice@{DOMAIN}"
