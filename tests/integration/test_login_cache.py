"""parleyd keeps SCRAM credentials of recent logins in memory; a change made with parleyctl
(another process, straight into PostgreSQL) must take effect at the very next login."""

import time

import pytest

from xmpp_helpers import DOMAIN, AuthFailed, RawClient


def _login(server, user, password, mechanism="SCRAM-SHA-256"):
    with RawClient(server) as c:
        c.open_stream()
        c.starttls()
        try:
            c.authenticate(user, password, mechanism)
            return "success"
        except AuthFailed as e:
            return e.condition


def _wait_cache_on(server):
    deadline = time.monotonic() + 10
    while "login cache on" not in server.log():
        assert time.monotonic() < deadline, "parleyd never reported listening for changes"
        time.sleep(0.1)


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-1"])
def test_password_change_and_disable_apply_at_the_next_login(server, mechanism):
    _wait_cache_on(server)
    user = "dave" if mechanism == "SCRAM-SHA-256" else "erin"
    jid = f"{user}@{DOMAIN}"
    old = server.password(user)
    assert _login(server, user, old, mechanism) == "success"
    assert _login(server, user, old, mechanism) == "success"  # now served from the cache

    server.ctl("user", "passwd", jid, "--password", "brand-New-pw-9")
    assert _login(server, user, old, mechanism) == "not-authorized"
    assert _login(server, user, "brand-New-pw-9", mechanism) == "success"

    server.ctl("user", "disable", jid)
    assert _login(server, user, "brand-New-pw-9", mechanism) == "account-disabled"
    server.ctl("user", "enable", jid)
    assert _login(server, user, "brand-New-pw-9", mechanism) == "success"

    server.ctl("user", "del", jid)
    assert _login(server, user, "brand-New-pw-9", mechanism) == "not-authorized"
