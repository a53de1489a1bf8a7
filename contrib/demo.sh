#!/bin/bash
# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# demo.sh: why tunsup exists, in under a minute, on loopback only (run by
# `make demo` and `contrib/quickstart demo`; CI runs it as a test).
#
# A throwaway sshd, "the bridge", with generated keys; in front of it a relay
# standing for the network path (tests/integration/relay.py); a small web
# server standing for a service of this machine. tunsupd runs a small fleet:
#	bridge	RemoteForward of the web server to the bridge, through the path
#		(the bridge setup of README.md, with a web server for sshd)
#	web	a LocalForward to it
#	proxy	a DynamicForward (SOCKS)
# Beside it, where autossh is installed, the bridge tunnel as the guides
# write it: autossh -M 0 -o ServerAliveInterval=... -o ExitOnForwardFailure=yes
# -R ... through the same path. Each forward is used once; then two faults:
#  (a) the server goes away (sshd, its sessions and the path killed) for a
#      few seconds and comes back on the same port;
#  (b) the path goes silent for the sessions open now (the relay black-holes
#      them, new connections pass): the client's session is dead but the
#      bridge's half lives on and holds the remote port until sshd's
#      ClientAliveInterval x ClientAliveCountMax drops it, so the new
#      session's RemoteForward is refused: tunnel `degraded`, then `up`.
# For each fault a timeline relative to it: `tunsupctl watch` lines, what
# autossh and its ssh printed, and a probe (a short HTTP request every
# 0.25 s) through each RemoteForward and the LocalForward. A table sums up.
#
# Exit status: 0, or 1 when tunsup did not detect a fault or did not recover
# from it in time (autossh's times are information, never a failure).
# Everything it started is stopped and its temporary directory removed, also
# when interrupted or when a step fails.
#
# Environment (set by `make demo`): TUNSUPD, TUNSUPCTL (the built binaries),
# TESTLIB (tests/integration/lib.sh, for start_sshd and friends).
# Needs sshd, ssh-keygen, socat, python3 and curl; autossh for the
# comparison. TLIB_KEEP=1 keeps the temporary directory (configs and logs);
# DEMO_NO_AUTOSSH=1 leaves autossh out.
set -eu -o pipefail

: "${TESTLIB:?run me with make demo}"
: "${TLIB_TIMEOUT:=150}"
. "$TESTLIB"

# How the demo is tuned: keepalives every 2 s, dead after 2 unanswered, on
# both clients; the bridge's sshd asks a silent client after 2 quiet seconds
# and drops it when more than 2 questions went unanswered (about 12 s with
# OpenSSH 9.2). Retries: tunsupd's and autossh's defaults.
ALIVE=2
ALIVE_COUNT=2
SERVER_ALIVE=2
SERVER_ALIVE_COUNT=2
OUTAGE=2	# seconds the server stays away in (a)
AUTOSSH_WAIT_A=15	# seconds after the server's return we wait for autossh in (a)
AUTOSSH_WAIT_B=28	# and after the fault in (b), before moving on without it

say() { printf '\n==> %s\n' "$*"; }
# run CMD...: show a command, then run it.
run() {
	local cmd=$1
	shift
	printf '$ %s %s\n' "${cmd##*/}" "$*"
	"$cmd" "$@" 2>&1
}
now() { printf '%s' "$EPOCHREALTIME"; }
# secs FROM TO: TO - FROM in seconds, one decimal.
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# stamp OUT CMD...: run CMD (stdout and stderr) in the background and write
# each line it prints to OUT as "EPOCH LINE", EPOCH when it came. Sets
# STAMP_PID (a python3 whose child is CMD).
stamp() {
	local out=$1
	shift
	python3 - "$out" "$@" </dev/null <<'PY' &
import signal, subprocess, sys, time
out = open(sys.argv[1], "a", buffering=1)
p = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL,
                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
def end(*_):
    p.terminate()
    p.wait()
    sys.exit(0)
signal.signal(signal.SIGTERM, end)
for line in p.stdout:
    out.write("%.6f %s\n" % (time.time(),
              line.decode("utf-8", "replace").rstrip("\r\n")))
p.wait()
PY
	STAMP_PID=$!
	track "$STAMP_PID"
}

