"""Live admin control of the policy modules: parleyctl module ... through the admin socket and
XEP-0050 ad-hoc commands for server.admins. Changes apply to running sessions without
disconnecting anyone, survive a restart, and every action is a compliance event."""

import json
import os
import threading
import time

from conftest import ADMIN
from xmpp_helpers import DOMAIN, RawClient, q, stanza_error

SERVER_EXTRA_YAML = """
modules:
  file_transfer:
    enabled: true
  e2ee:
    enabled: true
  notice:
    enabled: false
"""

CMD_NS = "http://jabber.org/protocol/commands"
DATA_NS = "jabber:x:data"
OMEMO = (
    "<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='27183'>"
    "<key rid='31415'>c2VjcmV0</key><iv>aXY=</iv></header><payload>cGF5bG9hZA==</payload>"
    "</encrypted><body>I sent you an OMEMO encrypted message</body>"
)


def _modules(server):
    out = server.ctl("module", "list", "--json").stdout
    return {m["name"]: m for m in map(json.loads, filter(str.strip, out.splitlines()))}


def _alive(*clients):
    for c in clients:
        assert c.iq("get", "<ping xmlns='urn:xmpp:ping'/>").get("type") == "result"


def test_module_list_and_show(server):
    modules = _modules(server)
    assert modules["e2ee"]["running"] and modules["file_transfer"]["running"]
    assert not modules["notice"]["running"]
    assert modules["notice"]["configured"] == "disabled"
    assert modules["e2ee"]["clause"].startswith("§3")
    text = server.ctl("module", "list").stdout
    assert "e2ee" in text and "running" in text and "config: disabled" in text
    shown = server.ctl("module", "show", "file_transfer").stdout
    assert "§4 File sharing" in shown and "calls" in shown


def test_bad_requests_are_refused_with_advice(server):
    res = server.ctl("module", "enable", "nosuch", check=False)
    assert res.returncode == 1
    assert "no module named nosuch" in res.stderr
    res = server.ctl("module", "disable", "../../etc/passwd", check=False)
    assert res.returncode == 1 and "not a module name" in res.stderr
    res = server.ctl("module", "show", check=False)
    assert res.returncode == 2 and "missing argument" in res.stderr
    res = server.ctl("module", "frobnicate", check=False)
    assert res.returncode == 2
    # Nothing changed.
    assert _modules(server)["e2ee"]["running"]


def test_parleyctl_toggles_a_module_under_live_sessions(server):
    with RawClient(server) as alice, RawClient(server) as bob:
        alice.login("alice", resource="ctl")
        bob.login("bob", resource="ctl")
        alice.send(f"<message to='{bob.jid}' type='chat' id='om-on'>{OMEMO}</message>")
        err = alice.wait_for(lambda e: e.get("id") == "om-on" and e.get("type") == "error")
        assert stanza_error(err)[1] == "policy-violation"

        out = server.ctl("module", "disable", "e2ee").stdout
        assert out.strip() == "e2ee: disabled"
        assert "already disabled" in server.ctl("module", "disable", "e2ee").stdout
        alice.send(f"<message to='{bob.jid}' type='chat' id='om-off'>{OMEMO}</message>")
        got = bob.wait_for(lambda e: e.tag == q("message") and e.get("id") == "om-off", timeout=5)
        assert got.find("{eu.siacs.conversations.axolotl}encrypted") is not None
        state = _modules(server)["e2ee"]
        assert not state["running"] and state["override"]["enabled"] is False
        assert "parleyctl" in state["override"]["by"]

        assert server.ctl("module", "enable", "e2ee").stdout.strip() == "e2ee: enabled"
        alice.send(f"<message to='{bob.jid}' type='chat' id='om-again'>{OMEMO}</message>")
        err = alice.wait_for(lambda e: e.get("id") == "om-again" and e.get("type") == "error")
        assert stanza_error(err)[1] == "policy-violation"
        _alive(alice, bob)
    # Both actions are on the record with who (the Unix user), what, old and new.
    rows = server.wait_events(lambda r: r["kind"] in ("admin.module.disabled",
                                                      "admin.module.enabled")
                              and r["target"] == "e2ee", "--module", "core", count=2)
    assert len(rows) == 2, rows
    disable = next(r for r in rows if r["kind"] == "admin.module.disabled")
    assert disable["action"] == "admin"
    assert disable["actor"].startswith("unix user ") and f"uid {os.getuid()}" in disable["actor"]
    assert disable["detail"]["old"] == "enabled" and disable["detail"]["new"] == "disabled"
    assert disable["detail"]["via"] == "parleyctl"


