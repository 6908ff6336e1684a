"""The notice module with require_ack (IM policy §7 Privacy) in a live parleyd: a user who has
not acknowledged the current policy version is asked to at every login (a type='normal' notice
ending in "reply to this message with: I agree"), may only talk to the acknowledgement service
(the domain) until then — everything else addressed to another JID is refused with
<policy-violation/> naming the clause, never delivered, and recorded as an event — while the
client keeps working (roster, disco, ping, own vCard, own presence). Replying "I agree" (or
sending <acknowledge/>) is stored in PostgreSQL per account, thanked, recorded, survives a
restart and unblocks every session of the account; a new policy_version makes everybody
acknowledge again; monitor_only turns refusals into would_block events; require_ack without a
policy_version is refused on reload.

Tests share one server, so each one that acknowledges uses an account of its own: alice (reply),
ada (a loosely typed reply), carol (the <acknowledge/> element), dave (slixmpp), erin (restart)
and bob (new policy version). frank never acknowledges 2026-11; the tests that need an
unacknowledged sender use him. Recipients need no acknowledgement: receiving is never refused.
"""

import asyncio
import contextlib
import re
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

from xmpp_helpers import (
    DOMAIN, NS_DISCO_INFO, NS_PING, NS_ROSTER, NS_VCARD, RawClient, bare, q, run, slix_login,
    slixmpp, stanza_error,
)

VERSION = "2026-11"
NEXT_VERSION = "2027-01"
NS_NOTICE = "urn:parley:notice:0"
CLAUSE = "§7 Privacy"
REFUSAL_PREFIX = f"Blocked by the IM policy ({CLAUSE}): "
DEFAULT_TEXT = (
    "This instant messaging service is company property. Messages are monitored, archived and "
    "may be disclosed to auditors and courts (IM policy §7)."
)
PROMPT = "To confirm that you have read this notice, reply to this message with: I agree"

# No modules.dir: notice.so is built into the default module directory (<build>/modules);
# PARLEY_TEST_MODULE_DIR holds only the test-only probe modules.
SERVER_EXTRA_YAML = f"""
modules:
  notice:
    policy_version: "{VERSION}"
    require_ack: true
"""


# ---------------------------------------------------------------------------------------------
# Helpers


def _notice(client, timeout=10):
    """The notice message this session received at login (type normal or headline)."""
    return client.wait_for(
        lambda e: e.tag == q("message") and e.find(q("notice", NS_NOTICE)) is not None, timeout)


def _session(client, user, resource):
    """Logs in with initial presence; returns the notice the session got."""
    client.login(user, resource=resource)
    return _notice(client)


def _assert_asks_for_acknowledgement(notice, version=VERSION):
    element = notice.find(q("notice", NS_NOTICE))
    assert notice.get("type") == "normal", ET.tostring(notice)
    assert (element.get("version"), element.get("ack")) == (version, "required"), \
        ET.tostring(notice)
    assert notice.findtext(q("body")).endswith("\n\n" + PROMPT), notice.findtext(q("body"))


def _assert_plain_notice(notice):
    element = notice.find(q("notice", NS_NOTICE))
    assert notice.get("type") == "headline", ET.tostring(notice)
    assert element.get("version") == VERSION and element.get("ack") is None, ET.tostring(notice)
    body = notice.findtext(q("body"))
    assert body == DEFAULT_TEXT, body  # no prompt


def _service_answer(client, msg_id, timeout=10):
    """The acknowledgement service's chat reply to message `msg_id` (an error fails)."""
    reply = client.wait_for(
        lambda e: e.tag == q("message") and (
            (e.get("id") == msg_id and e.get("type") == "error")
            or (bare(e.get("from", "")) == DOMAIN and e.get("type") == "chat")),
        timeout)
    assert reply.get("type") == "chat", f"the service refused it: {stanza_error(reply)}"
    return reply


def _acknowledge(client, body="I agree", to=DOMAIN, type_="chat"):
    """Replies to the notice; returns the service's answer after checking it is the thanks."""
    reply = _service_answer(client, client.message(to, body, type_=type_))
    assert reply.findtext(q("body"), "").startswith("Thank you"), reply.findtext(q("body"))
    return reply