# start_probes OUT HOLD NAME:PORT...: every 0.25 s an HTTP request to each
# 127.0.0.1:PORT (1 s to answer), except the NAMEs the file HOLD lists; OUT
# gets "EPOCH probe NAME works again" or "EPOCH probe NAME fails (why)" when
# that changes. Sets PROBE_PID.
start_probes() {
	local out=$1 hold=$2
	shift 2
	python3 - "$out" "$hold" "$@" </dev/null >/dev/null 2>&1 <<'PY' &
import socket, sys, threading, time
out = open(sys.argv[1], "a", buffering=1)
lock = threading.Lock()

def held(name):
    try:
        return name in open(sys.argv[2]).read().split()
    except OSError:
        return False

def probe(port):
    try:
        with socket.create_connection(("127.0.0.1", port), 1) as s:
            s.settimeout(1)
            s.sendall(b"GET / HTTP/1.0\r\nHost: demo\r\n\r\n")
            got = s.recv(64)
    except OSError as e:
        return "no answer" if isinstance(e, socket.timeout) else \
            (e.strerror or str(e)).lower()
    if got.startswith(b"HTTP/1.0 200") or got.startswith(b"HTTP/1.1 200"):
        return None
    return "closed" if not got else "bad answer"

def loop(name, port):
    last = "?"
    while True:
        t0 = time.time()
        if held(name):
            last = "held"    # the first answer after the pause is said
        else:
            why = probe(port)
            if why != last:
                with lock:
                    out.write("%.6f probe %s %s\n" % (t0, name,
                              "works again" if why is None else "fails (%s)" % why))
                last = why
        time.sleep(max(0.0, 0.25 - (time.time() - t0)))

for arg in sys.argv[3:]:
    name, port = arg.rsplit(":", 1)
    threading.Thread(target=loop, args=(name, int(port)), daemon=True).start()
while True:
    time.sleep(3600)
PY
	PROBE_PID=$!
	track "$PROBE_PID"
}

# event TEXT: a line of the demo's own in the timeline.
event() { printf '%s %s\n' "$(now)" "$*" >>"$T/events.out"; }

# stop_tree PID: stop PID and every process under it (autossh's ssh).
stop_tree() {
	local d p
	d=$(_tlib_descendants "$1")
	kill_pid "$1" 5
	for p in $d; do kill -TERM "$p" 2>/dev/null || true; done
	for p in $d; do wait_for 10 _tlib_gone "$p"; done
}

# first_after FILE T0 REGEX: the EPOCH of the first line of FILE at or after
# T0 whose text (without the epoch, and without the UTC time of a watch line)
# matches REGEX (extended), or nothing.
first_after() {
	awk -v t="$2" -v re="$3" '$1 >= t { l = $0; sub(/^[^ ]+ /, "", l); sub(/^[0-9T:-]+Z /, "", l)
	    if (l ~ re) { print $1; exit } }' "$1" 2>/dev/null || true
}

# timeline T0 T1: what happened between T0 and T1, each line with its time
# relative to T0: tunsupctl watch (its own UTC time left out), autossh, probes.
timeline() {
	{
		awk -v a="$1" -v b="$2" '$1 >= a && $1 <= b { t = $1; $1 = ""; $2 = ""; print t, "tunsup", substr($0, 3) }' "$T/watch.out"
		[ -z "$AUTOSSH" ] ||
		    awk -v a="$1" -v b="$2" '$1 >= a && $1 <= b && !/ssh child pid is/ { t = $1; $1 = ""; l = substr($0, 2)
			sub(/^[0-9\/]+ [0-9:]+ autossh\[[0-9]+\]: /, "", l); print t, "autossh", l }' "$T/autossh.out"
		awk -v a="$1" -v b="$2" '$1 >= a && $1 <= b { t = $1; $1 = ""; $2 = ""; print t, "probe", substr($0, 3) }' "$T/probe.out"
		awk -v a="$1" -v b="$2" '$1 >= a && $1 <= b { t = $1; $1 = ""; print t, "demo", substr($0, 2) }' "$T/events.out"
	} | sort -s -n -k1,1 | awk -v a="$1" '{ t = $1; w = $2; $1 = ""; $2 = ""
	    printf "  %+6.1fs %-7s %s\n", t - a, w, substr($0, 3) }' |
	    cut -c1-150
}

