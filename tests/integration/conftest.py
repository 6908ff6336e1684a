"""Integration harness: one live parleyd per test module against a fresh PostgreSQL database.

Run through ctest (deploy/test sets everything up). Environment:
  PARLEY_TEST_PG_CONNINFO  libpq conninfo of a PostgreSQL where we may CREATE DATABASE
  PARLEYD, PARLEYCTL       the binaries under test (set by tests/integration/CMakeLists.txt)
  STROPHE_CHAT             the libstrophe test program (optional: its test needs it)
"""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from xmpp_helpers import DOMAIN, ServerInfo

# Accounts every server instance has.
ACCOUNTS = {
    "alice": "alice-Secret-1",
    "bob": "bob-Secret-2",
    "carol": "carol-Secret-3",
    "dave": "dave-Secret-4",
    "erin": "erin-Secret-5",
    "frank": "frank-Secret-6",
    "ada": "ada-Secret-7",  # the server admin (server.admins): ad-hoc commands
}
ADMIN = "ada"

SANITIZER_MARKERS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "runtime error:",  # UBSan
    "ThreadSanitizer",
    "SUMMARY: UndefinedBehaviorSanitizer",
)


def _require_env(name, hint):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: {hint}", pytrace=False)
    return value


def _conninfo_with_db(conninfo, dbname):
    parts = [p for p in conninfo.split() if not p.startswith("dbname=")]
    parts.append(f"dbname={dbname}")
    return " ".join(parts)


DEPLOY_PG = Path(__file__).resolve().parents[2] / "deploy" / "pg"
LSAN_SUPPRESSIONS = Path(__file__).resolve().parents[1] / "lsan.supp"


def _free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivatePostgres:
    """A PostgreSQL cluster of one test module's own (deploy/pg), for tests that crash it."""

    def __init__(self):
        # Short, under /tmp: the socket path (DIR/.s.PGSQL.PORT) must fit a Unix address.
        self.dir = Path(tempfile.mkdtemp(prefix="parley-pg-"))
        self.port = _free_port()
        self.conninfo = f"host={self.dir} port={self.port} user=postgres dbname=postgres"
        self.start()

    def _run(self, *args):
        res = subprocess.run([str(DEPLOY_PG), *args], capture_output=True, text=True, timeout=120)
        if res.returncode != 0:
            pytest.fail(f"deploy/pg {args[0]} failed: {res.stderr.strip()}", pytrace=False)

    def start(self):
        self._run("start", str(self.dir), str(self.port))

    def crash(self):
        """pg_ctl stop -m immediate: connections drop mid-transaction, no checkpoint."""
        self._run("crash", str(self.dir))

    def destroy(self):
        subprocess.run([str(DEPLOY_PG), "stop", str(self.dir)], capture_output=True, timeout=120)
        shutil.rmtree(self.dir, ignore_errors=True)


def _psql(conninfo, sql):
    res = subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-c", sql],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if res.returncode != 0:
        pytest.fail(f"psql failed ({sql}): {res.stderr.strip()}", pytrace=False)
    return res.stdout


def _make_cert(directory: Path):
    crt, key = directory / "localhost.crt", directory / "localhost.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-days", "30", "-subj", f"/CN={DOMAIN}",
            "-addext", f"subjectAltName=DNS:{DOMAIN}",
            "-keyout", str(key), "-out", str(crt),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return crt, key


