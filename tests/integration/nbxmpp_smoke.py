#!/usr/bin/python3
"""A scripted session with Gajim's own XMPP library (Debian's python3-nbxmpp), the way Gajim
uses it: two accounts log in (STARTTLS, SCRAM, stream management), alice looks at what the
server and her account offer, stores an XEP-0402 bookmark and reads it back, creates the
bookmarked room as Gajim does (join, ask for the configuration form, submit it) and sees her own
groupchat message come back, and sends bob a message that bob receives. Prints one JSON object with what it saw; exits non-zero if any step
failed or timed out.

    nbxmpp_smoke.py HOST PORT DOMAIN ALICE_PASSWORD BOB_PASSWORD
"""

import json
import logging
import os
import sys

import gi

gi.require_version("GLib", "2.0")
from gi.repository import GLib  # noqa: E402

from nbxmpp.client import Client  # noqa: E402
from nbxmpp.const import ConnectionProtocol, ConnectionType  # noqa: E402
from nbxmpp.namespaces import Namespace  # noqa: E402
from nbxmpp.protocol import JID, Message, Presence  # noqa: E402
from nbxmpp.structs import BookmarkData, StanzaHandler  # noqa: E402

HOST, PORT, DOMAIN, ALICE_PW, BOB_PW = sys.argv[1:6]
if os.environ.get("NBXMPP_DEBUG"):
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
ROOM = f"falcon@conference.{DOMAIN}"
BODY = "Hello from nbxmpp"

result = {"steps": []}
loop = GLib.MainLoop()
# nbxmpp holds task callbacks weakly (as Gajim's objects outlive their requests); the nested
# callbacks below are kept alive here.
keep = []


def step(name, **data):
    result["steps"].append(name)
    result.update(data)


def fail(why):
    result["error"] = why
    loop.quit()


def make_client(user, password):
    c = Client()
    c.set_domain(DOMAIN)
    c.set_username(user)
    c.set_password(password)
    c.set_resource("nbxmpp")
    c.set_custom_host(f"{HOST}:{PORT}", ConnectionProtocol.TCP, ConnectionType.START_TLS)
    c.set_ignore_tls_errors(True)  # the test server's self-signed certificate
    c.subscribe("connection-failed", lambda *a: fail(f"{user}: connection failed"))
    c.subscribe("disconnected", lambda *a: None)
    return c


alice = make_client("alice", ALICE_PW)
bob = make_client("bob", BOB_PW)
connected = set()


def on_bob_message(_client, stanza, _properties):
    if stanza.getBody() == BODY:
        step("bob received the message", message_from=str(stanza.getFrom()))
        loop.quit()


bob.register_handler(StanzaHandler(name="message", callback=on_bob_message))


def on_connected(client, _signal_name, user):
    connected.add(user)
    step(f"{user} connected", **{f"{user}_tls": str(client.tls_version)})
    if connected == {"alice", "bob"}:
        discover()


def discover():
    def on_server(task):
        try:
            info = task.finish()
        except Exception as e:  # noqa: BLE001 - reported, not hidden
            return fail(f"server disco: {e}")
        step("server disco", server_features=sorted(info.features))
        alice.get_module("Discovery").disco_info(JID.from_string(f"alice@{DOMAIN}"),
                                                 callback=on_account)

    def on_account(task):
        try:
            info = task.finish()
        except Exception as e:  # noqa: BLE001
            return fail(f"account disco: {e}")
        step("account disco", account_features=sorted(info.features),
             account_identities=sorted(f"{i.category}/{i.type}" for i in info.identities))
        bookmarks()

    keep.extend([on_server, on_account])
    alice.get_module("Discovery").disco_info(JID.from_string(DOMAIN), callback=on_server)


def bookmarks():
    module = alice.get_module("NativeBookmarks")
    bookmark = BookmarkData(jid=JID.from_string(ROOM), name="Project Falcon", nick="alice",
                            autojoin=True)

    def on_stored(task):
        try:
            task.finish()
        except Exception as e:  # noqa: BLE001
            return fail(f"store bookmarks: {e}")
        # The publish itself is fire-and-forget in nbxmpp; read back after a moment.
        GLib.timeout_add(500, read_back)

    def read_back():
        module.request_bookmarks(callback=on_read)
        return False

    def on_read(task):
        try:
            found = task.finish()
        except Exception as e:  # noqa: BLE001
            return fail(f"request bookmarks: {e}")
        step("bookmarks read back", bookmarks=[str(b.jid) for b in found])
        join_room()

    keep.extend([on_stored, read_back, on_read])
    module.store_bookmarks([bookmark], callback=on_stored)


ROOM_BODY = "Hello, room"
room = {"joined": False}


def on_room_presence(_client, stanza, properties):
    if str(stanza.getFrom()) != f"{ROOM}/alice" or room["joined"]:
        return
    if stanza.getType() == "error":
        return fail(f"join refused: {stanza}")
    x = stanza.getTag("x", namespace=Namespace.MUC_USER)
    codes = sorted(s.getAttr("code") for s in x.getTags("status")) if x else []
    room["joined"] = True
    step("alice joined the room", room_status_codes=codes,
         room_occupant_id=properties.occupant_id)
    if "201" in codes:
        configure_room()
    else:
        say_in_room()


def configure_room():
    muc = alice.get_module("MUC")

    def on_form(task):
        try:
            result_ = task.finish()
        except Exception as e:  # noqa: BLE001
            return fail(f"room configuration form: {e}")
        step("room configuration form",
             room_config_fields=sorted(f.var for f in result_.form.iter_fields() if f.var))
        muc.set_config(ROOM, result_.form, callback=on_configured)

    def on_configured(task):
        try:
            task.finish()
        except Exception as e:  # noqa: BLE001
            return fail(f"room configuration submit: {e}")
        step("room configured")
        say_in_room()

    keep.extend([on_form, on_configured])
    muc.request_config(ROOM, callback=on_form)


def say_in_room():
    alice.send_stanza(Message(to=JID.from_string(ROOM), body=ROOM_BODY, typ="groupchat"))


def on_room_message(_client, stanza, _properties):
    if str(stanza.getFrom()) == f"{ROOM}/alice" and stanza.getBody() == ROOM_BODY:
        step("alice's room message came back")
        send_message()


def join_room():
    presence = Presence(to=JID.from_string(f"{ROOM}/alice"))
    presence.setTag("x", namespace=Namespace.MUC).setTag("history", {"maxstanzas": "0"})
    alice.send_stanza(presence)


alice.register_handler(StanzaHandler(name="presence", callback=on_room_presence, priority=50))
alice.register_handler(StanzaHandler(name="message", callback=on_room_message, typ="groupchat",
                                     priority=50))


def send_message():
    alice.send_stanza(Message(to=JID.from_string(f"bob@{DOMAIN}/nbxmpp"), body=BODY, typ="chat"))
    step("alice sent the message")


alice.subscribe("connected", lambda c, s: on_connected(c, s, "alice"))
bob.subscribe("connected", lambda c, s: on_connected(c, s, "bob"))
GLib.timeout_add_seconds(30, lambda: fail("timed out") or False)
alice.connect()
bob.connect()
loop.run()
# Stream management is enabled right after binding; by now the answer has long arrived.
for name, c in (("alice", alice), ("bob", bob)):
    result[f"{name}_sm"] = c._smacks.enabled
    result[f"{name}_sm_resumable"] = c._smacks.resume_supported
for c in (alice, bob):
    try:
        c.disconnect()
    except Exception:  # noqa: BLE001 - best effort at the end
        pass
print(json.dumps(result))
sys.exit(1 if "error" in result else 0)