need_tool curl
AUTOSSH=
if [ -z "${DEMO_NO_AUTOSSH:-}" ] && command -v autossh >/dev/null 2>&1; then
	AUTOSSH=$(command -v autossh)
fi
tlib_init 2>/dev/null
# On any exit, the library's cleanup (every process started, ports, $T),
# and with them the sessions sshd forked (a black-holed one may still run),
# so that they are stopped first, after the status at a failure is shown.
demo_cleanup() {
	local rc=$? p
	set +e	# (exit "$rc") below must not end the handler
	for p in $( [ -f "$T/bridge/pid" ] && _tlib_descendants "$(cat "$T/bridge/pid")"); do
		track "$p"
	done
	(exit "$rc")
	tlib_cleanup
}
trap demo_cleanup EXIT
tunsupctl() { "$TUNSUPCTL" -S "$SOCK" "$@"; }

say "a throwaway sshd, the bridge, on 127.0.0.1 (keys generated in $T)"
start_sshd bridge "ClientAliveInterval $SERVER_ALIVE" "ClientAliveCountMax $SERVER_ALIVE_COUNT" 2>/dev/null
read -r P_HTTP P_PATH P_R P_AR P_L P_S <<<"$(free_ports 6 | tr '\n' ' ')"
start_relay "$P_PATH" "$SSHD_PORT_bridge" 2>/dev/null
host_key_line bridge "[127.0.0.1]:$P_PATH" >>"$T/known_hosts"
echo "sshd listens on 127.0.0.1:$SSHD_PORT_bridge (ClientAliveInterval $SERVER_ALIVE," \
    "ClientAliveCountMax $SERVER_ALIVE_COUNT); the network path to it is a relay on port $P_PATH"
mkdir -p "$T/www"
echo "hello from the demo web server" >"$T/www/index.html"
# python3's http.server without a line per request (the probes make many)
_tlib_server HTTP_PID http.server "$P_HTTP" "$T/http.err" python3 -c '
import functools, http.server, sys
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
h = functools.partial(H, directory=sys.argv[2])
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), h).serve_forever()
' "$P_HTTP" "$T/www"
echo "a web server on 127.0.0.1:$P_HTTP stands for this machine's sshd"

say "the fleet: $T/tunsupd.conf"
{
	echo "ServerAliveInterval $ALIVE"
	echo "ServerAliveCountMax $ALIVE_COUNT"
	tunnel_conf bridge bridge "$P_PATH"
	echo "    RemoteForward 127.0.0.1:$P_R 127.0.0.1:$P_HTTP"
	tunnel_conf web bridge
	echo "    LocalForward 127.0.0.1:$P_L 127.0.0.1:$P_HTTP"
	tunnel_conf proxy bridge
	echo "    DynamicForward 127.0.0.1:$P_S"
} >"$T/tunsupd.conf"
sed 's/^/    /' "$T/tunsupd.conf"
run "$TUNSUPD" -t -f "$T/tunsupd.conf"
start_tunsupd "$T/tunsupd.conf" 2>/dev/null
stamp "$T/watch.out" "$TUNSUPCTL" -S "$SOCK" watch
WATCH_PID=$STAMP_PID
for n in bridge web proxy; do wait_state "$n" up 30; done
run tunsupctl status