def _log_tail(path: Path, lines=60):
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _ctl(parleyctl, config, *args, check=True, input=None):
    res = subprocess.run(
        [parleyctl, "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=120,
        input=input,
    )
    if check and res.returncode != 0:
        pytest.fail(
            f"parleyctl {' '.join(args[:3])} failed with exit {res.returncode}:\n"
            f"{res.stdout}\n{res.stderr}",
            pytrace=False,
        )
    return res


class Server(ServerInfo):
    """A running parleyd plus what the tests need to know about it."""

    def __init__(self, proc, workdir, log_path, config, ports, parleyctl):
        super().__init__(
            c2s_port=ports["c2s"],
            tls_port=ports["c2s_direct_tls"],
            accounts=dict(ACCOUNTS),
            workdir=workdir,
        )
        self.proc = proc
        # XEP-0114 components: the listener opens only when the test module lists components.
        self.component_port = ports.get("component")
        self.log_path = log_path
        self.config = config
        self.parleyctl = parleyctl

    def log(self):
        return self.log_path.read_text(errors="replace")

    def ctl(self, *args, check=True):
        return _ctl(self.parleyctl, self.config, *args, check=check)

    def events(self, *filters, limit=100000):
        """The compliance events `parleyctl events search` finds, as dicts."""
        out = self.ctl("events", "search", *filters, "--limit", str(limit), "--json").stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def wait_events(self, predicate, *filters, count=1, timeout=15):
        """Polls until at least `count` events match `predicate`, and returns the matches
        (possibly fewer on timeout, so the caller's assertion shows what was there). Events
        reach PostgreSQL asynchronously through the writer thread: never search just once."""
        deadline = time.monotonic() + timeout
        while True:
            rows = [row for row in self.events(*filters) if predicate(row)]
            if len(rows) >= count or time.monotonic() >= deadline:
                return rows
            time.sleep(0.2)

    def restart(self):
        """Stops parleyd with SIGTERM (asserting a clean exit) and starts it again on the same
        configuration and database; the ports change."""
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(timeout=30) == 0, f"parleyd exited with {self.proc.returncode}"
        self.proc, ports = self.spawn()
        self.c2s_port = ports["c2s"]
        self.tls_port = ports["c2s_direct_tls"]
        self.component_port = ports.get("component")


    def kill(self):
        """SIGKILL: no shutdown, no drain; whatever was only in memory is gone."""
        self.proc.kill()
        self.proc.wait(timeout=30)

    def start(self):
        """Starts parleyd again after kill(); the ports change."""
        self.proc, ports = self.spawn()
        self.c2s_port = ports["c2s"]
        self.tls_port = ports["c2s_direct_tls"]
        self.component_port = ports.get("component")


def _read_ports(path: Path):
    try:
        text = path.read_text()
    except OSError:
        return None
    ports = {}
    for line in text.splitlines():
        m = re.fullmatch(r"\s*(\S+)\s+(\d+)\s*", line)
        if m:
            ports[m.group(1)] = int(m.group(2))
    if "c2s" in ports and "c2s_direct_tls" in ports:
        return ports
    return None


def _spawn(parleyd, config, workdir, ports_file, log_path):
    """Starts parleyd (appending to its log) and waits for the ports it bound."""
    ports_file.unlink(missing_ok=True)
    env = dict(os.environ)
    # deploy/test sets this; a direct ctest run gets the same third-party leak suppressions.
    env.setdefault("LSAN_OPTIONS", f"suppressions={LSAN_SUPPRESSIONS}:print_suppressions=0")
    with open(log_path, "ab") as log_file:
        proc = subprocess.Popen(
            [parleyd, "--config", str(config)],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=workdir,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ports = _read_ports(ports_file)
        if ports:
            return proc, ports
        if proc.poll() is not None:
            pytest.fail(
                f"parleyd exited with {proc.returncode} during start-up:\n{_log_tail(log_path)}",
                pytrace=False,
            )
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    pytest.fail(f"parleyd wrote no ports file within 60 s:\n{_log_tail(log_path)}", pytrace=False)


@pytest.fixture(scope="module")
def server(tmp_path_factory, request):
    # A module that crashes PostgreSQL (PRIVATE_POSTGRES = True) gets a cluster of its own, so
    # the other test files running in parallel keep theirs.
    private_pg = PrivatePostgres() if getattr(request.module, "PRIVATE_POSTGRES", False) else None
    if private_pg:
        conninfo = private_pg.conninfo
    else:
        conninfo = _require_env(
            "PARLEY_TEST_PG_CONNINFO",
            "the integration tests need a PostgreSQL; run them through deploy/test, which "
            "starts a private one and sets PARLEY_TEST_PG_CONNINFO",
        )
    parleyd = _require_env("PARLEYD", "run through ctest (deploy/test); it names the binary")
    parleyctl = _require_env("PARLEYCTL", "run through ctest (deploy/test); it names the binary")
    for b in (parleyd, parleyctl):
        if not os.access(b, os.X_OK):
            pytest.fail(f"{b} is not an executable (build it first)", pytrace=False)

    module = request.module.__name__.rsplit(".", 1)[-1]
    workdir = tmp_path_factory.mktemp(module)
    dbname = f"parley_it_{re.sub(r'[^a-z0-9_]', '_', module.lower())}_{uuid.uuid4().hex[:8]}"
    _psql(conninfo, f'CREATE DATABASE "{dbname}"')
    db_conninfo = _conninfo_with_db(conninfo, dbname)

    crt, key = _make_cert(workdir)
    # A test module may tighten or loosen limits (e.g. a short negotiation timeout) with a
    # module-level SERVER_LIMITS = {"key": value} dictionary, and add top-level sections (e.g.
    # modules:, groups:) with a SERVER_EXTRA_YAML string.
    limits = {"max_stanza_bytes": 65536, "offline_max_messages": 100}
    limits.update(getattr(request.module, "SERVER_LIMITS", {}))
    limits_yaml = "\n".join(f"  {k}: {v}" for k, v in limits.items())
    ports_file = workdir / "ports"
    config = workdir / "parley.yaml"
    # The admin socket lives next to the configuration unless that path is longer than a Unix
    # socket address allows (a deep build directory); then it goes to a short private one.
    admin_socket = workdir / "parleyd.sock"
    if len(str(admin_socket)) > 100:
        admin_socket = Path(tempfile.mkdtemp(prefix="parley-admin-")) / "parleyd.sock"
    config.write_text(
        f"""# written by tests/integration/conftest.py
hosts: [{DOMAIN}]
listen:
  c2s:
    address: 127.0.0.1
    port: 0
    enabled: true
  c2s_direct_tls:
    address: 127.0.0.1
    port: 0
    enabled: true
  component:
    address: 127.0.0.1
    port: 0
    enabled: true
  ports_file: {ports_file.name}
tls:
  certificate: {crt.name}
  key: {key.name}
  require_starttls: true
database:
  conninfo: "{db_conninfo}"
  pool_size: 2
limits:
{limits_yaml}
auth:
  scram_iterations: 4096
server:
  admins: [{ADMIN}@{DOMAIN}]
admin:
  socket: {admin_socket}
log:
  level: debug
  target: stderr
io_threads: 2
""" + getattr(request.module, "SERVER_EXTRA_YAML", "")
    )

    _ctl(parleyctl, config, "db", "migrate")
    for user, password in ACCOUNTS.items():
        _ctl(parleyctl, config, "user", "add", f"{user}@{DOMAIN}", "--password", password)

    log_path = workdir / "parleyd.log"
    proc, ports = _spawn(parleyd, config, workdir, ports_file, log_path)
    srv = Server(proc, workdir, log_path, config, ports, parleyctl)
    srv.spawn = lambda: _spawn(parleyd, config, workdir, ports_file, log_path)
    srv.postgres = private_pg
    yield srv

    # Teardown: graceful stop, then judge how it went.
    proc = srv.proc
    problems = []
    if proc.poll() is not None:
        problems.append(f"parleyd died during the tests (exit {proc.returncode})")
    else:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            problems.append("parleyd did not stop within 30 s of SIGTERM (killed)")
        else:
            if proc.returncode != 0:
                problems.append(f"parleyd exited with {proc.returncode} after SIGTERM")
    log = srv.log()
    for marker in SANITIZER_MARKERS:
        if marker in log:
            problems.append(f"sanitizer report in the parleyd log ({marker!r})")
            break
    if private_pg:
        private_pg.destroy()
    else:
        try:
            _psql(conninfo, f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        except BaseException:  # pytest.fail raises; a leftover database is not a test failure
            pass
    if problems:
        pytest.fail(
            "; ".join(problems) + f"\n--- parleyd log ({log_path}) ---\n" + _log_tail(log_path, 120),
            pytrace=False,
        )
    elif os.environ.get("PARLEY_TEST_KEEP") != "1":
        shutil.rmtree(workdir, ignore_errors=True)
