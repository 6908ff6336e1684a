"""Fault injection: the compliance record survives PostgreSQL crashing under traffic and parleyd
being killed with SIGKILL. Events go to the fsync'd spool while PostgreSQL is away and are
replayed when it is back; the table ends up with every acknowledged event exactly once.

This file runs its own PostgreSQL cluster (PRIVATE_POSTGRES) because it crashes it."""

import collections
import json
import threading
import time

from xmpp_helpers import AuthFailed, RawClient, StreamClosed, stanza_error

PRIVATE_POSTGRES = True
SERVER_EXTRA_YAML = """
modules:
  e2ee:
    enabled: true
"""

OMEMO = (
    "<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='1'>"
    "<key rid='2'>a2V5</key><iv>aXY=</iv></header><payload>cA==</payload></encrypted>"
)


def _status(server):
    return json.loads(server.ctl("events", "status", "--json").stdout)


def _wait_status(server, predicate, what, timeout=60):
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        res = server.ctl("events", "status", "--json", check=False)
        if res.returncode == 0:
            status = json.loads(res.stdout)
            if predicate(status):
                return status
        time.sleep(0.2)
    raise AssertionError(f"event pipeline never reached: {what}; last status {status}")


def _settled(status):
    return (status["database_connected"] and status["queue_depth"] == 0
            and status["spool_bytes"] == 0)


def _send_refused(sender, to, ids):
    for msg_id in ids:
        sender.send(f"<message to='{to}' type='chat' id='{msg_id}'>{OMEMO}</message>")


def _collect_refusals(client, ids, timeout=20):
    wanted = set(ids)
    deadline = time.monotonic() + timeout
    got = set()
    while got != wanted and time.monotonic() < deadline:
        got = {e.get("id") for e in client.drain(0.2)
               if e.get("type") == "error" and e.get("id") in wanted}
    assert got == wanted, f"{len(wanted - got)} refusals missing"
    return got


def _event_counts(server, prefix):
    ids = (row["stanza_id"] for row in server.events("--module", "e2ee"))
    return collections.Counter(i for i in ids if i.startswith(prefix))


class Sender(threading.Thread):
    """Sends refused messages until stopped (or the connection dies under it)."""

    def __init__(self, client, to, prefix):
        super().__init__()
        self.client, self.to, self.prefix = client, to, prefix
        self.sent = []
        self.stopping = threading.Event()

    def run(self):
        n = 0
        while not self.stopping.is_set():
            msg_id = f"{self.prefix}{n}"
            try:
                _send_refused(self.client, self.to, [msg_id])
            except (OSError, StreamClosed):
                return
            self.sent.append(msg_id)
            n += 1
            time.sleep(0.01)

    def stop(self):
        self.stopping.set()
        self.join()


def test_postgresql_crash_under_traffic_loses_and_duplicates_no_event(server):
    with RawClient(server) as alice, RawClient(server) as bob:
        alice.login("alice", resource="pgcrash")
        bob.login("bob", resource="pgcrash")
        before = [f"pg-before-{i}" for i in range(20)]
        _send_refused(alice, bob.jid, before)
        _collect_refusals(alice, before)
        _wait_status(server, _settled, "events written")

        sender = Sender(alice, bob.jid, "pg-during-")
        sender.start()
        try:
            time.sleep(0.3)
            server.postgres.crash()
            time.sleep(2.5)  # traffic goes on; the writer finds PostgreSQL gone and spools
            spooling = _status(server)
            server.postgres.start()
            time.sleep(0.5)
        finally:
            sender.stop()
        after = [f"pg-after-{i}" for i in range(20)]
        _send_refused(alice, bob.jid, after)
        refused = _collect_refusals(alice, before + sender.sent + after)
        assert not spooling["database_connected"]
        # Both users stayed connected throughout.
        assert alice.iq("get", "<ping xmlns='urn:xmpp:ping'/>").get("type") == "result"
        assert bob.iq("get", "<ping xmlns='urn:xmpp:ping'/>").get("type") == "result"

    status = _wait_status(server, _settled, "spool replayed after PostgreSQL came back")
    assert status["spooled"] > 0, "the outage never reached the spool"
    assert status["replayed"] >= status["spooled"]
    counts = _event_counts(server, "pg-")
    assert set(counts) == refused, (len(counts), len(refused))
    assert set(counts.values()) == {1}, [i for i, n in counts.items() if n > 1][:5]


