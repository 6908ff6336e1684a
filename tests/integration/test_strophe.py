"""A libstrophe client (tests/integration/strophe_chat.c) chats with another libstrophe client."""

import os
import select
import subprocess
import time

import pytest

from xmpp_helpers import DOMAIN


def strophe_binary():
    path = os.environ.get("STROPHE_CHAT")
    if not path or not os.access(path, os.X_OK):
        pytest.fail("STROPHE_CHAT does not name the built strophe_chat program (run through ctest)")
    return path


def wait_for_line(proc, prefix, timeout):
    """Reads proc's stdout until a line starting with prefix; returns (line, all output)."""
    deadline = time.monotonic() + timeout
    fd = proc.stdout.fileno()
    buf = getattr(proc, "_seen", b"")
    while True:
        for line in buf.decode(errors="replace").splitlines():
            if line.startswith(prefix):
                proc._seen = buf
                return line, buf.decode(errors="replace")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        ready, _, _ = select.select([fd], [], [], min(remaining, 0.2))
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:  # EOF: the program ended
                break
            buf += chunk
    proc._seen = buf
    return None, buf.decode(errors="replace")


def run_pair(server, port_args, receiver_user, sender_user, body):
    exe = strophe_binary()
    common = ["--timeout", "60"]
    receiver = subprocess.Popen(
        [exe, *port_args(server), "--jid", f"{receiver_user}@{DOMAIN}/strophe-rx",
         "--password", server.password(receiver_user), "--expect", body, *common],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        ready, out = wait_for_line(receiver, "READY ", 60)
        if not ready:
            if receiver.poll() is None:
                receiver.kill()
            pytest.fail(f"receiver never logged in: {out}\n{receiver.stderr.read().decode(errors='replace')}")
        assert ready.split()[1] == f"{receiver_user}@{DOMAIN}/strophe-rx"

        sender = subprocess.run(
            [exe, *port_args(server), "--jid", f"{sender_user}@{DOMAIN}/strophe-tx",
             "--password", server.password(sender_user),
             "--to", f"{receiver_user}@{DOMAIN}", "--body", body, *common],
            capture_output=True, text=True, timeout=90,
        )
        assert sender.returncode == 0, f"sender failed:\n{sender.stdout}\n{sender.stderr}"
        assert "SENT" in sender.stdout

        got, out2 = wait_for_line(receiver, "RECEIVED ", 30)
        assert got, f"receiver got nothing: {out}{out2}"
        assert got == f"RECEIVED from={sender_user}@{DOMAIN}/strophe-tx body={body}"
        assert receiver.wait(timeout=30) == 0, receiver.stderr.read().decode(errors="replace")
    finally:
        if receiver.poll() is None:
            receiver.kill()
            receiver.wait()


def test_strophe_chat_starttls(server):
    run_pair(server, lambda s: ["--port", str(s.c2s_port)], "alice", "bob",
             "hello from libstrophe")


def test_strophe_chat_direct_tls(server):
    run_pair(server, lambda s: ["--port", str(s.tls_port), "--direct-tls"], "carol", "dave",
             "direct TLS says hi")