def test_an_override_survives_a_restart(server):
    server.ctl("module", "disable", "file_transfer")
    overrides = json.loads((server.config.parent / "module-overrides.json").read_text())
    assert overrides["modules"]["file_transfer"]["enabled"] is False
    try:
        server.restart()
        assert not _modules(server)["file_transfer"]["running"]
        with RawClient(server) as alice:
            alice.login("alice", resource="restart")
            reply = alice.iq("get", "<request xmlns='urn:xmpp:http:upload:0' filename='a.jpg' "
                             "size='2' content-type='image/jpeg'/>", to=DOMAIN)
            # No module refuses it any more; the core itself has no upload service.
            assert stanza_error(reply)[1] != "policy-violation"
    finally:
        server.ctl("module", "enable", "file_transfer")
    assert _modules(server)["file_transfer"]["running"]


def test_reload_of_one_module_takes_its_new_settings(server):
    good = server.config.read_text()
    try:
        server.config.write_text(good.replace("  e2ee:\n    enabled: true",
                                              "  e2ee:\n    enabled: true\n    mode: flag"))
        out = server.ctl("module", "reload", "e2ee").stdout
        assert "e2ee: reloaded" in out
        with RawClient(server) as alice, RawClient(server) as bob:
            alice.login("alice", resource="flag")
            bob.login("bob", resource="flag")
            alice.send(f"<message to='{bob.jid}' type='chat' id='om-flag'>{OMEMO}</message>")
            bob.wait_for(lambda e: e.tag == q("message") and e.get("id") == "om-flag", timeout=5)
        # A module configuration it refuses leaves the running one in place.
        server.config.write_text(good.replace("  e2ee:\n    enabled: true",
                                              "  e2ee:\n    enabled: true\n    mode: maybe"))
        res = server.ctl("module", "reload", "e2ee", check=False)
        assert res.returncode == 1
        assert "modules.e2ee.mode" in res.stderr and "running set stays" in res.stderr
    finally:
        server.config.write_text(good)
    assert "e2ee: reloaded" in server.ctl("module", "reload", "e2ee").stdout
    assert "configuration reloaded" in server.ctl("module", "reload").stdout


def test_toggling_under_traffic_drops_no_session_and_loses_no_event(server):
    """bob sends an OMEMO message every few milliseconds while e2ee is switched off and on
    repeatedly: every message is either refused or delivered, each refusal is exactly one
    event, and neither session notices the switching."""
    sent = []
    stop = threading.Event()
    with RawClient(server) as alice, RawClient(server) as bob:
        alice.login("alice", resource="traffic")
        bob.login("bob", resource="traffic")

        def send_loop():
            n = 0
            while not stop.is_set():
                msg_id = f"live-{n}"
                bob.send(f"<message to='{alice.jid}' type='chat' id='{msg_id}'>{OMEMO}</message>")
                sent.append(msg_id)
                n += 1
                time.sleep(0.005)

        sender = threading.Thread(target=send_loop)
        sender.start()
        try:
            for _ in range(5):
                server.ctl("module", "disable", "e2ee")
                time.sleep(0.1)
                server.ctl("module", "enable", "e2ee")
                time.sleep(0.1)
        finally:
            stop.set()
            sender.join()
        wanted = set(sent)
        refused, delivered = set(), set()
        deadline = time.monotonic() + 20
        while len(refused) + len(delivered) < len(sent) and time.monotonic() < deadline:
            refused = {e.get("id") for e in bob.drain(0.2)
                       if e.get("id") in wanted and e.get("type") == "error"}
            delivered = {e.get("id") for e in alice.drain(0.2)
                         if e.tag == q("message") and e.get("id") in wanted}
        assert not refused & delivered
        assert refused | delivered == wanted, (len(sent), len(refused), len(delivered))
        assert refused and delivered, "the switching never took effect mid-traffic"
        _alive(alice, bob)
    rows = server.wait_events(lambda r: r["stanza_id"].startswith("live-"), "--module", "e2ee",
                              count=len(refused))
    assert sorted(r["stanza_id"] for r in rows) == sorted(refused)