def _assert_refused(client, stanza_id, version=VERSION, timeout=10):
    """The stanza `stanza_id` came back as the notice module's policy-violation."""
    try:
        err = client.wait_for(lambda e: e.get("id") == stanza_id, timeout)
    except TimeoutError:
        raise AssertionError(f"nothing came back for {stanza_id}: it was not refused") from None
    assert err.get("type") == "error", f"{stanza_id} was not refused: {ET.tostring(err)!r}"
    err_type, condition, text = stanza_error(err)
    assert (err_type, condition) == ("cancel", "policy-violation"), (err_type, condition, text)
    assert text.startswith(REFUSAL_PREFIX), text
    assert version in text and "I agree" in text, text


def _acknowledged_versions(server, user):
    """The policy versions PostgreSQL holds an acknowledgement of for `user`'s account."""
    conninfo = re.search(r'^\s*conninfo: "(.*)"$', server.config.read_text(), re.M).group(1)
    sql = ("SELECT policy_version FROM policy_acknowledgements "
           f"WHERE account = '{server.jid(user)}' AND acknowledged_at IS NOT NULL ORDER BY 1")
    res = subprocess.run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-c", sql],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    return res.stdout.split()


def _acknowledged_events(server, jid):
    """The notice.acknowledged events of session `jid`."""
    return server.wait_events(
        lambda r: r["kind"] == "notice.acknowledged" and r["actor"] == jid, "--module", "notice")


@contextlib.contextmanager
def _notice_config(server, old, new):
    """Runs the block with `old` replaced by `new` in the configuration (notice reloaded), then
    puts the configuration back and reloads again."""
    good = server.config.read_text()
    assert good.count(old) == 1, old
    server.config.write_text(good.replace(old, new))
    try:
        server.ctl("module", "reload", "notice")
        yield
    finally:
        server.config.write_text(good)
        server.ctl("module", "reload", "notice")


# ---------------------------------------------------------------------------------------------
# Before acknowledging


def test_an_unacknowledged_user_is_asked_to_acknowledge_at_login(server):
    with RawClient(server) as frank:
        notice = _session(frank, "frank", "prompt")
        assert notice.get("from") == DOMAIN and notice.get("to") == frank.jid
        assert notice.findtext(q("subject"))
        _assert_asks_for_acknowledgement(notice)
        assert notice.findtext(q("body")) == DEFAULT_TEXT + "\n\n" + PROMPT


def test_messages_to_anyone_else_are_refused_and_never_delivered(server):
    with RawClient(server) as frank, RawClient(server) as alice:
        _session(frank, "frank", "msg")
        alice.login("alice", resource="msg-recipient")
        ids = [
            frank.message(server.jid("alice"), "to alice's bare JID", msg_id="blk-bare"),
            frank.message(alice.jid, "to alice's session", type_="normal", msg_id="blk-full"),
            frank.message(server.jid("frank"), "a note to myself", msg_id="blk-self"),
        ]
        for stanza_id in ids:
            _assert_refused(frank, stanza_id)
        alice.drain(0.5)
        assert not [e for e in alice.pending if e.get("id") in ids]


def test_directed_presence_subscriptions_and_iqs_to_others_are_refused(server):
    with RawClient(server) as frank, RawClient(server) as alice:
        _session(frank, "frank", "others")
        alice.login("alice", resource="others-recipient")
        frank.send(f"<presence to='{alice.jid}' id='blk-directed'/>")
        _assert_refused(frank, "blk-directed")
        frank.send(f"<presence to='{server.jid('alice')}' type='subscribe' id='blk-subscribe'/>")
        _assert_refused(frank, "blk-subscribe")
        frank.send(f"<iq type='get' id='blk-iq-get' to='{alice.jid}'>"
                   f"<ping xmlns='{NS_PING}'/></iq>")
        _assert_refused(frank, "blk-iq-get")
        frank.send(f"<iq type='set' id='blk-iq-set' to='{alice.jid}'>"
                   "<query xmlns='urn:example:anything'/></iq>")
        _assert_refused(frank, "blk-iq-set")
        alice.drain(0.5)
        leaked = [e for e in alice.pending
                  if e.get("id", "").startswith("blk-")
                  or (e.tag == q("presence") and e.get("type") == "subscribe")]
        assert not leaked, [ET.tostring(e) for e in leaked]