probes=("tunsup-R:$P_R" "tunsup-L:$P_L")
: >"$T/autossh.out"
if [ -n "$AUTOSSH" ]; then
	say "beside it, the bridge tunnel the way the guides write it, through the same path"
	acmd=(autossh -M 0 -N -o "ServerAliveInterval=$ALIVE" -o "ServerAliveCountMax=$ALIVE_COUNT"
	    -o ExitOnForwardFailure=yes -R "127.0.0.1:$P_AR:127.0.0.1:$P_HTTP"
	    -p "$P_PATH")
	dest=$(id -un)@127.0.0.1
	# and what the test machine needs: no config, our key and known_hosts
	aopts=(-F /dev/null -o "UserKnownHostsFile=$T/known_hosts" -o BatchMode=yes
	    -o IdentitiesOnly=yes -o IdentityAgent=none -i "$T/id_ed25519")
	echo "\$ AUTOSSH_GATETIME=0 ${acmd[*]} $dest"
	echo "(AUTOSSH_GATETIME=0 as the guides set it: with the default 30 s, an ssh that"
	echo " fails within 30 s of autossh's start makes autossh exit; AUTOSSH_POLL is left"
	echo " at 600 s, so an ssh that lived less than 60 s counts as a fast failure, and"
	echo " after 5 of them autossh waits longer and longer before the next start)"
	# its own lines (starting ssh, ssh exited) on stderr too, beside ssh's
	stamp "$T/autossh.out" env AUTOSSH_GATETIME=0 AUTOSSH_LOGFILE=/dev/stderr \
	    "$AUTOSSH" "${acmd[@]:1}" "${aopts[@]}" "$dest"
	AUTOSSH_PID=$STAMP_PID
	probes+=("autossh-R:$P_AR")
	# autossh's part is information: if it does not come up, the demo goes on without it
	if ! (wait_for 20 "port_open $P_AR") 2>/dev/null; then
		echo "autossh's forward does not work (see below): the demo goes on without it"
		sed 's/^[^ ]* /    /' "$T/autossh.out" | tail -n 5
		stop_tree "$AUTOSSH_PID"
		AUTOSSH=
		unset 'probes[2]'
	fi
else
	say "autossh is not installed: no comparison (apt-get install autossh)"
fi

say "each forward once"
run curl -sS --max-time 10 "http://127.0.0.1:$P_R/"
run curl -sS --max-time 10 "http://127.0.0.1:$P_L/"
run curl -sS --max-time 10 --socks5-hostname "127.0.0.1:$P_S" "http://localhost:$P_HTTP/"
[ -z "$AUTOSSH" ] || run curl -sS --max-time 10 "http://127.0.0.1:$P_AR/" || true
: >"$T/events.out"
start_probes "$T/probe.out" "$T/probe.hold" "${probes[@]}"
wait_for 10 "grep -q 'tunsup-R works' '$T/probe.out'"

# recovered NAME T0 LIMIT_S: wait (LIMIT_S at most) until probe NAME works
# again after T0; print its epoch, or nothing when it did not.
recovered() {
	local t
	_tlib_deadline "$3"
	while :; do
		t=$(first_after "$T/probe.out" "$2" "^probe $1 works again")
		if [ -n "$t" ] || _tlib_expired; then break; fi
		sleep 0.2
	done
	printf '%s' "$t"
}
# autossh_result T0 WAIT_S: autossh's time after T0 (waiting until WAIT_S
# after T0 at most), or why there is none.
autossh_result() {
	local t
	if [ -z "$AUTOSSH" ]; then
		echo "not installed"
		return
	fi
	t=$(recovered autossh-R "$1" \
	    "$(awk -v a="$1" -v n="$(now)" -v w="$2" 'BEGIN { w += a - n; print (w > 0 ? w : 0) }')")
	if [ -n "$t" ]; then
		echo "$(secs "$1" "$t") s"
	else
		echo "not within $(secs "$1" "$(now)") s"
	fi
}
# went_down NAME T0 LIMIT_S: tunnel NAME left up (watch) after T0.
went_down() {
	wait_for "$3" "[ -n \"\$(first_after '$T/watch.out' '$2' '^$1 (up|degraded) -> backoff')\" ]"
}
# timeouts: how many sessions sshd has dropped for not answering.
timeouts() { grep -c 'Timeout, client not responding' "$T/bridge/sshd.log" || true; }

# ---- (a) the server goes away and comes back ----------------------------------
say "fault (a): the bridge goes away (sshd, its sessions, the path) for $OUTAGE s"
ta=$(now)
event "fault (a): sshd, its sessions and the path to it killed"
kill_pid "$RELAY_PID" 5
stop_sshd bridge 2>/dev/null
sleep "$OUTAGE"	# the outage itself, not a wait for something
_tlib_start_sshd bridge 2>/dev/null
tb=$(now)	# nothing can work again before this
event "sshd back, same port"
start_relay "$P_PATH" "$SSHD_PORT_bridge" 2>/dev/null
event "the path to it back"
for n in bridge web proxy; do
	went_down "$n" "$ta" 15
	wait_state "$n" up 30