# ---- XEP-0050 ad-hoc commands (what Gajim's "Execute Command" sends) ----

def _command(client, node, action=None, session=None, form=None):
    attrs = f"node='{node}'"
    if action:
        attrs += f" action='{action}'"
    if session:
        attrs += f" sessionid='{session}'"
    return client.iq("set", f"<command xmlns='{CMD_NS}' {attrs}>{form or ''}</command>")


def _submit(fields):
    body = "".join(f"<field var='{var}'><value>{value}</value></field>"
                   for var, value in fields.items())
    return f"<x xmlns='{DATA_NS}' type='submit'>{body}</x>"


def _result_fields(command):
    """A result form's fields: var -> list of values. (No <reported>/<item> tables: Gajim's
    Execute Command cannot show them.)"""
    x = command.find(f"{{{DATA_NS}}}x")
    assert x.get("type") == "result"
    assert x.find(f"{{{DATA_NS}}}reported") is None
    return {f.get("var"): [v.text or "" for v in f.findall(f"{{{DATA_NS}}}value")]
            for f in x.findall(f"{{{DATA_NS}}}field")}


def _app_error(reply):
    err = reply.find(q("error"))
    return [c.tag.split("}", 1)[1] for c in err if c.tag.startswith("{" + CMD_NS + "}")]


def test_commands_are_offered_to_admins_only(server):
    items_query = f"<query xmlns='http://jabber.org/protocol/disco#items' node='{CMD_NS}'/>"
    with RawClient(server) as ada, RawClient(server) as alice:
        ada.login(ADMIN, resource="disco")
        alice.login("alice", resource="disco")
        info = ada.iq("get", "<query xmlns='http://jabber.org/protocol/disco#info'/>")
        features = {f.get("var") for f in info.iter("{http://jabber.org/protocol/disco#info}feature")}
        assert CMD_NS in features
        items = ada.iq("get", items_query).findall(".//{http://jabber.org/protocol/disco#items}item")
        nodes = {i.get("node") for i in items}
        assert nodes == {"parley:modules:list", "parley:modules:enable",
                         "parley:modules:disable", "parley:events:recent"}
        assert all(i.get("jid") == DOMAIN and i.get("name") for i in items)
        node_info = ada.iq("get", "<query xmlns='http://jabber.org/protocol/disco#info' "
                           "node='parley:modules:disable'/>")
        identity = node_info.find(".//{http://jabber.org/protocol/disco#info}identity")
        assert (identity.get("category"), identity.get("type")) == ("automation", "command-node")

        assert alice.iq("get", items_query).findall(
            ".//{http://jabber.org/protocol/disco#items}item") == []
        reply = alice.iq("get", "<query xmlns='http://jabber.org/protocol/disco#info' "
                         "node='parley:modules:disable'/>")
        assert stanza_error(reply)[1] == "item-not-found"
        reply = _command(alice, "parley:modules:disable", "execute")
        err_type, condition, text = stanza_error(reply)
        assert (err_type, condition) == ("auth", "forbidden")
        assert "server.admins" in text
    assert _modules(server)["e2ee"]["running"]


