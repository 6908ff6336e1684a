"""A client that stops reading its socket (limits.send_queue_bytes): its session is cut off
once its queue is over the limit, other sessions are not slowed meanwhile, and the messages it
never got are not lost (Router::redeliverUnsent: another resource, or offline storage).

The slow reader connects with a tiny SO_RCVBUF and never calls recv while another client floods
it. The flood is paced (one stanza every PACE seconds, well within what the server writes on an
idle machine) so the queue only grows once the kernel's socket buffers are full and the writer
is really stuck; the server logs the overflow, which is how the test knows when to stop.

The bulk of the flood is large headline messages, which are never stored offline or redelivered
(RFC 6121 8.5.2.1.1); every FILL_PER_TRACKED of them comes a small chat message whose id the
tests track. So what is redelivered stays small, and redelivery is tested on its own; what a
large redelivered backlog does is the subject of its own test at the end."""

import time

import pytest

from xmpp_helpers import DOMAIN, NS_DELAY, NS_PING, RawClient, q, stanza_error

SEND_QUEUE_BYTES = 1048576
SERVER_LIMITS = {"send_queue_bytes": SEND_QUEUE_BYTES, "offline_max_messages": 10000}
FILL = "x" * 32000
PACE = 0.01
FILL_PER_TRACKED = 3
CHECK_EVERY = 8  # stanzas between two latency probes
MAX_FLOOD = 600  # 19 MB: far more than socket buffers plus the queue limit
LATE = 5  # tracked messages sent to the slow session after its queue overflowed
MAX_LATENCY = 1.0  # seconds, for a message or a ping of a well-behaved client during the flood
PING = f"<ping xmlns='{NS_PING}'/>"


class SessionNotGone(AssertionError):
    """The slow session is still there after the flush deadline."""


class LoginCutOff(AssertionError):
    """A healthy client was disconnected while receiving its backlog (a server bug)."""


def is_presence(from_, type_=None):
    return lambda e: (e.tag == q("presence") and e.get("from") == from_
                      and e.get("type") == type_)


def subscribe(server, watcher, owner):
    """Makes `watcher` subscribed to `owner`'s presence."""
    with RawClient(server) as w, RawClient(server) as o:
        w.login(watcher, resource="setup", roster=True)
        o.login(owner, resource="setup", roster=True)
        w.send(f"<presence to='{owner}@{DOMAIN}' type='subscribe'/>")
        o.wait_for(lambda e: e.tag == q("presence") and e.get("type") == "subscribe")
        o.send(f"<presence to='{watcher}@{DOMAIN}' type='subscribed'/>")
        w.wait_for(lambda e: e.tag == q("presence") and e.get("type") == "subscribed")


@pytest.fixture(scope="module")
def contacts(server):
    subscribe(server, "carol", "alice")
    subscribe(server, "carol", "frank")


def flood_until_overflow(server, flooder, target_jid, watcher, prefix):
    """Paced flood of target_jid until the server reports the overflow of its send queue.

    Every CHECK_EVERY stanzas the flooder sends the watcher a message and both ping the server;
    returns (ids of the tracked chat messages sent to target_jid, worst of those round trips)."""
    mark = len(server.log())
    needle = f"c2s {target_jid}: send queue over {SEND_QUEUE_BYTES} bytes"
    tracked, worst = [], 0.0
    for i in range(MAX_FLOOD):
        if i % (FILL_PER_TRACKED + 1) == FILL_PER_TRACKED:
            tracked.append(flooder.message(target_jid, f"tracked {i}", msg_id=f"{prefix}-{i}"))
        else:
            flooder.message(target_jid, FILL, type_="headline", msg_id=f"fill-{prefix}-{i}")
        time.sleep(PACE)
        if i % CHECK_EVERY != CHECK_EVERY - 1:
            continue
        body = f"tick {prefix}-{i}"
        started = time.monotonic()
        flooder.message(watcher.jid, body)
        watcher.wait_message(body, timeout=10)
        worst = max(worst, time.monotonic() - started)
        for c in (watcher, flooder):
            started = time.monotonic()
            reply = c.iq("get", PING, to=DOMAIN, timeout=10)
            assert reply.get("type") == "result"
            worst = max(worst, time.monotonic() - started)
        if needle in server.log()[mark:]:
            return tracked, worst
    pytest.fail(f"no send queue overflow for {target_jid} after {MAX_FLOOD} stanzas")