def test_the_client_keeps_working_before_acknowledging(server):
    with RawClient(server) as frank:
        # Initial presence without 'to' is echoed (login waits for it): own availability works.
        _session(frank, "frank", "allowed")
        for to, payload in (
            (None, f"<query xmlns='{NS_ROSTER}'/>"),
            (DOMAIN, f"<query xmlns='{NS_DISCO_INFO}'/>"),
            (DOMAIN, f"<ping xmlns='{NS_PING}'/>"),
            (server.jid("frank"), f"<vCard xmlns='{NS_VCARD}'/>"),
        ):
            reply = frank.iq("get", payload, to=to, timeout=10)
            assert reply.get("type") == "result", (to, payload, stanza_error(reply))


def test_each_refusal_is_recorded_as_a_compliance_event(server):
    with RawClient(server) as frank:
        _session(frank, "frank", "events")
        alice = server.jid("alice")
        frank.message(alice, "recorded, not delivered", msg_id="ev-msg")
        frank.send(f"<presence to='{alice}' type='subscribe' id='ev-sub'/>")
        frank.send(f"<iq type='get' id='ev-iq' to='{alice}/elsewhere'>"
                   f"<ping xmlns='{NS_PING}'/></iq>")
        ids = ["ev-msg", "ev-sub", "ev-iq"]
        for stanza_id in ids:
            _assert_refused(frank, stanza_id)
    rows = server.wait_events(lambda r: r["stanza_id"] in ids, "--module", "notice", count=3)
    assert sorted(r["stanza_id"] for r in rows) == sorted(ids), rows
    for row in rows:
        assert row["kind"] == "notice.unacknowledged", row
        assert row["action"] == "blocked", row
        assert row["actor"] == frank.jid, row
        assert row["clause"] == CLAUSE, row


def test_anything_else_sent_to_the_service_explains_how_to_acknowledge(server):
    with RawClient(server) as frank:
        _session(frank, "frank", "explain")
        for text in ("hello?", "I agree with bob"):
            reply = _service_answer(frank, frank.message(DOMAIN, text))
            body = reply.findtext(q("body"), "")
            assert "with: I agree" in body, body  # how: "... reply to this message with: I agree"
            assert not body.startswith("Thank you"), body
        assert _acknowledged_versions(server, "frank") == []
        _assert_refused(frank, frank.message(server.jid("bob"), "still refused"))


# ---------------------------------------------------------------------------------------------
# Acknowledging


def test_replying_i_agree_records_the_acknowledgement_and_unblocks_the_account(server):
    with RawClient(server) as alice, RawClient(server) as bob:
        _assert_asks_for_acknowledgement(_session(alice, "alice", "first"))
        bob.login("bob", resource="ack-recipient")
        thanks = _acknowledge(alice)
        assert thanks.get("from") == DOMAIN and bare(thanks.get("to", "")) == server.jid("alice")
        assert _acknowledged_versions(server, "alice") == [VERSION]
        rows = _acknowledged_events(server, alice.jid)
        assert len(rows) == 1, rows
        assert (rows[0]["action"], rows[0]["clause"]) == ("allowed", CLAUSE), rows
        assert rows[0]["detail"]["policy_version"] == VERSION, rows
        assert rows[0]["detail"]["via"] == "reply", rows

        alice.message(server.jid("bob"), "acknowledged, so delivered", msg_id="ack-1")
        assert bob.wait_message("acknowledged, so delivered", timeout=5).get("id") == "ack-1"

        # The acknowledgement is the account's: a later session gets the plain notice and sends.
        with RawClient(server) as second:
            _assert_plain_notice(_session(second, "alice", "second"))
            second.message(server.jid("bob"), "from the second session")
            bob.wait_message("from the second session", timeout=5)


