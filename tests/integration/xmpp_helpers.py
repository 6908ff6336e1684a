"""Clients for the integration tests.

RawClient: a small blocking XMPP client over a plain socket and Python's ssl module, with its
own SCRAM implementation, for protocol edge cases a library client would hide or refuse.
SlixClient: a real client (Debian's python3-slixmpp) for the ordinary flows.
"""

import asyncio
import base64
import hashlib
import hmac
import itertools
import os
import socket
import ssl
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

DOMAIN = "localhost"
# The mechanism RawClient.login uses unless told otherwise.
DEFAULT_MECH = os.environ.get("PARLEY_TEST_MECH", "SCRAM-SHA-256")

NS_STREAM = "http://etherx.jabber.org/streams"
NS_CLIENT = "jabber:client"
NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind"
NS_SESSION = "urn:ietf:params:xml:ns:xmpp-session"
NS_STREAM_ERRORS = "urn:ietf:params:xml:ns:xmpp-streams"
NS_STANZA_ERRORS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_ROSTER = "jabber:iq:roster"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_PING = "urn:xmpp:ping"
NS_VCARD = "vcard-temp"
NS_DELAY = "urn:xmpp:delay"


def q(tag, ns=NS_CLIENT):
    return f"{{{ns}}}{tag}"


@dataclass
class ServerInfo:
    c2s_port: int
    tls_port: int
    accounts: dict = field(default_factory=dict)
    workdir: Path = None

    def jid(self, user):
        return f"{user}@{DOMAIN}"

    def password(self, user):
        return self.accounts[user]


class StreamClosed(Exception):
    pass


class AuthFailed(Exception):
    def __init__(self, condition, element=None):
        super().__init__(f"SASL failure: {condition}")
        self.condition = condition
        self.element = element


_ids = itertools.count(1)


def next_id(prefix="t"):
    return f"{prefix}{next(_ids)}"


def client_tls_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


# ---------------------------------------------------------------------------------------------
# SCRAM (RFC 5802 / RFC 7677), client side.


class ScramClient:
    HASHES = {"SCRAM-SHA-1": "sha1", "SCRAM-SHA-256": "sha256"}

    def __init__(self, mechanism, username, password, cb_name=None, cb_data=b""):
        """With cb_name (and a -PLUS mechanism) the exchange is bound to the TLS channel."""
        self.mechanism = mechanism
        self.hash = self.HASHES[mechanism.removesuffix("-PLUS")]
        self.username = username.replace("=", "=3D").replace(",", "=2C")
        self.password = password.encode()
        self.cnonce = base64.b64encode(os.urandom(18)).decode()
        self.gs2 = f"p={cb_name},," if cb_name else "n,,"
        self.cb_data = cb_data
        self.first_bare = f"n={self.username},r={self.cnonce}"
        self.server_signature = None

    def first(self):
        return (self.gs2 + self.first_bare).encode()

    def _hmac(self, key, msg):
        return hmac.new(key, msg, self.hash).digest()

    def final(self, server_first: bytes):
        text = server_first.decode()
        attrs = dict(kv.split("=", 1) for kv in text.split(","))
        nonce, salt, iterations = attrs["r"], base64.b64decode(attrs["s"]), int(attrs["i"])
        if not nonce.startswith(self.cnonce):
            raise AssertionError(f"server nonce {nonce!r} does not extend ours")
        salted = hashlib.pbkdf2_hmac(self.hash, self.password, salt, iterations)
        client_key = self._hmac(salted, b"Client Key")
        stored_key = hashlib.new(self.hash, client_key).digest()
        cbind = base64.b64encode(self.gs2.encode() + self.cb_data).decode()
        without_proof = f"c={cbind},r={nonce}"
        auth_message = f"{self.first_bare},{text},{without_proof}".encode()
        signature = self._hmac(stored_key, auth_message)
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        server_key = self._hmac(salted, b"Server Key")
        self.server_signature = self._hmac(server_key, auth_message)
        return f"{without_proof},p={base64.b64encode(proof).decode()}".encode()

    def verify(self, server_final: bytes):
        text = server_final.decode()
        if not text.startswith("v="):
            raise AssertionError(f"unexpected server-final-message {text!r}")
        if base64.b64decode(text[2:]) != self.server_signature:
            raise AssertionError("server signature does not verify")


# ---------------------------------------------------------------------------------------------
# Raw client