def tracked_ids(elements):
    return [e.get("id") for e in elements
            if e.tag == q("message") and not (e.get("id") or "").startswith("fill-")]


def read_until_closed(slow):
    """The slow reader finally reads: everything the server wrote, until it closes."""
    assert slow.wait_closed(timeout=30), "the server kept the connection open"
    got = tracked_ids(slow.pending)
    cond, text = slow.stream_error(timeout=1)
    return got, cond, text


def wait_session_cleaned_up(server, full_jid, timeout=15):
    """The session's cleanup (unavailable presence, redelivery) is done once it logs 'closed'."""
    needle = f"c2s {full_jid} from 127.0.0.1 closed"
    deadline = time.monotonic() + timeout
    while needle not in server.log():
        if time.monotonic() > deadline:
            pytest.fail(f"the server did not finish closing {full_jid} in {timeout} s")
        time.sleep(0.05)


def collect_messages(c, wanted, timeout=10):
    """Messages c receives until all ids in `wanted` came (or the timeout), repeats included,
    then whatever follows within 0.3 s (a duplicate)."""
    got = []

    def take():
        for e in [e for e in c.pending if e.tag == q("message")]:
            c.pending.remove(e)
            got.append(e)

    deadline = time.monotonic() + timeout
    while not set(wanted) <= {e.get("id") for e in got} and time.monotonic() < deadline:
        c.drain(0.2)
        take()
    c.drain(0.3)
    take()
    return got


def assert_each_once(sent, on_socket, elsewhere, where):
    """Every tracked id arrived exactly once: on the slow socket or `where`."""
    dup_socket = {i for i in on_socket if on_socket.count(i) > 1}
    dup_elsewhere = {i for i in elsewhere if elsewhere.count(i) > 1}
    lost = [i for i in sent if i not in on_socket and i not in elsewhere]
    both = sorted(set(on_socket) & set(elsewhere))
    assert not lost, f"{len(lost)} of {len(sent)} messages lost: {lost[:10]}"
    assert not dup_socket, f"delivered twice on the slow socket: {sorted(dup_socket)[:10]}"
    assert not dup_elsewhere, f"delivered twice {where}: {sorted(dup_elsewhere)[:10]}"
    assert not both, f"written to the slow socket and delivered again {where}: {both[:10]}"
    assert set(on_socket) | set(elsewhere) == set(sent), "unexpected messages"


def test_slow_reader_is_cut_off_without_slowing_others(server, contacts):
    with RawClient(server) as carol, RawClient(server) as bob, \
            RawClient(server, rcvbuf=4096) as slow:
        carol.login("carol", resource="watch", roster=True)
        slow.login("alice", resource="slow")
        carol.wait_for(is_presence(slow.jid))
        bob.login("bob", resource="flood")

        sent, worst = flood_until_overflow(server, bob, slow.jid, carol, "a")
        print(f"worst round trip during the flood: {worst:.3f} s")
        assert worst < MAX_LATENCY, f"a round trip took {worst:.2f} s during the flood"

        got, cond, text = read_until_closed(slow)
        assert cond == "policy-violation", (cond, text)
        assert got, "the slow reader got nothing at all before its queue overflowed"
        assert got == sent[:len(got)], "the slow socket got messages out of order"
        assert len(got) < len(sent), "everything reached the socket: no overflow?"

        # The session is gone: its contact sees it leave, its full JID no longer answers.
        carol.wait_for(is_presence(slow.jid, "unavailable"), timeout=10)
        reply = carol.iq("get", PING, to=slow.jid, timeout=10)
        assert reply.get("type") == "error"
        assert stanza_error(reply)[1] == "service-unavailable"


def test_unsent_messages_are_stored_offline(server):
    with RawClient(server) as carol, RawClient(server) as bob, \
            RawClient(server, rcvbuf=4096) as slow:
        carol.login("carol", resource="watch-dave")
        slow.login("dave", resource="slow")
        bob.login("bob", resource="flood-dave")

        sent, _ = flood_until_overflow(server, bob, slow.jid, carol, "d")
        # Routed to the session while it is closing: redelivered at once (offline here).
        late = [bob.message(slow.jid, f"late {n}", msg_id=f"d-late-{n}") for n in range(LATE)]
        bob.iq("get", PING, to=DOMAIN)  # the server has routed them

        got, cond, _ = read_until_closed(slow)
        assert cond == "policy-violation"
        # Some tracked messages were still queued when the queue overflowed: they are the ones
        # redeliverUnsent stores when the session ends.
        assert len(got) < len(sent), "nothing was left unsent: the test proves nothing"
        wait_session_cleaned_up(server, slow.jid)

    with RawClient(server) as again:
        again.login("dave", resource="back")
        offline = collect_messages(again, [i for i in sent + late if i not in got])
    assert all(e.find(q("delay", NS_DELAY)) is not None for e in offline), \
        "offline messages carry <delay/>"
    assert not set(late) & set(got), "messages sent after the overflow reached the slow socket"
    assert_each_once(sent + late, got, tracked_ids(offline), "from offline storage")