def test_an_admin_disables_and_enables_a_module_from_the_client(server):
    with RawClient(server) as ada, RawClient(server) as alice, RawClient(server) as bob:
        ada.login(ADMIN, resource="gajim")
        alice.login("alice", resource="adhoc")
        bob.login("bob", resource="adhoc")
        first = _command(ada, "parley:modules:disable", "execute").find(f"{{{CMD_NS}}}command")
        assert first.get("status") == "executing"
        session = first.get("sessionid")
        options = [o.findtext(f"{{{DATA_NS}}}value")
                   for o in first.iter(f"{{{DATA_NS}}}option")]
        assert "e2ee" in options and "notice" not in options  # only running ones
        done = _command(ada, "parley:modules:disable", "complete", session,
                        _submit({"module": "e2ee"})).find(f"{{{CMD_NS}}}command")
        assert done.get("status") == "completed" and done.get("sessionid") == session
        note = done.find(f"{{{CMD_NS}}}note")
        assert (note.get("type"), note.text) == ("info", "e2ee: disabled")
        # Live: the next OMEMO message goes through, nobody was disconnected.
        alice.send(f"<message to='{bob.jid}' type='chat' id='adhoc-off'>{OMEMO}</message>")
        bob.wait_for(lambda e: e.tag == q("message") and e.get("id") == "adhoc-off", timeout=5)

        first = _command(ada, "parley:modules:enable").find(f"{{{CMD_NS}}}command")
        session = first.get("sessionid")
        done = _command(ada, "parley:modules:enable", "complete", session,
                        _submit({"module": "e2ee"})).find(f"{{{CMD_NS}}}command")
        assert done.find(f"{{{CMD_NS}}}note").text == "e2ee: enabled"
        alice.send(f"<message to='{bob.jid}' type='chat' id='adhoc-on'>{OMEMO}</message>")
        err = alice.wait_for(lambda e: e.get("id") == "adhoc-on" and e.get("type") == "error")
        assert stanza_error(err)[1] == "policy-violation"
        _alive(ada, alice, bob)
    rows = server.wait_events(lambda r: r["actor"] == f"{ADMIN}@{DOMAIN}/gajim"
                              and r["kind"].startswith("admin.module."), "--module", "core",
                              count=2)
    assert sorted(r["kind"] for r in rows) == ["admin.module.disabled", "admin.module.enabled"]
    assert all(r["detail"]["via"] == "ad-hoc command" for r in rows)


def test_an_admin_lists_modules_and_reads_recent_events(server):
    with RawClient(server) as ada:
        ada.login(ADMIN, resource="read")
        listed = _command(ada, "parley:modules:list").find(f"{{{CMD_NS}}}command")
        assert listed.get("status") == "completed"
        rows = _result_fields(listed)
        assert rows["e2ee"][0].startswith("running · §3 Confidentiality")
        assert rows["notice"][0].startswith("off · config: disabled")
        assert "§4 File sharing" in rows["file_transfer"][0]

        form = _command(ada, "parley:events:recent").find(f"{{{CMD_NS}}}command")
        assert form.get("status") == "executing"
        done = _command(ada, "parley:events:recent", "complete", form.get("sessionid"),
                        _submit({"module": "core", "action": "admin", "count": "3"}))
        lines = _result_fields(done.find(f"{{{CMD_NS}}}command"))["events"]
        assert 1 <= len(lines) <= 3
        events = [line.split() for line in lines]  # time, module, action, actor, →, target, kind
        assert all(e[1] == "core" and e[2] == "admin" for e in events)
        assert [e[0] for e in events] == sorted((e[0] for e in events), reverse=True)
    viewed = server.wait_events(lambda r: r["kind"] == "admin.events.viewed"
                                and r["actor"] == f"{ADMIN}@{DOMAIN}/read", "--module", "core")
    assert viewed and "count=3" in viewed[0]["detail"]["filters"]


def test_command_errors_follow_xep_0050(server):
    with RawClient(server) as ada, RawClient(server) as alice:
        ada.login(ADMIN, resource="errors")
        alice.login("alice", resource="errors")
        reply = _command(ada, "parley:modules:enable", "complete", "no-such-session",
                         _submit({"module": "e2ee"}))
        assert stanza_error(reply)[1] == "bad-request" and _app_error(reply) == ["bad-sessionid"]
        reply = _command(ada, "parley:modules:enable", "jump")
        assert stanza_error(reply)[1] == "bad-request" and _app_error(reply) == ["malformed-action"]
        reply = _command(ada, "parley:nothing")
        assert stanza_error(reply)[1] == "item-not-found"
        session = _command(ada, "parley:modules:disable").find(f"{{{CMD_NS}}}command").get(
            "sessionid")
        # Another user cannot take over an admin's session, even knowing its id.
        reply = _command(alice, "parley:modules:disable", "complete", session,
                         _submit({"module": "e2ee"}))
        assert stanza_error(reply)[1] == "forbidden"
        reply = _command(ada, "parley:modules:disable", "complete", session, _submit({}))
        assert stanza_error(reply)[1] == "bad-request" and _app_error(reply) == ["bad-payload"]
        canceled = _command(ada, "parley:modules:disable", "cancel", session)
        assert canceled.find(f"{{{CMD_NS}}}command").get("status") == "canceled"
        reply = _command(ada, "parley:modules:disable", "complete", session,
                         _submit({"module": "e2ee"}))
        assert _app_error(reply) == ["bad-sessionid"]
    assert _modules(server)["e2ee"]["running"]