class RawClient:
    """Blocking XMPP client; every wait has a timeout."""

    def __init__(self, server: ServerInfo, direct_tls=False, timeout=20.0, rcvbuf=None):
        """rcvbuf: SO_RCVBUF set before connecting (a small one makes a slow reader)."""
        self.server = server
        self.timeout = timeout
        port = server.tls_port if direct_tls else server.c2s_port
        if rcvbuf is None:
            self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            self.sock.settimeout(timeout)
            self.sock.connect(("127.0.0.1", port))
        self.tls = False
        if direct_tls:
            self.sock = client_tls_context().wrap_socket(self.sock, server_hostname=DOMAIN)
            self.tls = True
        self.closed = False
        self.pending = []
        self.jid = None
        self.features = None
        self._reset_parser()

    # -- plumbing ------------------------------------------------------------------------------

    def _reset_parser(self):
        self.parser = ET.XMLPullParser(events=("start", "end"))
        self.depth = 0
        self.root = None
        self.stream_attrs = None
        self.stream_ended = False

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _pump(self, deadline):
        """Reads once (until deadline); returns False when nothing more will come."""
        if self.closed:
            return False
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no data from the server in time")
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise TimeoutError("no data from the server in time") from None
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError, ssl.SSLEOFError):
            data = b""
        if not data:
            self.closed = True
            return False
        self.parser.feed(data)
        for event, elem in self.parser.read_events():
            if event == "start":
                self.depth += 1
                if self.depth == 1:
                    self.root = elem
                    self.stream_attrs = dict(elem.attrib)
            else:
                self.depth -= 1
                if self.depth == 1:
                    self.pending.append(elem)
                    if self.root is not None:
                        try:
                            self.root.remove(elem)
                        except ValueError:
                            pass
                elif self.depth == 0:
                    self.stream_ended = True
        return True

    def next(self, timeout=None):
        return self.wait_for(lambda e: True, timeout)

    def wait_for(self, predicate, timeout=None):
        """First received top-level element matching predicate; others stay pending."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            for i, elem in enumerate(self.pending):
                if predicate(elem):
                    return self.pending.pop(i)
            if self.stream_ended and not self.pending:
                raise StreamClosed("the server closed the stream")
            if not self._pump(deadline):
                raise StreamClosed("the server closed the connection")

    def wait_stream_open(self, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while self.stream_attrs is None:
            if not self._pump(deadline):
                raise StreamClosed("connection closed before the stream header")
        return self.stream_attrs

    def wait_closed(self, timeout=10.0):
        """True when the server closed the connection (after </stream:stream> or not)."""
        deadline = time.monotonic() + timeout
        try:
            while self._pump(deadline):
                pass
        except TimeoutError:
            return False
        return True

    def close(self):
        try:
            if not self.closed:
                self.send("</stream:stream>")
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass
        self.closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- negotiation ---------------------------------------------------------------------------

    def header(self, to=DOMAIN):
        return (
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
            f"xmlns:stream='{NS_STREAM}' to={quoteattr(to)} version='1.0' xml:lang='en'>"
        )

    def open_stream(self, to=DOMAIN):
        self.send(self.header(to))
        self.wait_stream_open()
        self.features = self.wait_for(lambda e: e.tag == q("features", NS_STREAM))
        return self.features

    def mechanisms(self):
        mechs = self.features.find(q("mechanisms", NS_SASL)) if self.features is not None else None
        return [m.text for m in mechs.findall(q("mechanism", NS_SASL))] if mechs is not None else []

    def starttls(self):
        self.send(f"<starttls xmlns='{NS_TLS}'/>")
        reply = self.next()
        assert reply.tag == q("proceed", NS_TLS), f"STARTTLS refused: {ET.tostring(reply)!r}"
        self.sock = client_tls_context().wrap_socket(self.sock, server_hostname=DOMAIN)
        self.tls = True
        self._reset_parser()
        return self.open_stream()

    def authenticate(self, user, password, mechanism="SCRAM-SHA-256", cb_name=None, cb_data=b""):
        """SASL; raises AuthFailed with the failure condition."""
        scram = ScramClient(mechanism, user, password, cb_name, cb_data)
        b64 = lambda b: base64.b64encode(b).decode()
        self.send(f"<auth xmlns='{NS_SASL}' mechanism='{mechanism}'>{b64(scram.first())}</auth>")
        reply = self.next()
        if reply.tag == q("failure", NS_SASL):
            raise AuthFailed(_failure_condition(reply), reply)
        assert reply.tag == q("challenge", NS_SASL), ET.tostring(reply)
        self.send(f"<response xmlns='{NS_SASL}'>{b64(scram.final(base64.b64decode(reply.text or '')))}</response>")
        reply = self.next()
        if reply.tag == q("failure", NS_SASL):
            raise AuthFailed(_failure_condition(reply), reply)
        if reply.tag == q("challenge", NS_SASL):  # server-final as a challenge (RFC 6120 allows)
            scram.verify(base64.b64decode(reply.text or ""))
            self.send(f"<response xmlns='{NS_SASL}'/>")
            reply = self.next()
            assert reply.tag == q("success", NS_SASL), ET.tostring(reply)
        else:
            assert reply.tag == q("success", NS_SASL), ET.tostring(reply)
            scram.verify(base64.b64decode(reply.text or ""))
        self._reset_parser()
        return self.open_stream()

    def bind(self, resource=None):
        res = f"<resource>{escape(resource)}</resource>" if resource else ""
        reply = self.iq("set", f"<bind xmlns='{NS_BIND}'>{res}</bind>", to=None)
        assert reply.get("type") == "result", f"bind failed: {ET.tostring(reply)!r}"
        self.jid = reply.find(f"{q('bind', NS_BIND)}/{q('jid', NS_BIND)}").text
        sess = self.features.find(q("session", NS_SESSION))
        if sess is not None and sess.find(q("optional", NS_SESSION)) is None:
            r = self.iq("set", f"<session xmlns='{NS_SESSION}'/>", to=None)
            assert r.get("type") == "result", ET.tostring(r)
        return self.jid

    def login(self, user, password=None, resource=None, mechanism=None, presence=True,
              roster=False):
        """Full negotiation; with roster=True the roster is requested before initial presence
        (as real clients do, making this an "interested resource", RFC 6121 2.1.6)."""
        password = password if password is not None else self.server.password(user)
        if self.features is None:
            self.open_stream()
        if not self.tls:
            self.starttls()
        self.authenticate(user, password, mechanism or DEFAULT_MECH)
        self.bind(resource)
        if roster:
            r = self.iq("get", f"<query xmlns='{NS_ROSTER}'/>", to=None)
            assert r.get("type") == "result", ET.tostring(r)
        if presence:
            self.send("<presence/>")
            # The server echoes initial presence to the sending resource (RFC 6121 4.2.2); once
            # it has, the resource is available and messages to the bare JID reach it.
            self.wait_for(lambda e: e.tag == q("presence") and e.get("from") == self.jid
                          and e.get("type") is None)
        return self

    # -- stanzas -------------------------------------------------------------------------------

    def iq(self, type_, payload, to=DOMAIN, timeout=None):
        iq_id = next_id("iq")
        to_attr = f" to={quoteattr(to)}" if to else ""
        self.send(f"<iq type='{type_}' id='{iq_id}'{to_attr}>{payload}</iq>")
        return self.wait_for(
            lambda e: e.tag == q("iq") and e.get("id") == iq_id
            and e.get("type") in ("result", "error"),
            timeout,
        )

    def message(self, to, body, type_="chat", extra_attrs="", msg_id=None):
        msg_id = msg_id or next_id("m")
        self.send(
            f"<message to={quoteattr(to)} type='{type_}' id='{msg_id}'{extra_attrs}>"
            f"<body>{escape(body)}</body></message>"
        )
        return msg_id

    def wait_message(self, body=None, timeout=None, type_=None):
        def match(e):
            if e.tag != q("message"):
                return False
            if type_ is not None and e.get("type", "normal") != type_:
                return False
            return body is None or e.findtext(q("body")) == body
        return self.wait_for(match, timeout)

    def drain(self, seconds=0.5):
        """Collects what arrives within `seconds` into pending; returns the pending list."""
        deadline = time.monotonic() + seconds
        try:
            while self._pump(deadline):
                pass
        except TimeoutError:
            pass
        return self.pending

    def stream_error(self, timeout=None):
        """Waits for <stream:error/>; returns (condition, text)."""
        err = self.wait_for(lambda e: e.tag == q("error", NS_STREAM), timeout)
        cond, text = None, None
        for child in err:
            if child.tag == q("text", NS_STREAM_ERRORS):
                text = child.text
            elif child.tag.startswith("{" + NS_STREAM_ERRORS + "}") and cond is None:
                cond = child.tag.split("}", 1)[1]
        return cond, text


def _failure_condition(failure):
    for child in failure:
        if child.tag != q("text", NS_SASL):
            return child.tag.split("}", 1)[1]
    return None


def stanza_error(elem):
    """(type, condition, text) of a stanza's <error/>, or None."""
    err = elem.find(q("error"))
    if err is None:
        return None
    cond, text = None, None
    for child in err:
        if child.tag == q("text", NS_STANZA_ERRORS):
            text = child.text
        elif child.tag.startswith("{" + NS_STANZA_ERRORS + "}") and cond is None:
            cond = child.tag.split("}", 1)[1]
    return err.get("type"), cond, text


