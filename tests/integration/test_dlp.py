"""The dlp module (IM policy §3 Confidentiality) in a live parleyd with real clients: a card
number is refused with a reason and never reaches the recipient, even written with full-width
digits and zero-width spaces; an IBAN is delivered masked and the sender is told; a social
security number is delivered and flagged; every decision is a compliance event holding masked
excerpts only, and no raw test number is left anywhere in PostgreSQL or the server's log."""

import glob
import re
import subprocess

from xmpp_helpers import RawClient, q, stanza_error

SERVER_EXTRA_YAML = """
modules:
  dlp:
    enabled: true
    detectors:
      payment_cards: {action: block}
      iban: {action: redact, severity: medium}
      ssn: {action: flag, min_confidence: high}
"""

CARD = "4111 1111 1111 1111"
# Full-width digits with zero-width spaces between them: the same number to a person.
EVASIVE_CARD = "\u200b".join("４１１１") + " 1111\u200d 1111 1111"
IBAN = "DE89 3704 0044 0532 0130 00"
SSN = "123-45-6789"
RAW_NUMBERS = ["4111111111111111", "4111 1111 1111 1111", "DE89370400440532013000",
               "3704 0044 0532", "0532 0130"]


def _refused(client, msg_id):
    err = client.wait_for(lambda e: e.tag == q("message") and e.get("id") == msg_id
                          and e.get("type") == "error")
    return stanza_error(err)[1:]


def test_card_numbers_are_refused_with_the_reason(server):
    with RawClient(server) as alice, RawClient(server) as bob:
        alice.login("alice", resource="dlp")
        bob.login("bob", resource="dlp")
        for msg_id, body in (("card1", f"my card is {CARD}, exp 12/29"),
                             ("card2", f"try this one {EVASIVE_CARD}")):
            alice.message(bob.jid, body, msg_id=msg_id)
            condition, text = _refused(alice, msg_id)
            assert condition == "policy-violation"
            assert "§3 Confidentiality" in text and "payment card number" in text
        alice.message(bob.jid, "the order number is 4111111111111112", msg_id="fine1")
        got = bob.wait_message("the order number is 4111111111111112", timeout=5)
        assert got.get("id") == "fine1"
        assert not [e for e in bob.pending if e.get("id") in ("card1", "card2")]
    events = server.wait_events(lambda r: r["kind"] == "dlp.payment_cards", "--module", "dlp",
                                count=2)
    assert len(events) >= 2
    assert all(e["action"] == "blocked" for e in events)
    assert any("**** **** **** 1111" in str(e) for e in events)


def test_an_iban_is_delivered_masked_and_the_sender_told(server):
    with RawClient(server) as alice, RawClient(server) as bob:
        alice.login("alice", resource="iban")
        bob.login("bob", resource="iban")
        alice.message(bob.jid, f"please pay to {IBAN} today", msg_id="iban1")
        got = bob.wait_message(timeout=5)
        assert got.get("id") == "iban1"
        body = got.find(q("body")).text
        assert body == "please pay to de89 **** **** **** **30 00 today"
        notice = alice.wait_for(lambda e: e.tag == q("message") and e.get("type") == "headline")
        assert "masked" in notice.find(q("body")).text
    events = server.wait_events(lambda r: r["kind"] == "dlp.iban", "--module", "dlp")
    assert events and events[0]["action"] == "redacted"


def test_a_social_security_number_is_flagged_and_delivered(server):
    with RawClient(server) as alice, RawClient(server) as bob:
        alice.login("alice", resource="ssn")
        bob.login("bob", resource="ssn")
        alice.message(bob.jid, f"her ssn is {SSN}", msg_id="ssn1")
        got = bob.wait_message(f"her ssn is {SSN}", timeout=5)
        assert got.get("id") == "ssn1"
    events = server.wait_events(lambda r: r["kind"] == "dlp.ssn", "--module", "dlp")
    assert events and events[0]["action"] == "flagged"
    assert "6789" in str(events[0]) and SSN not in str(events[0])


def test_no_raw_number_is_stored_or_logged(server):
    # After the tests above (pytest runs a module's tests in order): what the database and the
    # log hold must not contain the blocked or redacted numbers in clear.
    conninfo = re.search(r'conninfo: "([^"]+)"', server.config.read_text()).group(1)
    pg_dump = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"))[-1]
    dump = subprocess.run([pg_dump, "--data-only", "-d", conninfo], capture_output=True,
                          text=True, check=True).stdout
    assert "dlp.payment_cards" in dump  # the events are there...
    log = server.log()
    for raw in RAW_NUMBERS:
        assert raw not in dump, raw  # ...but not the numbers
        assert raw not in log, raw