done
ra=$(recovered tunsup-R "$tb" 20)
[ -n "$ra" ] || fail "tunsup's RemoteForward does not work again"
[ -n "$(recovered tunsup-L "$tb" 10)" ] || fail "tunsup's LocalForward does not work again"
# the whole fleet: the last tunnel up again
fa=$(for n in bridge web proxy; do first_after "$T/watch.out" "$tb" "^$n [a-z]+ -> up"; done | sort -n | tail -n 1)
fa=$(printf '%s\n%s\n' "$fa" "$ra" | sort -n | tail -n 1)
tunsup_a="$(secs "$tb" "$ra") s (fleet $(secs "$tb" "$fa") s)"
autossh_a=$(autossh_result "$tb" "$AUTOSSH_WAIT_A")
timeline "$ta" "$(now)"

# ---- (b) a dead session holds the remote port ---------------------------------
say "fault (b): the path goes silent for the sessions open now; new ones pass"
echo "(sshd keeps the old sessions, and their remote ports, until more than $SERVER_ALIVE_COUNT of its"
echo " questions went unanswered; it asks only after $SERVER_ALIVE s without any activity on a"
echo " session, so connections arriving at a held port put it off: the probes of the"
echo " remote ports pause until sshd has dropped the dead sessions)"
echo "tunsup-R autossh-R" >"$T/probe.hold"
held0=$(grep -c 'black-holed' "$T/relay.log" || true)
gone0=$(timeouts)
tf=$(now)
event "fault (b): the path black-holes the sessions open now"
kill -USR1 "$RELAY_PID"
wait_for 5 "[ \"\$(grep -c 'black-holed' '$T/relay.log')\" -gt $held0 ]"
nheld=$(grep 'black-holed' "$T/relay.log" | tail -n 1 | awk '{ print $3 }')
went_down bridge "$tf" $((ALIVE * ALIVE_COUNT + 10))
det=$(first_after "$T/watch.out" "$tf" '^bridge (up|degraded) -> backoff')
# sshd asks every 1-2 intervals (OpenSSH 9.2 waits for a second more than one)
wait_for $((2 * SERVER_ALIVE * (SERVER_ALIVE_COUNT + 1) + 20)) "[ \"\$(timeouts)\" -ge $((gone0 + nheld)) ]"
tfree=$(now)
event "sshd dropped the $nheld dead session(s) (Timeout, client not responding): remote ports free"
rm -f "$T/probe.hold"
wait_state bridge up 60
rb=$(recovered tunsup-R "$tf" 15)
[ -n "$rb" ] || fail "tunsup's RemoteForward does not work again"
deg=$(first_after "$T/watch.out" "$tf" '^bridge [a-z]+ -> degraded')
tunsup_b="$(secs "$tf" "$rb") s"
if [ -n "$AUTOSSH" ] && [ "$nheld" -lt 2 ]; then
	autossh_b="- (had no session: still down from (a))"
else
	autossh_b=$(autossh_result "$tf" "$AUTOSSH_WAIT_B")
fi
timeline "$tf" "$(now)"

say "summary"
echo "  when each RemoteForward worked again (the probe's first answer)"
printf '  %-54s %-22s %s\n' "fault" "tunsup" "autossh"
printf '  %-54s %-22s %s\n' "(a) server away $(secs "$ta" "$tb") s; from its return" "$tunsup_a" "$autossh_a"
printf '  %-54s %-22s %s\n' "(b) dead session held the port $(secs "$tf" "$tfree") s; from the fault" "$tunsup_b" "$autossh_b"
echo "  in (b) tunsup saw the silence after $(secs "$tf" "$det") s; $(
	if [ -n "$deg" ]; then
		echo "degraded (port still held) after $(secs "$tf" "$deg") s,"
	else
		echo "the port was free before it asked,"
	fi) up in the same session after $(secs "$tf" "$rb") s"

say "the fleet now, as a monitoring system sees it"
run tunsupctl status
run tunsupctl check

say "cleaning up: everything started is stopped, $T removed"
if [ -n "$AUTOSSH" ]; then
	stop_tree "$AUTOSSH_PID"
fi
stop_server "$PROBE_PID"
stop_tunsupd
wait_pid "$WATCH_PID" 10 || true
stop_sshd bridge 2>/dev/null
echo "done."