def bare(jid):
    return jid.split("/", 1)[0]


# ---------------------------------------------------------------------------------------------
# slixmpp


def run(coro, timeout=120):
    """Runs an async test body with an overall timeout."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


try:
    import slixmpp  # Debian: python3-slixmpp

    class SlixClient(slixmpp.ClientXMPP):
        def __init__(self, jid, password, sasl_mech=None, roster_on_start=True):
            kwargs = {"sasl_mech": sasl_mech} if sasl_mech else {}
            super().__init__(jid, password, **kwargs)
            self.ssl_context.check_hostname = False
            self.ssl_context.verify_mode = ssl.CERT_NONE
            if sasl_mech and not sasl_mech.endswith("-PLUS"):
                # slixmpp knows only tls-unique and, when TLS is up, sends the gs2 flag "y"
                # (RFC 5802: "I support channel binding but think you do not"), which a server
                # that offers -PLUS must refuse as a downgrade. A client told to use plain
                # SCRAM says "n" instead.
                mechs = self["feature_mechanisms"]
                orig = mechs.sasl_callback

                def without_channel_binding(required, optional):
                    creds = orig(required, optional)
                    if "channel_binding" in creds:
                        creds["channel_binding"] = None
                    return creds

                mechs.sasl_callback = without_channel_binding
            self.auth_mechanism = None
            self.add_event_handler("auth_success", self._on_auth_success)
            # Subscriptions are answered by the tests, not automatically.
            self.auto_authorize = None
            self.auto_subscribe = False
            self.roster_on_start = roster_on_start
            loop = asyncio.get_running_loop()
            self.started = loop.create_future()
            self.messages = asyncio.Queue()
            self.presences = asyncio.Queue()
            self.roster_pushes = asyncio.Queue()
            self.stream_errors = asyncio.Queue()
            self.auth_failure = None
            self.add_event_handler("session_start", self._on_start)
            self.add_event_handler("failed_auth", self._on_failed_auth)
            self.add_event_handler("failed_all_auth", self._on_failed_all)
            self.add_event_handler("message", self.messages.put_nowait)
            self.add_event_handler("message_error", self.messages.put_nowait)
            self.add_event_handler("presence", self.presences.put_nowait)
            self.add_event_handler("roster_update", self.roster_pushes.put_nowait)
            self.add_event_handler("stream_error", self.stream_errors.put_nowait)
            self.add_event_handler("disconnected", self._on_disconnected)

        async def _on_start(self, _event):
            try:
                if self.roster_on_start:
                    await self.get_roster(timeout=20)
                self.send_presence()
                # A round trip after the presence: the server handles a session's stanzas in
                # order, so once the answer is here this resource is available and messages to
                # the bare JID reach it instead of offline storage.
                ping = self.make_iq_get(queryxmlns="urn:xmpp:ping", ito=self.boundjid.domain)
                await ping.send(timeout=20)
            except Exception as e:  # noqa: BLE001 - reported through the future
                if not self.started.done():
                    self.started.set_exception(e)
                return
            if not self.started.done():
                self.started.set_result(True)

        def _on_auth_success(self, _stanza):
            mech = self["feature_mechanisms"].mech
            self.auth_mechanism = getattr(mech, "name", None)

        def _on_failed_auth(self, stanza):
            self.auth_failure = stanza["condition"]

        def _on_failed_all(self, _event):
            if not self.started.done():
                self.started.set_exception(AuthFailed(self.auth_failure))

        def _on_disconnected(self, _event):
            if not self.started.done():
                self.started.set_exception(StreamClosed("disconnected before session start"))

        async def next_message(self, timeout=15, body=None):
            deadline = time.monotonic() + timeout
            while True:
                msg = await asyncio.wait_for(self.messages.get(), deadline - time.monotonic())
                if body is None or msg["body"] == body:
                    return msg

        async def next_presence(self, predicate=lambda p: True, timeout=15):
            deadline = time.monotonic() + timeout
            while True:
                p = await asyncio.wait_for(self.presences.get(), deadline - time.monotonic())
                if predicate(p):
                    return p

        async def close(self):
            try:
                await asyncio.wait_for(self.disconnect(wait=1.0), 10)
            except Exception:  # noqa: BLE001
                self.abort()

    async def slix_login(server, user, resource=None, password=None, mech=None,
                         direct_tls=False, timeout=30, roster_on_start=True):
        jid = server.jid(user) + (f"/{resource}" if resource else "")
        pw = password if password is not None else server.password(user)
        c = SlixClient(jid, pw, sasl_mech=mech, roster_on_start=roster_on_start)
        port = server.tls_port if direct_tls else server.c2s_port
        c.connect(address=("127.0.0.1", port), use_ssl=direct_tls,
                  force_starttls=not direct_tls, disable_starttls=direct_tls)
        try:
            await asyncio.wait_for(c.started, timeout)
        except BaseException:
            c.abort()
            raise
        return c

except ImportError:  # the slixmpp tests fail with a clear message instead
    slixmpp = None
