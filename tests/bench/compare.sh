#!/usr/bin/env bash
# Measures Parley, Debian's Prosody 0.12 and ejabberd 23.01 with the same load generator run
# (tests/bench/parley-loadgen: sessions, login and msg phases) and prints a Markdown table.
#
#   tests/bench/compare.sh [--servers parley,parley+modules,prosody,ejabberd] [--tls none,starttls]
#                          [--sessions N] [--duration S] [--login-clients C] [--rate R]
#                          [--pairs P] [--quick] [--keep] [-- EXTRA LOADGEN ARGS]
#
# Every server runs privately on 127.0.0.1 (own config, data and log directories under a
# temporary directory, ports 25222/25322/25422) and is restarted for each TLS mode so that
# its RSS baseline is fresh. Accounts: Prosody and ejabberd through XEP-0077 in-band
# registration (loopback only), Parley through `parleyctl user add`. Server CPU and RSS come
# from /proc of the server process. Progress goes to stderr, the table to stdout; the raw
# logs and JSON lines stay in the work directory with --keep.
#
# parley+modules is Parley with the policy modules file_transfer, e2ee and notice enabled; with
# both parley and parley+modules in one run the table is followed by their throughput ratio.
#
# Environment: BUILD_DIR (default build-bench) holds parley-loadgen, parleyd and parleyctl.
# PERF_RECORD=PREFIX profiles the server during each measured run with `perf record -g` into
# PREFIX.<server>-<tls>.data (read it with perf report -i ...); the profiler costs CPU of its
# own, so figures from such a run are not for the table.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build-bench}
LOADGEN=$BUILD/tests/bench/parley-loadgen
PARLEYD=$BUILD/xmpp-core/parleyd
PARLEYCTL=$BUILD/xmpp-core/parleyctl

SERVERS=parley,prosody,ejabberd
TLS_MODES=none,starttls
SESSIONS=10000
DURATION=10
LOGIN_CLIENTS=16
RATE=2000
PAIRS=100
KEEP=0
EXTRA=()
while (($#)); do
  case $1 in
    --servers) SERVERS=$2; shift 2 ;;
    --tls) TLS_MODES=$2; shift 2 ;;
    --sessions) SESSIONS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --login-clients) LOGIN_CLIENTS=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --pairs) PAIRS=$2; shift 2 ;;
    --quick) SESSIONS=1000; DURATION=3; shift ;;
    --keep) KEEP=1; shift ;;
    --) shift; EXTRA=("$@"); break ;;
    -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done

log() { printf '[compare] %s\n' "$*" >&2; }

[[ -x $LOADGEN ]] || {
  echo "compare.sh: $LOADGEN not built (ninja -C $BUILD parley-loadgen)" >&2
  exit 1
}

WORK=$(mktemp -d /tmp/parley-bench.XXXXXX)
chmod 755 "$WORK"
RESULTS=$WORK/results.jsonl
NOTES=$WORK/notes.txt
: >"$RESULTS"
: >"$NOTES"
note() {
  printf '%s\n' "$*" >>"$NOTES"
  log "$*"
}

# Processes and clusters this script started, stopped again on exit.
STARTED_PIDS=()
PG_DIR=
cleanup() {
  local pid
  for pid in "${STARTED_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${STARTED_PIDS[@]}"; do
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [[ -n $PG_DIR ]]; then "$ROOT/deploy/pg" stop "$PG_DIR" >/dev/null 2>&1 || true; fi
  if ((KEEP)); then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# PID of the process listening on 127.0.0.1:PORT (the server itself, whatever wrapper
# started it).
pid_on_port() {
  ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2
}

# Waits (bounded) until PORT accepts connections; prints the listener's PID.
wait_port() {
  local port=$1 limit=$2 started=${3:-} pid
  for _ in $(seq 1 $((limit * 5))); do
    if [[ -n $started ]] && ! kill -0 "$started" 2>/dev/null; then return 1; fi
    if ! port_free "$port"; then
      pid=$(pid_on_port "$port")
      if [[ -n $pid ]]; then
        echo "$pid"
        return 0
      fi
    fi
    sleep 0.2
  done
  return 1
}

stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
}

