"""SCRAM-SHA-256-PLUS and SCRAM-SHA-1-PLUS with tls-exporter channel binding (RFC 9266), through
tests/integration/scram_plus_client.c: Python's ssl module cannot export keying material."""

import os
import subprocess

import pytest

from xmpp_helpers import DOMAIN


def run_client(server, *args, user="alice"):
    exe = os.environ.get("SCRAM_PLUS_CLIENT")
    if not exe or not os.access(exe, os.X_OK):
        pytest.fail("SCRAM_PLUS_CLIENT does not name the built scram_plus_client "
                    "(run through ctest)")
    res = subprocess.run(
        [exe, "--port", str(server.c2s_port), "--user", user, "--password", server.password(user),
         "--domain", DOMAIN, "--timeout", "20", *args],
        capture_output=True, text=True, timeout=60,
    )
    lines = {}
    for line in res.stdout.splitlines():
        key, _, value = line.partition(" ")
        lines[key] = value
    return res, lines


def describe(res):
    return f"exit {res.returncode}\nstdout:\n{res.stdout}\nstderr:\n{res.stderr}"


@pytest.mark.parametrize("mech", ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS"])
def test_tls_exporter_binding_over_tls13(server, mech):
    res, out = run_client(server, "--mech", mech, "--tls", "1.3", "--resource", f"x-{mech}")
    assert res.returncode == 0, describe(res)
    assert out.get("TLS") == "TLSv1.3", describe(res)
    assert mech in out["MECHANISMS"].split(), describe(res)
    # XEP-0440: the server says which binding types this connection supports.
    assert "tls-exporter" in out["CHANNEL-BINDINGS"].split(), describe(res)
    # The client checked the server's signature (v=) before binding: it covers the same
    # channel-binding data, so the server computed the same exporter value.
    assert out.get("BOUND") == f"alice@{DOMAIN}/x-{mech}", describe(res)


@pytest.mark.parametrize("mech", ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS"])
def test_wrong_tls_exporter_binding_is_refused(server, mech):
    # What a man in the middle terminating TLS would present: keying material of another channel.
    res, out = run_client(server, "--mech", mech, "--tls", "1.3", "--wrong-binding", user="bob")
    assert res.returncode == 3, describe(res)
    assert out.get("AUTH-FAILED") == "not-authorized", describe(res)
    assert "BOUND" not in out, describe(res)


def test_tls_exporter_binding_over_tls12_with_extended_master_secret(server):
    # RFC 9266 3: tls-exporter is allowed under TLS 1.2 only with the extended master secret
    # extension, which OpenSSL 3 negotiates by default.
    res, out = run_client(server, "--tls", "1.2", "--resource", "tls12")
    assert res.returncode == 0, describe(res)
    assert out.get("TLS") == "TLSv1.2", describe(res)
    assert "tls-exporter" in out["CHANNEL-BINDINGS"].split(), describe(res)
    assert out.get("BOUND") == f"alice@{DOMAIN}/tls12", describe(res)