def test_the_phrase_is_matched_without_regard_to_case_spaces_or_a_final_stop(server):
    with RawClient(server) as ada, RawClient(server) as bob:
        _assert_asks_for_acknowledgement(_session(ada, "ada", "loose"))
        bob.login("bob", resource="loose-recipient")
        # To the domain with a resource, type normal, in lower and upper case, with a '!'.
        _acknowledge(ada, "  i AGREE!  ", to=f"{DOMAIN}/acknowledgement", type_="normal")
        assert _acknowledged_versions(server, "ada") == [VERSION]
        ada.message(server.jid("bob"), "ada may write now")
        bob.wait_message("ada may write now", timeout=5)


def test_the_acknowledge_element_works_and_a_wrong_version_is_not_acceptable(server):
    with RawClient(server) as carol, RawClient(server) as frank:
        _assert_asks_for_acknowledgement(_session(carol, "carol", "element"))
        frank.login("frank", resource="iq-answerer")

        carol.send(f"<message to='{DOMAIN}' type='chat' id='ack-old'>"
                   f"<acknowledge xmlns='{NS_NOTICE}' version='2025-01'/></message>")
        err = carol.wait_for(lambda e: e.get("id") == "ack-old", timeout=10)
        assert err.get("type") == "error", ET.tostring(err)
        _type, condition, text = stanza_error(err)
        assert condition == "not-acceptable", (condition, text)
        assert VERSION in (text or ""), text
        assert _acknowledged_versions(server, "carol") == []

        carol.send(f"<message to='{DOMAIN}' type='chat' id='ack-element'>"
                   f"<acknowledge xmlns='{NS_NOTICE}' version='{VERSION}'/></message>")
        thanks = _service_answer(carol, "ack-element")
        assert thanks.findtext(q("body"), "").startswith("Thank you")
        rows = _acknowledged_events(server, carol.jid)
        assert [r["detail"]["via"] for r in rows] == ["element"], rows

        # Now carol may reach frank's session; frank, who has not acknowledged, may still
        # answer (an iq result is never refused).
        carol.send(f"<iq type='get' id='ping-frank' to='{frank.jid}'>"
                   f"<ping xmlns='{NS_PING}'/></iq>")
        frank.wait_for(lambda e: e.tag == q("iq") and e.get("id") == "ping-frank", timeout=5)
        frank.send(f"<iq type='result' id='ping-frank' to='{carol.jid}'/>")
        pong = carol.wait_for(lambda e: e.tag == q("iq") and e.get("id") == "ping-frank",
                              timeout=5)
        assert pong.get("type") == "result", stanza_error(pong)