def test_unsent_messages_go_to_another_resource(server):
    with RawClient(server) as carol, RawClient(server) as bob, RawClient(server) as other, \
            RawClient(server, rcvbuf=4096) as slow:
        carol.login("carol", resource="watch-erin")
        other.login("erin", resource="other")
        slow.login("erin", resource="slow")
        bob.login("bob", resource="flood-erin")

        sent, _ = flood_until_overflow(server, bob, slow.jid, carol, "e")
        late = [bob.message(slow.jid, f"late {n}", msg_id=f"e-late-{n}") for n in range(LATE)]
        # These reach the other resource while the slow one still holds its connection.
        early = tracked_ids(collect_messages(other, late))
        assert set(late) <= set(early), f"late messages not redelivered: {early}"

        got, cond, _ = read_until_closed(slow)
        assert cond == "policy-violation"
        assert len(got) < len(sent), "nothing was left unsent: the test proves nothing"
        rest = tracked_ids(collect_messages(other, [i for i in sent if i not in got + early]))
        # Nothing went to offline storage instead.
        wait_session_cleaned_up(server, slow.jid)
    with RawClient(server) as again:
        again.login("erin", resource="back")
        stored = tracked_ids(again.drain(0.5))
    assert stored == [], f"stored offline although another resource was available: {stored}"
    assert_each_once(sent + late, got, early + rest, "to the other resource")


def test_slow_reader_that_never_reads_is_disconnected(server, contacts):
    with RawClient(server) as carol, RawClient(server) as bob, \
            RawClient(server, rcvbuf=4096) as slow:
        carol.login("carol", resource="watch-frank", roster=True)
        slow.login("frank", resource="slow")
        carol.wait_for(is_presence(slow.jid))
        bob.login("bob", resource="flood-frank")
        flood_until_overflow(server, bob, slow.jid, carol, "f")

        # The server gives a closing writer 5 s to flush; the client never reads.
        try:
            carol.wait_for(is_presence(slow.jid, "unavailable"), timeout=8)
        except TimeoutError:
            raise SessionNotGone(
                f"{slow.jid} still available 8 s after its queue overflowed") from None
        reply = carol.iq("get", PING, to=slow.jid, timeout=5)
        assert stanza_error(reply)[1] == "service-unavailable"


def test_offline_backlog_larger_than_the_send_queue_is_delivered(server):
    server.ctl("user", "add", f"grace@{DOMAIN}", "--password", "grace-Secret-7")
    server.accounts["grace"] = "grace-Secret-7"
    count = SEND_QUEUE_BYTES // len(FILL) + 8
    with RawClient(server) as bob:
        bob.login("bob", resource="backlog")
        sent = [bob.message(f"grace@{DOMAIN}", FILL, msg_id=f"g-{n}") for n in range(count)]
        bob.iq("get", PING, to=DOMAIN)  # all stored offline by now
    outcomes = []
    for attempt in (1, 2):
        resource = f"try{attempt}"
        with RawClient(server) as grace:
            try:
                grace.login("grace", resource=resource)
                got = [e.get("id") for e in collect_messages(grace, sent)]
                outcomes.append(f"login {attempt}: got {len(set(got) & set(sent))} of {count}")
                continue
            except Exception as e:  # noqa: BLE001 - StreamClosed, or a timeout after it
                cond = None
                try:
                    cond, _ = grace.stream_error(timeout=1)
                except Exception:  # noqa: BLE001
                    pass
                outcomes.append(f"login {attempt}: cut off with <{cond}/> ({type(e).__name__})")
        # The failed session's unsent messages are stored back before the next attempt.
        wait_session_cleaned_up(server, f"grace@{DOMAIN}/{resource}")
    if any("cut off" in o for o in outcomes):
        raise LoginCutOff(f"{count} messages ({count * len(FILL)} bytes) waiting: "
                          + "; ".join(outcomes))
    assert outcomes[0] == f"login 1: got {count} of {count}", outcomes
