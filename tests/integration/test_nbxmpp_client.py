"""Client smoke test with Gajim's own library: Debian's python3-nbxmpp logs two accounts in
(STARTTLS, SCRAM, stream management with resumption), finds what Gajim looks for in the
server's and the account's disco#info, stores and reads back an XEP-0402 bookmark, creates
a group chat room the way Gajim does and talks in it, and delivers a message (tests/integration/nbxmpp_smoke.py does the talking)."""

import json
import subprocess
from pathlib import Path

from xmpp_helpers import DOMAIN

SCRIPT = Path(__file__).with_name("nbxmpp_smoke.py")


def test_gajims_library_logs_in_bookmarks_and_chats(server):
    run = subprocess.run(
        ["/usr/bin/python3", str(SCRIPT), "127.0.0.1", str(server.c2s_port), DOMAIN,
         server.password("alice"), server.password("bob")],
        capture_output=True, text=True, timeout=60)
    assert run.stdout.strip(), f"no output; stderr:\n{run.stderr[-3000:]}"
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert run.returncode == 0, f"{seen}\nstderr:\n{run.stderr[-3000:]}"
    assert seen["alice_sm"] and seen["alice_sm_resumable"] and seen["bob_sm"]
    assert "TLS_1_3" in seen["alice_tls"] or "TLS_1_2" in seen["alice_tls"]
    for feature in ("urn:xmpp:carbons:2", "urn:xmpp:ping", "urn:xmpp:blocking",
                    "http://jabber.org/protocol/pubsub#pep"):
        assert feature in seen["server_features"], feature
    assert "pubsub/pep" in seen["account_identities"]
    assert "http://jabber.org/protocol/pubsub#publish-options" in seen["account_features"]
    assert seen["bookmarks"] == [f"falcon@conference.{DOMAIN}"]
    assert seen["room_status_codes"] == ["110", "201"]  # self-presence of a new room
    assert "muc#roomconfig_roomname" in seen["room_config_fields"]
    assert "room configured" in seen["steps"]
    assert "alice's room message came back" in seen["steps"]
    assert seen["message_from"] == f"alice@{DOMAIN}/nbxmpp"