def test_login_while_postgresql_is_down_is_a_temporary_failure(server):
    server.postgres.crash()
    try:
        with RawClient(server) as carol:
            carol.open_stream()
            carol.starttls()
            try:
                carol.authenticate("carol", server.password("carol"))
            except AuthFailed as failed:
                assert failed.condition == "temporary-auth-failure"
                text = failed.element.findtext(
                    "{urn:ietf:params:xml:ns:xmpp-sasl}text") or ""
                assert "try again" in text
            else:
                raise AssertionError("a login succeeded although the accounts are unreachable")
    finally:
        server.postgres.start()
    _wait_status(server, lambda s: s["database_connected"], "reconnected")
    with RawClient(server) as carol:
        carol.login("carol", resource="after-outage")  # and the client's retry works


def test_sigkill_loses_no_acknowledged_event(server):
    with RawClient(server) as alice, RawClient(server) as bob:
        alice.login("alice", resource="kill9")
        bob.login("bob", resource="kill9")
        server.postgres.crash()
        try:
            base = _status(server)["spooled"]
            acked = [f"kill-acked-{i}" for i in range(40)]
            _send_refused(alice, bob.jid, acked)
            _collect_refusals(alice, acked)
            # Acknowledged: out of the memory queue and fsync'd to the spool.
            _wait_status(server, lambda s: s["queue_depth"] == 0 and s["spooled"] >= base + 40,
                         "40 events spooled")
            sender = Sender(alice, bob.jid, "kill-inflight-")
            sender.start()
            time.sleep(0.3)
            server.kill()  # mid-traffic: some events only in memory, maybe a torn spool record
            sender.stop()
            inflight = set(sender.sent)
        finally:
            server.postgres.start()
    server.start()
    _wait_status(server, _settled, "spool replayed after the restart")
    assert "replayed" in server.log().rsplit("starting with", 1)[1]
    counts = _event_counts(server, "kill-")
    assert {i for i in counts if i.startswith("kill-acked-")} == set(acked)
    assert set(counts.values()) == {1}, [i for i, n in counts.items() if n > 1][:5]
    assert {i for i in counts if i.startswith("kill-inflight-")} <= inflight


def test_when_even_the_spool_fails_no_traffic_is_accepted(server):
    """Last in this file: it leaves the server refusing traffic until restarted."""
    server.restart()  # a fresh spool with no segment open yet
    spool = server.workdir / "spool"
    blockers = []
    with RawClient(server) as alice, RawClient(server) as bob:
        alice.login("alice", resource="spoolfail")
        bob.login("bob", resource="spoolfail")
        server.postgres.crash()
        try:
            # Occupy every segment name the spool could create next: appending fails as on a
            # full or broken disk.
            for n in range(1, 3001):
                path = spool / f"events-{n:010d}.spool"
                if not path.exists():
                    path.write_bytes(b"\0")
                    blockers.append(path)
            _send_refused(alice, bob.jid, ["spoolfail-1"])
            _collect_refusals(alice, ["spoolfail-1"])
            deadline = time.monotonic() + 20
            while "refusing all traffic" not in server.log():
                assert time.monotonic() < deadline, "the spool failure was never noticed"
                time.sleep(0.2)
            # Existing sessions: nothing is accepted any more, and the sender is told why.
            alice.message(bob.jid, "not recorded, not delivered", msg_id="after-fatal")
            err = alice.wait_for(lambda e: e.get("id") == "after-fatal"
                                 and e.get("type") == "error")
            err_type, condition, text = stanza_error(err)
            assert (err_type, condition) == ("cancel", "internal-server-error")
            assert "cannot record" in text
            bob.drain(0.5)
            assert not [e for e in bob.pending if e.get("id") == "after-fatal"]
            # New connections are refused.
            try:
                with RawClient(server) as carol:
                    carol.login("carol", resource="late")
                refused = False
            except (OSError, StreamClosed, AssertionError):
                refused = True
            assert refused, "a new session was accepted while events cannot be recorded"
        finally:
            for path in blockers:
                path.unlink(missing_ok=True)
            server.postgres.start()
    # With the disk usable again the events kept in memory are written: a clean stop drains
    # them (the teardown checks the exit status), and the refusal is in the table.
    server.restart()
    _wait_status(server, _settled, "events written after the spool came back")
    assert _event_counts(server, "spoolfail-") == {"spoolfail-1": 1}
