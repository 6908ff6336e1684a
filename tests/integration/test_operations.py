"""Operational behaviour: login throttling (XEP-0205) and configuration reload on SIGHUP.
Its own module, hence its own parleyd: the throttle it trips must not slow other tests."""

import signal
import time

import pytest

from xmpp_helpers import AuthFailed, RawClient


def _attempt(server, user, password):
    with RawClient(server) as c:
        c.open_stream()
        c.starttls()
        try:
            c.authenticate(user, password)
            return "success"
        except AuthFailed as e:
            return e.condition


def test_repeated_failures_from_one_address_are_throttled(server):
    # The default allows 5 failures per address within the window, then backs off.
    results = [_attempt(server, "frank", "wrong") for _ in range(5)]
    assert results == ["not-authorized"] * 5
    # Now even the right password from this address waits out the backoff, with a text that
    # says for how long.
    with RawClient(server) as c:
        c.open_stream()
        c.starttls()
        with pytest.raises(AuthFailed) as e:
            c.authenticate("frank", server.password("frank"))
        assert e.value.condition == "temporary-auth-failure"
        assert "try again in" in "".join(e.value.element.itertext())


def test_sighup_reloads_and_keeps_serving(server):
    server.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while "reload done" not in server.log():
        assert time.monotonic() < deadline, "parleyd did not report the reload"
        time.sleep(0.1)
    assert server.proc.poll() is None
    # A broken configuration on reload is refused and the running one kept.
    good = server.config.read_text()
    try:
        server.config.write_text(good + "\nno_such_key: 1\n")
        server.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "reload failed" not in server.log():
            assert time.monotonic() < deadline, "parleyd did not report the failed reload"
            time.sleep(0.1)
    finally:
        server.config.write_text(good)
    assert server.proc.poll() is None
    assert "parley.yaml" in server.log().split("reload failed", 1)[1].splitlines()[0]