make_cert() {
  local dir=$1
  mkdir -p "$dir"
  openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost -keyout "$dir/localhost.key" \
    -out "$dir/localhost.crt" 2>/dev/null
  cat "$dir/localhost.crt" "$dir/localhost.key" >"$dir/localhost.pem"
  chmod 644 "$dir"/*
}

# ---------------------------------------------------------------------------------------------
# Prosody

PROSODY_PORT=25322
prosody_setup() {
  local dir=$WORK/prosody
  mkdir -p "$dir/data"
  make_cert "$dir/certs"
  # Debian's default module set minus the networking extras (s2s, HTTP, invites, posix
  # daemonising) and minus mod_limits (its 10 kB/s c2s rate limit would be measured instead
  # of the server). Nagle disabled as Parley and ejabberd do, else latency is Nagle's.
  cat >"$dir/prosody.cfg.lua" <<EOF
run_as_root = true
pidfile = "$dir/prosody.pid"
data_path = "$dir/data"
admins = { }
modules_enabled = { "disco"; "roster"; "saslauth"; "tls"; "blocklist"; "bookmarks"; "carbons";
  "pep"; "private"; "smacks"; "vcard4"; "vcard_legacy"; "csi_simple"; "ping"; "register";
  "time"; "uptime"; "version"; }
modules_disabled = { "s2s" }
allow_registration = true
min_seconds_between_registrations = 0
c2s_require_encryption = false
c2s_ports = { $PROSODY_PORT }
c2s_interfaces = { "127.0.0.1" }
s2s_ports = { }
component_ports = { }
http_ports = { }
https_ports = { }
network_settings = { nagle = false }
authentication = "internal_hashed"
storage = "internal"
log = { warn = "$dir/prosody.log" }
certificates = "$dir/certs"
ssl = { certificate = "$dir/certs/localhost.crt"; key = "$dir/certs/localhost.key" }
VirtualHost "localhost"
EOF
}
prosody_start() {
  local dir=$WORK/prosody pid
  port_free $PROSODY_PORT || { echo "port $PROSODY_PORT is busy"; return 1; }
  prosody --config "$dir/prosody.cfg.lua" -F >>"$dir/stdout.log" 2>&1 </dev/null &
  STARTED_PIDS+=($!)
  pid=$(wait_port $PROSODY_PORT 30 $!) || {
    echo "prosody did not listen within 30 s: $(tail -3 "$dir/stdout.log" "$dir/prosody.log" 2>/dev/null | tr '\n' ' ')"
    return 1
  }
  SERVER_PID=$pid
  SERVER_PORT=$PROSODY_PORT
  PROVISION=(--register)
}
prosody_stop() { stop_pid "$SERVER_PID"; }

# ---------------------------------------------------------------------------------------------
# ejabberd

EJABBERD_PORT=25422
ejabberd_setup() {
  local dir=$WORK/ejabberd
  mkdir -p "$dir/conf" "$dir/logs" "$dir/spool"
  make_cert "$dir/conf"
  # No epmd (fixed distribution port), a private cookie, and no scheduler busy-waiting: BEAM
  # spins idle schedulers by default, which would be billed as CPU per message at fixed rates.
  local cookie
  cookie=$(openssl rand -hex 16)
  cat >"$dir/conf/ejabberdctl.cfg" <<EOF
POLL=true
ERL_PROCESSES=250000
ERL_MAX_PORTS=65536
ERLANG_NODE=ejabberd-bench@localhost
ERL_DIST_PORT=25499
ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0 -setcookie $cookie +sbwt none +sbwtdcpu none +sbwtdio none"
EJABBERD_PID_PATH=$dir/spool/ejabberd.pid
EOF
  cp /etc/ejabberd/inetrc "$dir/conf/inetrc"
  cat >"$dir/conf/ejabberd.yml" <<EOF
hosts:
  - localhost
loglevel: warning
certfiles:
  - $dir/conf/localhost.pem
listen:
  - port: $EJABBERD_PORT
    ip: "127.0.0.1"
    module: ejabberd_c2s
    max_stanza_size: 262144
    backlog: 1024
    shaper: none
    access: c2s
    starttls: true
    starttls_required: false
auth_method: internal
auth_password_format: scram
auth_scram_hash: sha
registration_timeout: infinity
shaper:
  normal:
    rate: 10000000
    burst_size: 10000000
acl:
  local:
    user_regexp: ""
access_rules:
  local:
    allow: local
  c2s:
    allow: all
  register:
    allow: all
shaper_rules:
  max_user_sessions: 10
  max_user_offline_messages: 5000
  c2s_shaper: none
modules:
  mod_blocking: {}
  mod_caps: {}
  mod_carboncopy: {}
  mod_disco: {}
  mod_last: {}
  mod_offline: {}
  mod_ping: {}
  mod_privacy: {}
  mod_private: {}
  mod_register:
    ip_access: all
    access: register
  mod_roster:
    versioning: true
  mod_stream_mgmt: {}
  mod_vcard: {}
  mod_version: {}
EOF
  chown -R ejabberd: "$dir" 2>/dev/null || true
}
ejabberd_start() {
  local dir=$WORK/ejabberd pid
  port_free $EJABBERD_PORT || { echo "port $EJABBERD_PORT is busy"; return 1; }
  port_free 25499 || { echo "Erlang distribution port 25499 is busy"; return 1; }
  # Run as the ejabberd user through setpriv rather than ejabberdctl's own `su`: su's
  # pam_limits would reset the descriptor limit to init's 1024, too few for the sessions phase.
  setpriv --reuid=ejabberd --regid=ejabberd --init-groups env HOME="$dir/spool" \
    ejabberdctl --config-dir "$dir/conf" --logs "$dir/logs" --spool "$dir/spool" \
    foreground >>"$dir/stdout.log" 2>&1 </dev/null &
  STARTED_PIDS+=($!)
  EJABBERD_WRAPPER=$!
  pid=$(wait_port $EJABBERD_PORT 90 $!) || {
    echo "ejabberd did not listen within 90 s: $(tail -5 "$dir/stdout.log" "$dir/logs/"*.log 2>/dev/null | tr '\n' ' ' | cut -c1-600)"
    return 1
  }
  STARTED_PIDS+=("$pid")
  SERVER_PID=$pid
  SERVER_PORT=$EJABBERD_PORT
  PROVISION=(--register)
}
ejabberd_stop() {
  stop_pid "$SERVER_PID"
  stop_pid "$EJABBERD_WRAPPER"
}

# ---------------------------------------------------------------------------------------------
# Parley

PARLEY_PORT=25222
PARLEY_TLS_PORT=25223
PARLEY_PG_PORT=25432
parley_setup() {
  local dir=$WORK/parley
  [[ -x $PARLEYD ]] || {
    echo "parleyd not built in $BUILD (ninja -C $BUILD parleyd parleyctl)"
    return 1
  }
  mkdir -p "$dir"
  make_cert "$dir/tls"
  PG_DIR=$dir/pg
  local conninfo
  conninfo=$("$ROOT/deploy/pg" start "$PG_DIR" $PARLEY_PG_PORT 2>"$dir/pg.err" | tail -1) || {
    PG_DIR=
    echo "deploy/pg start failed: $(tail -3 "$dir/pg.err" | tr '\n' ' ')"
    return 1
  }
  PARLEY_CONNINFO=$conninfo
  cat >"$dir/parley.yaml" <<EOF
# Written by tests/bench/compare.sh: plaintext allowed so both TLS modes can be measured.
hosts: [localhost]
listen:
  c2s:
    address: 127.0.0.1
    port: $PARLEY_PORT
    enabled: true
  c2s_direct_tls:
    address: 127.0.0.1
    port: $PARLEY_TLS_PORT
    enabled: false
tls:
  certificate: tls/localhost.crt
  key: tls/localhost.key
  require_starttls: false
database:
  conninfo: "$conninfo"
log:
  level: warn
  target: stderr
EOF
  if [[ $server == parley+modules ]]; then
    cat >>"$dir/parley.yaml" <<EOF
modules:
  file_transfer:
    enabled: true
  e2ee:
    enabled: true
  notice:
    enabled: true
EOF
  fi
  if [[ -x $PARLEYCTL ]]; then
    "$PARLEYCTL" --config "$dir/parley.yaml" db migrate >"$dir/migrate.log" 2>&1 || {
      echo "parleyctl db migrate failed: $(tail -3 "$dir/migrate.log" | tr '\n' ' ')"
      return 1
    }
  fi
}
parley_start() {
  local dir=$WORK/parley pid
  port_free $PARLEY_PORT || { echo "port $PARLEY_PORT is busy"; return 1; }
  "$PARLEYD" --config "$dir/parley.yaml" >>"$dir/parleyd.log" 2>&1 </dev/null &
  STARTED_PIDS+=($!)
  pid=$(wait_port $PARLEY_PORT 30 $!) || {
    echo "parleyd did not listen within 30 s or exited: $(tail -5 "$dir/parleyd.log" | tr '\n' ' ' | cut -c1-600)"
    return 1
  }
  SERVER_PID=$pid
  SERVER_PORT=$PARLEY_PORT
  if [[ -x $PARLEYCTL ]]; then
    # One account through parleyctl, the rest cloned from it in SQL: spawning parleyctl per
    # account costs ~0.1 s each, which made a 10k run spend most of its time provisioning. The
    # clones share the template's salt, which does not change what the server does per login.
    local count=$((SESSIONS + 2 * PAIRS + LOGIN_CLIENTS + 10)) prefix=${USERS_PREFIX:-bench}
    "$PARLEYCTL" --config "$dir/parley.yaml" user show "template@localhost" >/dev/null 2>&1 ||
      "$PARLEYCTL" --config "$dir/parley.yaml" user add "template@localhost" --password benchpass \
        >>"$dir/provision.log" 2>&1 || { echo "parleyctl user add failed"; return 1; }
    psql "$PARLEY_CONNINFO" -q -v ON_ERROR_STOP=1 >>"$dir/provision.log" 2>&1 <<SQL || { echo "account cloning failed"; return 1; }
INSERT INTO accounts (jid) SELECT '$prefix' || i || '@localhost' FROM generate_series(0, $count - 1) i
  ON CONFLICT DO NOTHING;
INSERT INTO account_credentials (jid, mechanism, salt, iterations, stored_key, server_key)
  SELECT '$prefix' || i || '@localhost', mechanism, salt, iterations, stored_key, server_key
  FROM account_credentials, generate_series(0, $count - 1) i WHERE jid = 'template@localhost'
  ON CONFLICT DO NOTHING;
SQL
    PROVISION=()
  else
    note "parley: $PARLEYCTL not built; trying XEP-0077 in-band registration instead"
    PROVISION=(--register)
  fi
}
parley_stop() { stop_pid "$SERVER_PID"; }

# ---------------------------------------------------------------------------------------------

LOADGEN_COMMON=()
loadgen_args() {
  LOADGEN_COMMON=(--host 127.0.0.1 --port "$SERVER_PORT" --domain localhost
    --server-pid "$SERVER_PID" --label "$1" --sessions "$SESSIONS" --duration "$DURATION"
    --login-clients "$LOGIN_CLIENTS" --rate "$RATE" --pairs "$PAIRS")
}

# Creates the accounts (on a server that is restarted afterwards, so the garbage this leaves
# in the server does not count in its RSS baseline).
provision() {
  local server=$1 logfile=$WORK/$server-provision.log
  loadgen_args "$server"
  log "$server: provisioning $SESSIONS accounts"
  timeout --kill-after=10 $((1800 + SESSIONS / 5)) "$LOADGEN" "${LOADGEN_COMMON[@]}" \
    --phases none "${PROVISION[@]}" >"$logfile" 2>&1 || {
    note "$server: provisioning failed: $(tail -2 "$logfile" | tr '\n' ' ' | cut -c1-400)"
    return 1
  }
  grep -E '^(provisioned|registered)' "$logfile" >&2 || true
}

run_loadgen() {
  local server=$1 tls=$2 logfile=$WORK/$server-$tls.log
  loadgen_args "$server"
  # Generous but bounded: ramp-up at >= 20 sessions/s and three measured runs.
  local limit=$((600 + SESSIONS / 20 + 10 * DURATION))
  log "$server/$tls: parley-loadgen ${LOADGEN_COMMON[*]} --tls $tls ${EXTRA[*]}"
  local perf_pid=
  if [[ -n ${PERF_RECORD:-} ]]; then
    perf record -q -F 499 -g -p "$SERVER_PID" -o "$PERF_RECORD.$server-$tls.data" \
      >"$WORK/$server-$tls.perf.log" 2>&1 &
    perf_pid=$!
  fi
  timeout --kill-after=10 "$limit" "$LOADGEN" "${LOADGEN_COMMON[@]}" --tls "$tls" "${EXTRA[@]}" \
    2>&1 | tee "$logfile" | grep -v '^{' >&2 || true
  if [[ -n $perf_pid ]]; then
    kill -INT "$perf_pid" 2>/dev/null || true
    wait "$perf_pid" 2>/dev/null || true
  fi
  grep '^{' "$logfile" >>"$RESULTS" || true
  if ! grep -q '"mode":"rate"' "$logfile"; then
    note "$server/$tls: the load generator did not complete every phase (see $logfile)"
  fi
}

start_server() {
  local server=$1 errfile=$WORK/$server-start.err
  SERVER_PID=
  if ! "${server%%+*}_start" >"$errfile" 2>&1; then
    note "$server: not measured: $(tr '\n' ' ' <"$errfile" | cut -c1-600)"
    return 1
  fi
  log "$server started (pid $SERVER_PID, port $SERVER_PORT)"
  # Let start-up work (and, for the Erlang VM, its garbage) settle before the RSS baseline.
  if [[ $server == ejabberd ]]; then sleep 15; else sleep 3; fi
}

log "work directory $WORK; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
IFS=, read -r -a server_list <<<"$SERVERS"
IFS=, read -r -a tls_list <<<"$TLS_MODES"
for server in "${server_list[@]}"; do
  case $server in
    parley | parley+modules | prosody | ejabberd) ;;
    *) note "unknown server $server"; continue ;;
  esac
  # Set-up and start run in this shell (they set globals), their messages go to a file.
  errfile=$WORK/$server-setup.err
  if ! "${server%%+*}_setup" >"$errfile" 2>&1; then
    note "$server: not measured: set-up failed: $(tr '\n' ' ' <"$errfile" | cut -c1-600)"
    continue
  fi
  start_server "$server" || continue
  if ! provision "$server"; then
    "${server%%+*}_stop"
    continue
  fi
  "${server%%+*}_stop"
  for tls in "${tls_list[@]}"; do
    start_server "$server" || break
    run_loadgen "$server" "$tls"
    "${server%%+*}_stop"
    log "$server stopped"
  done
done

# ---------------------------------------------------------------------------------------------
# Markdown table from the JSON lines.

python3 - "$RESULTS" "$NOTES" "$SESSIONS" "$DURATION" "$RATE" "$PAIRS" "$LOGIN_CLIENTS" <<'EOF'
import json, sys, platform, os
results, notes, sessions, duration, rate, pairs, clients = sys.argv[1:8]
rows = {}
order = []
for line in open(results):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    key = (r.get("server"), r.get("tls"))
    if key not in rows:
        rows[key] = {}
        order.append(key)
    name = r["phase"] + ("/" + r["mode"] if "mode" in r else "")
    rows[key][name] = r

def f(value, digits=1):
    if value is None:
        return "n/a"
    return f"{value:.{digits}f}"

cpu = "unknown CPU"
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
except OSError:
    pass
print(f"### XMPP server comparison ({os.cpu_count()} × {cpu}, load generator on the same machine, 127.0.0.1)")
print()
print(f"Sessions phase up to {sessions} idle sessions; login phase {clients} clients × {duration} s; "
      f"msg phase {pairs} pairs × {duration} s at saturation and at a fixed {rate} msg/s. "
      "Server CPU and RSS from /proc of the server process; SCRAM-SHA-1.")
print()
print("| server | TLS | KiB / idle session | logins/s | CPU ms / login | msg/s (sat.) | CPU µs / msg (sat.) | p50 / p99 ms (sat.) | msg/s (fixed) | p50 / p99 ms (fixed) | CPU µs / msg (fixed) | other load |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for key in order:
    r = rows[key]
    s = r.get("sessions", {})
    l = r.get("login", {})
    m = r.get("msg/saturation", {})
    q = r.get("msg/rate", {})
    kib = f(s.get("kib_per_session"))
    if s and s.get("complete") != "yes":
        kib += f" (at {int(s.get('sessions', 0))})"
    elif s:
        kib += f" (at {int(s.get('sessions', 0))})"
    other = max([x.get("other_cpu_pct") or 0 for x in (l, m, q)] or [0])
    print(f"| {key[0]} | {key[1]} | {kib} | {f(l.get('logins_per_s'), 0)} | "
          f"{f(l.get('server_cpu_ms_per_login'), 2)} | {f(m.get('delivered_per_s'), 0)} | "
          f"{f(m.get('server_cpu_us_per_msg'))} | {f(m.get('p50_ms'), 2)} / {f(m.get('p99_ms'), 2)} | "
          f"{f(q.get('delivered_per_s'), 0)} | {f(q.get('p50_ms'), 2)} / {f(q.get('p99_ms'), 2)} | "
          f"{f(q.get('server_cpu_us_per_msg'))} | ≤ {f(other, 0)}% |")
print()
print("'other load' is the CPU (in % of one core) used by processes other than the server and the "
      "load generator during the measured windows; anything but a few % means the figures are "
      "disturbed.")
tls_seen = [k[1] for k in order if k[0] == "parley"]
for tls in tls_seen:
    base = rows.get(("parley", tls), {}).get("msg/saturation")
    mods = rows.get(("parley+modules", tls), {}).get("msg/saturation")
    if not base or not mods or not base.get("delivered_per_s"):
        continue
    ratio = mods["delivered_per_s"] / base["delivered_per_s"]
    cpu = (mods.get("server_cpu_us_per_msg") or 0) / (base.get("server_cpu_us_per_msg") or 1)
    print()
    print(f"Policy modules (file_transfer, e2ee, notice) on vs off, {tls}: saturated throughput "
          f"ratio {ratio:.2f} ({mods['delivered_per_s']:.0f} / {base['delivered_per_s']:.0f} msg/s), "
          f"server CPU per message ratio {cpu:.2f}.")
extra = [line.strip() for line in open(notes) if line.strip()]
for key in order:
    for phase, r in rows[key].items():
        if r.get("error"):
            extra.append(f"{key[0]}/{key[1]} {phase}: {int(r.get('failed') or 0)} failures, first: {r['error'][:200]}")
        if r.get("lost"):
            extra.append(f"{key[0]}/{key[1]} {phase}: {int(r['lost'])} messages not delivered within 10 s of the end")
if extra:
    print()
    print("Notes:")
    for line in extra:
        print(f"- {line}")
EOF