def test_a_slixmpp_client_acknowledges_by_replying_and_then_chats(server):
    if slixmpp is None:
        pytest.fail("python3-slixmpp is not installed (deploy/install-deps installs it)")

    async def next_matching(client, predicate, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            msg = await client.next_message(timeout=deadline - time.monotonic())
            if predicate(msg):
                return msg

    with RawClient(server) as frank:
        frank.login("frank", resource="slix-peer")

        async def body():
            # slix_login fetches the roster and pings the domain: both allowed before acking.
            dave = await slix_login(server, "dave", resource="slix")
            try:
                notice = await next_matching(
                    dave, lambda m: m.xml.find(q("notice", NS_NOTICE)) is not None)
                assert notice["type"] == "normal"
                assert notice["body"].endswith(PROMPT), notice["body"]
                dave.send_message(mto=DOMAIN, mbody="I agree", mtype="chat")
                thanks = await next_matching(dave, lambda m: m["from"].bare == DOMAIN)
                assert thanks["type"] == "chat", thanks
                assert thanks["body"].startswith("Thank you"), thanks["body"]
                dave.send_message(mto=server.jid("frank"), mbody="hello from slixmpp",
                                  mtype="chat")
                got = await asyncio.to_thread(frank.wait_message, "hello from slixmpp", 10)
                assert got.get("from") == f"dave@{DOMAIN}/slix"
            finally:
                await dave.close()

        run(body(), timeout=60)


def test_acknowledgements_survive_a_restart(server):
    with RawClient(server) as erin:
        _session(erin, "erin", "before")
        _acknowledge(erin)
    server.restart()
    with RawClient(server) as erin, RawClient(server) as bob:
        _assert_plain_notice(_session(erin, "erin", "after"))
        bob.login("bob", resource="restart-recipient")
        erin.message(server.jid("bob"), "still acknowledged after the restart")
        bob.wait_message("still acknowledged after the restart", timeout=5)


# ---------------------------------------------------------------------------------------------
# Configuration


def test_a_new_policy_version_must_be_acknowledged_again(server):
    with RawClient(server) as bob, RawClient(server) as frank:
        _session(bob, "bob", "version")
        _acknowledge(bob)
        frank.login("frank", resource="version-recipient")
        bob.message(server.jid("frank"), "under 2026-11")
        frank.wait_message("under 2026-11", timeout=5)

        with _notice_config(server, f'policy_version: "{VERSION}"',
                            f'policy_version: "{NEXT_VERSION}"'):
            # Still connected, but no longer acknowledged.
            _assert_refused(bob, bob.message(server.jid("frank"), "under 2027-01"),
                            version=NEXT_VERSION)
            assert bob.iq("get", f"<ping xmlns='{NS_PING}'/>").get("type") == "result"
            with RawClient(server) as again:
                _assert_asks_for_acknowledgement(_session(again, "bob", "again"),
                                                 version=NEXT_VERSION)
                _acknowledge(again)
                rows = _acknowledged_events(server, again.jid)
                assert [r["detail"]["policy_version"] for r in rows] == [NEXT_VERSION], rows
                again.message(server.jid("frank"), "2027-01 acknowledged")
                frank.wait_message("2027-01 acknowledged", timeout=5)
            assert _acknowledged_versions(server, "bob") == [VERSION, NEXT_VERSION]

        # Back on 2026-11, which bob acknowledged before: the first session sends again.
        bob.message(server.jid("frank"), "back under 2026-11")
        frank.wait_message("back under 2026-11", timeout=5)


def test_monitor_only_records_would_block_and_delivers(server):
    with _notice_config(server, "  notice:\n", "  notice:\n    monitor_only: true\n"):
        with RawClient(server) as frank, RawClient(server) as alice:
            _session(frank, "frank", "monitored")
            alice.login("alice", resource="monitored-recipient")
            frank.message(server.jid("alice"), "only monitored", msg_id="mon-1")
            assert alice.wait_message("only monitored", timeout=5).get("id") == "mon-1"
        rows = server.wait_events(lambda r: r["stanza_id"] == "mon-1", "--module", "notice")
        assert [(r["kind"], r["action"], r["actor"]) for r in rows] == \
            [("notice.unacknowledged", "would_block", frank.jid)], rows
    # Enforcing again once monitor_only is gone.
    with RawClient(server) as frank:
        _session(frank, "frank", "enforced")
        _assert_refused(frank, frank.message(server.jid("alice"), "refused again"))


def test_require_ack_without_a_policy_version_is_refused_on_reload(server):
    good = server.config.read_text()
    broken = good.replace(f'    policy_version: "{VERSION}"\n', "")
    assert broken != good
    try:
        server.config.write_text(broken)
        res = server.ctl("module", "reload", "notice", check=False)
        out = res.stdout + res.stderr
        assert res.returncode != 0, out
        assert "modules.notice.require_ack" in out or "policy_version" in out, out
        # The running module is unchanged: still asking, still refusing.
        with RawClient(server) as frank:
            _assert_asks_for_acknowledgement(_session(frank, "frank", "after-bad-reload"))
            _assert_refused(frank, frank.message(server.jid("alice"), "still refused"))
    finally:
        server.config.write_text(good)
        server.ctl("module", "reload", "notice")
