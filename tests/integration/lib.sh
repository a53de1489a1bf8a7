# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# tunsup integration test library, in the spirit of OpenSSH's regress/test-exec.sh.
#
# Every integration test does
#
#	. "$TESTLIB"
#	tlib_init
#
# and then starts its own sshd(s) on 127.0.0.1 with start_sshd, writes a config
# with conf_header/tunnel_conf, runs tunsupd with start_tunsupd and awaits states with
# wait_state/wait_for (never a bare sleep as synchronisation).
#
# Environment (exported by `make check`): TUNSUPD, TUNSUPCTL (absolute paths of the
# built binaries), TESTLIB (this file), TOP_SRCDIR, TOP_BUILDDIR.
# Optional: TLIB_TIMEOUT (whole-test watchdog, seconds, default 300), TLIB_KEEP=1
# (keep the temp dir), TLIB_LOG_LINES (lines of each log shown on failure, 400).
#
# Everything binds and connects to 127.0.0.1 only. The library is safe under
# `set -eu -o pipefail` and kills only the processes it started.

TLIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SSHD=${SSHD:-/usr/sbin/sshd}
TUNSUPD=${TUNSUPD:-}
TUNSUPCTL=${TUNSUPCTL:-}
T=
SOCK=
TUNSUPD_PID=
SSHD_PORT=
SSHD_PID=

# ---- reporting -------------------------------------------------------------

log() { printf '%s %s\n' "$(date +%H:%M:%S.%3N)" "$*" >&2; }
pass() { printf 'ok - %s\n' "$*"; }
fail() {
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}

# skip MSG: exit 77, allowed only when a tool is really absent and never under CI.
skip() {
	if [ -n "${CI:-}" ]; then
		fail "would skip under CI: $*"
	fi
	printf 'SKIP: %s\n' "$*" >&2
	exit 77
}

need_tool() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || skip "$t not installed"
	done
}

# ---- setup and teardown ----------------------------------------------------

tlib_init() {
	need_tool python3 socat ssh ssh-keygen timeout
	[ -x "$SSHD" ] || skip "$SSHD not installed"
	T=$(mktemp -d "${TMPDIR:-/tmp}/tunsup-test.XXXXXX")
	: >"$T/pids"
	: >"$T/ports"
	trap tlib_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	ssh-keygen -q -t ed25519 -N '' -C tunsup-test -f "$T/id_ed25519" </dev/null
	: >"$T/known_hosts"
	# tunsupd keeps runtime changes here (tunsupd.conf(5), STATE FILE),
	# never in the system's state directory.
	export STATE_DIRECTORY=$T/state
	if [ "$(id -u)" = 0 ]; then
		mkdir -p /run/sshd
	fi
	_tlib_python
	_tlib_watchdog "${TLIB_TIMEOUT:-300}"
	log "test dir $T"
}

# python3 resolved once, not through a version manager's shim on every start:
# pyenv's shim took 0.38 s a start on a CI machine (the interpreter itself
# 0.04-0.08 s), and the tests start python3 for every status field they read,
# so their polls fell seconds behind the daemon under load (check_now.sh,
# fallback_host.sh failed). $T/py/python3 runs the interpreter the shim would.
_tlib_python() {
	local py
	py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) &&
	    [ -x "$py" ] || return 0
	mkdir "$T/py"
	printf '#!/bin/sh\nexec "%s" "$@"\n' "$py" >"$T/py/python3"
	chmod 0755 "$T/py/python3"
	PATH=$T/py:$PATH
}

# A whole-test deadline: a hung test fails instead of hanging `make check`.
_tlib_watchdog() {
	local secs=$1 main=$$
	(
		trap 'kill "$sp" 2>/dev/null; exit 0' TERM
		sleep "$secs" &
		sp=$!
		wait "$sp"
		echo "FAIL: watchdog: test still running after ${secs}s" >&2
		while read -r p; do
			kill -TERM "$p" 2>/dev/null || true
			kill -CONT "$p" 2>/dev/null || true
		done <"$T/pids"
		kill -TERM "$main" 2>/dev/null || true
	) &
	_TLIB_WATCHDOG=$!
}

# track PID: remember a pid we started, so that cleanup kills it (and only it).
track() { echo "$1" >>"$T/pids"; }
untrack() {
	local p
	[ -f "$T/pids" ] || return 0
	p=$(grep -vxF -- "$1" "$T/pids" || true)
	printf '%s\n' "$p" | sed '/^$/d' >"$T/pids"
}

# kill_pid PID [TIMEOUT_S]: TERM (and CONT, for a stopped relay), then KILL after the
# timeout; reaps it if it is our child. Also ends the direct children of a forking
# server we started (socat fork), by parent pid, not by name.
kill_pid() {
	local pid=$1 tmo=${2:-5} i=0 c
	[ -n "$pid" ] || return 0
	if kill -0 "$pid" 2>/dev/null; then
		for c in $(_tlib_children "$pid"); do
			kill -TERM "$c" 2>/dev/null || true
		done
		kill -TERM "$pid" 2>/dev/null || true
		kill -CONT "$pid" 2>/dev/null || true
		while kill -0 "$pid" 2>/dev/null && [ "$i" -lt $((tmo * 10)) ]; do
			# a zombie child counts as alive until reaped
			if [ "$(_tlib_pstate "$pid")" = Z ]; then break; fi
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
	untrack "$pid"
}

# _tlib_pstate PID: the state letter (R, S, T, Z...) from /proc, empty if gone. The
# command name in parentheses may hold spaces ("sshd: root [priv]"), so cut after it.
_tlib_pstate() {
	local st
	read -r st 2>/dev/null <"/proc/$1/stat" || return 0
	st=${st##*) }
	echo "${st%% *}"
}

# _tlib_children PID: the pids whose parent is PID (from /proc, no procps needed).
_tlib_children() {
	local f st pid
	for f in /proc/[0-9]*/stat; do
		read -r st 2>/dev/null <"$f" || continue
		pid=${st%% *}
		st=${st##*) }
		st=${st#* }
		[ "${st%% *}" = "$1" ] && echo "$pid"
	done
	return 0
}

# wait_pid PID TIMEOUT_S: wait until a process we started exits; returns its status.
wait_pid() {
	local pid=$1 tmo=$2 rc=0
	_tlib_deadline "$tmo"
	while kill -0 "$pid" 2>/dev/null && [ "$(_tlib_pstate "$pid")" != Z ]; do
		_tlib_expired && fail "process $pid still running after ${tmo}s"
		sleep 0.1
	done
	wait "$pid" 2>/dev/null || rc=$?
	untrack "$pid"
	return "$rc"
}

_tlib_show_log() {
	local f=$1 n=${TLIB_LOG_LINES:-400} lines
	[ -s "$f" ] || return 0
	lines=$(wc -l <"$f")
	echo "----- $f ($lines lines$([ "$lines" -gt "$n" ] && echo ", last $n")) -----" >&2
	tail -n "$n" "$f" >&2
}

tlib_cleanup() {
	local rc=$? p f
	trap - EXIT INT TERM
	set +e
	# what a test set up outside $T (a uprobe), undone first
	[ -z "${TLIB_AT_EXIT:-}" ] || eval "$TLIB_AT_EXIT"
	if [ -n "${_TLIB_WATCHDOG:-}" ]; then
		kill "$_TLIB_WATCHDOG" 2>/dev/null
		wait "$_TLIB_WATCHDOG" 2>/dev/null
	fi
	if [ -n "$T" ] && [ -d "$T" ]; then
		if [ "$rc" -ne 0 ] && [ -n "$SOCK" ] && [ -S "$SOCK" ] && [ -n "$TUNSUPD_PID" ] &&
		    kill -0 "$TUNSUPD_PID" 2>/dev/null; then
			echo "----- status at failure -----" >&2
			timeout 5 "$TUNSUPCTL" -S "$SOCK" --json status >&2 2>&1
		fi
		# newest first: clients before the servers they talk to
		if [ -f "$T/pids" ]; then
			for p in $(tac "$T/pids"); do
				kill_pid "$p" 3
			done
		fi
		if [ "$rc" -ne 0 ]; then
			_tlib_show_log "$T/tunsupd.log"
			for f in "$T"/*/sshd.log "$T"/*.log; do
				[ "$f" = "$T/tunsupd.log" ] && continue
				[ -f "$f" ] && _tlib_show_log "$f"
			done
			echo "FAIL: exit status $rc" >&2
		fi
		if [ -f "$T/ports" ]; then
			for p in $(cat "$T/ports"); do
				rm -f "$TLIB_PORTDIR/$p"
			done
		fi
		if [ -n "${TLIB_KEEP:-}" ]; then
			echo "kept $T" >&2
		else
			rm -rf "$T"
		fi
	fi
	exit "$rc"
}

# ---- time ------------------------------------------------------------------

_tlib_now_us() { echo "${EPOCHREALTIME/./}"; }
# seconds may be fractional ("0.5"); sets the deadline for _tlib_expired
_tlib_deadline() {
	local us
	us=$(awk -v s="$1" 'BEGIN { printf "%d", s * 1000000 }')
	_TLIB_DEADLINE=$(($(_tlib_now_us) + us))
}
_tlib_expired() { [ "$(_tlib_now_us)" -ge "$_TLIB_DEADLINE" ]; }

# wait_for TIMEOUT_S CMD...: retry CMD every 0.1 s until it succeeds; fail on timeout
# with the command text and its last output. A single argument is eval'ed, so
#	wait_for 10 '[ "$(tstate web)" = up ]'
# re-evaluates the substitution each round.
wait_for() {
	local tmo=$1 out=$T/wait_for.out
	shift
	_tlib_deadline "$tmo"
	while :; do
		if [ $# -eq 1 ]; then
			if (eval "$1") >"$out" 2>&1; then return 0; fi
		else
			if "$@" >"$out" 2>&1; then return 0; fi
		fi
		if _tlib_expired; then
			cat "$out" >&2 2>/dev/null
			fail "timed out after ${tmo}s waiting for: $*"
		fi
		sleep 0.1
	done
}

# ---- ports -----------------------------------------------------------------

# free_port: a TCP port free on 127.0.0.1, below the ephemeral range (so that our
# own outgoing connections cannot take it), never handed out twice in one test and
# reserved against concurrently running tests (make check -j) in $TLIB_PORTDIR until
# this test ends.
# free_ports N: N such ports, one per line (one python start for all of them).
TLIB_PORTDIR=${TLIB_PORTDIR:-${TMPDIR:-/tmp}/tunsup-test-ports}
free_port() { free_ports 1; }
free_ports() {
	python3 - "$T/ports" "$TLIB_PORTDIR" "$$" "$1" <<'EOF'
import errno, os, random, socket, sys
mine, regdir, owner, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
os.makedirs(regdir, exist_ok=True)
lo, hi = 20000, 32000
try:
    hi = min(hi, int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0]))
except Exception:
    pass

def bindable(p):
    for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        try:
            s = socket.socket(fam, socket.SOCK_STREAM)
        except OSError:
            continue
        try:
            s.bind((addr, p))
        except OSError as e:
            # no IPv6 on loopback is fine; a port in use is not
            if fam == socket.AF_INET or e.errno == errno.EADDRINUSE:
                return False
        finally:
            s.close()
    return True

def reserve(p):
    path = os.path.join(regdir, str(p))
    for _ in range(2):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.write(fd, b"%d\n" % owner)
            os.close(fd)
            return True
        except FileExistsError:
            try:
                pid = int(open(path).read().split()[0])
                os.kill(pid, 0)
                return False  # a live test holds it
            except ProcessLookupError:
                os.unlink(path)  # its test is gone: stale
            except (ValueError, IndexError, OSError):
                return False
    return False

got = []
for _ in range(5000 * count):
    if len(got) == count:
        break
    p = random.randrange(lo, hi)
    if p not in got and bindable(p) and reserve(p):
        got.append(p)
        with open(mine, "a") as f:
            f.write("%d\n" % p)
if len(got) < count:
    sys.exit("free_ports: only %d of %d free" % (len(got), count))
print("\n".join(str(p) for p in got))
EOF
}

# port_listening PORT: something listens on PORT (any local address), read from /proc
# without connecting (a connect would use up a single-shot socat listener).
port_listening() {
	local hex
	hex=$(printf '%04X' "$1")
	awk -v h="$hex" 'FNR > 1 && $4 == "0A" { n = split($2, a, ":"); if (a[n] == h) f = 1 }
	    END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# port_bindable PORT: a listener can take 127.0.0.1:PORT again, as a server
# would take it (SO_REUSEADDR: a connection of the old listener's in TIME_WAIT
# does not count; another listener does).
port_bindable() {
	python3 -c 'import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)' "$1"
}

# port_open PORT: a TCP connection to 127.0.0.1:PORT succeeds (and is closed at once).
port_open() {
	python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 2).close()' "$1" 2>/dev/null
}

# ---- sshd ------------------------------------------------------------------

_tlib_var() { printf '%s' "$1" | tr -c 'A-Za-z0-9_' '_'; }

# start_sshd NAME [CONFIG_LINE...]: a private sshd on 127.0.0.1 with its own host key
# and authorized_keys (the test key, unrestricted). More sshd_config lines come as
# arguments or on stdin (a here-document). Sets SSHD_PORT, SSHD_PID and
# SSHD_PORT_<NAME>, SSHD_PID_<NAME> (NAME as given and upper-cased; other characters
# than [A-Za-z0-9_] become _), and adds the host key to $T/known_hosts as
# "[127.0.0.1]:PORT". Calling it again for a stopped NAME restarts it with the same
# config, port and key (so a test can reserve a port: start_sshd x; stop_sshd x).
start_sshd() {
	local name=$1 d=$T/$1 port line try
	shift
	mkdir -p "$d"
	if [ ! -f "$d/config" ]; then
		port=$(free_port)
		ssh-keygen -q -t ed25519 -N '' -C "sshd-$name" -f "$d/ssh_host_ed25519_key" </dev/null
		cat "$T/id_ed25519.pub" >"$d/authorized_keys"
		{
			for line in "$@"; do
				printf '%s\n' "$line"
			done
			# a here-document, if any: read -t 0 does not block on a tty or
			# an idle pipe, and each line has its own timeout
			line=
			if [ ! -t 0 ] && read -r -t 0 2>/dev/null; then
				while IFS= read -r -t 2 line || [ -n "$line" ]; do
					printf '%s\n' "$line"
					line=
				done
			fi
		} >"$d/extra"
		{
			echo "# sshd $name for tunsup tests"
			# sshd keeps the first value of a keyword: the test's own lines
			# come first, except a Match block and what follows it
			sed '/^[[:space:]]*[Mm][Aa][Tt][Cc][Hh][[:space:]]/,$d' "$d/extra"
			echo "ListenAddress 127.0.0.1"
			echo "Port $port"
			echo "HostKey $d/ssh_host_ed25519_key"
			echo "PidFile $d/sshd.pid"
			echo "AuthorizedKeysFile $d/authorized_keys"
			echo "StrictModes no"
			echo "UsePAM no"
			echo "PermitRootLogin prohibit-password"
			echo "PubkeyAuthentication yes"
			echo "PasswordAuthentication no"
			echo "KbdInteractiveAuthentication no"
			echo "HostbasedAuthentication no"
			echo "AllowTcpForwarding yes"
			echo "X11Forwarding no"
			echo "PrintMotd no"
			echo "PrintLastLog no"
			echo "UseDNS no"
			echo "MaxStartups 100:30:200"
			echo "LogLevel VERBOSE"
			if _tlib_sshd_knows PerSourcePenalties; then
				# OpenSSH >= 9.8 would lock out 127.0.0.1 after the auth
				# failures some tests provoke on purpose
				echo "PerSourcePenalties no"
			fi
			sed -n '/^[[:space:]]*[Mm][Aa][Tt][Cc][Hh][[:space:]]/,$p' "$d/extra"
		} >"$d/config"
		# a port free when picked may be taken by the time sshd starts
		# (another program's listener): pick again rather than fail
		for try in 1 2 3; do
			port_listening "$port" || break
			log "sshd $name: port $port taken meanwhile, picking another"
			port=$(free_port)
			sed -i "s/^Port .*/Port $port/" "$d/config"
		done
	fi
	_tlib_start_sshd "$name"
}

_tlib_sshd_knows() {
	local f=$T/.sshd_knows_$1
	if [ ! -f "$f" ]; then
		if "$SSHD" -t -f /dev/null -o "$1=no" -h "$T/id_ed25519" >/dev/null 2>&1; then
			echo yes >"$f"
		else
			echo no >"$f"
		fi
	fi
	[ "$(cat "$f")" = yes ]
}

_tlib_start_sshd() {
	local name=$1 d=$T/$1 port v out pid pubkey
	port=$(awk '$1 == "Port" { print $2; exit }' "$d/config")
	if ! out=$("$SSHD" -t -f "$d/config" 2>&1); then
		printf '%s\n' "$out" >&2
		cat -n "$d/config" >&2
		fail "sshd -t rejects the config of $name"
	fi
	if port_listening "$port"; then
		fail "sshd $name: port $port already in use"
	fi
	echo "----- start $(date +%T.%3N)" >>"$d/sshd.log"
	"$SSHD" -D -e -f "$d/config" </dev/null 2>>"$d/sshd.log" &
	pid=$!
	track "$pid"
	_tlib_deadline 10
	until port_listening "$port"; do
		if ! kill -0 "$pid" 2>/dev/null || [ "$(_tlib_pstate "$pid")" = Z ]; then
			cat "$d/sshd.log" >&2
			fail "sshd $name exited at startup"
		fi
		_tlib_expired && fail "sshd $name not listening on $port after 10s"
		sleep 0.05
	done
	SSHD_PORT=$port
	SSHD_PID=$pid
	v=$(_tlib_var "$name")
	printf -v "SSHD_PORT_$v" '%s' "$port"
	printf -v "SSHD_PID_$v" '%s' "$pid"
	export "SSHD_PORT_$v" "SSHD_PID_$v"
	v=$(printf '%s' "$v" | tr 'a-z' 'A-Z')
	printf -v "SSHD_PORT_$v" '%s' "$port"
	printf -v "SSHD_PID_$v" '%s' "$pid"
	export "SSHD_PORT_$v" "SSHD_PID_$v" SSHD_PORT SSHD_PID
	echo "$pid" >"$d/pid"
	pubkey=$(cut -d' ' -f1,2 "$d/ssh_host_ed25519_key.pub")
	echo "[127.0.0.1]:$port $pubkey" >"$d/known_hosts"
	if ! grep -qxF "[127.0.0.1]:$port $pubkey" "$T/known_hosts"; then
		echo "[127.0.0.1]:$port $pubkey" >>"$T/known_hosts"
	fi
	log "sshd $name: pid $pid port $port"
}

# sshd_port NAME / sshd_pid NAME: of a started sshd.
sshd_port() { awk '$1 == "Port" { print $2; exit }' "$T/$1/config"; }
sshd_pid() { cat "$T/$1/pid"; }

# host_key_line NAME [HOSTPATTERN]: the known_hosts line of sshd NAME, for
# HOSTPATTERN (default "[127.0.0.1]:PORT").
host_key_line() {
	local pat=${2:-"[127.0.0.1]:$(sshd_port "$1")"}
	echo "$pat $(cut -d' ' -f1,2 "$T/$1/ssh_host_ed25519_key.pub")"
}

# stop_sshd NAME: kill it and its direct children (the per-connection monitors), so
# that the sessions it served end too, as when a server goes down. start_sshd NAME
# starts it again on the same port (restart_sshd does both).
# _tlib_descendants PID: every process PID forked, and theirs.
_tlib_descendants() {
	local c
	for c in $(_tlib_children "$1"); do
		echo "$c"
		_tlib_descendants "$c"
	done
}
_tlib_gone() { ! kill -0 "$1" 2>/dev/null || [ "$(_tlib_pstate "$1")" = Z ]; }

# stop_sshd NAME: the listener and every process it forked. A session's child can
# outlive its monitor and keep a -R listener and the TCP connection up: the
# outage would not be real.
stop_sshd() {
	local pid d p
	pid=$(cat "$T/$1/pid")
	d=$(_tlib_descendants "$pid")
	kill_pid "$pid" 5
	for p in $d; do kill -TERM "$p" 2>/dev/null || true; done
	for p in $d; do wait_for 10 _tlib_gone "$p"; done
	log "sshd $1 stopped"
}

# restart_sshd NAME: same config, same port, same host key.
restart_sshd() {
	local port
	port=$(sshd_port "$1")
	stop_sshd "$1"
	wait_for 10 "! port_listening $port"
	_tlib_start_sshd "$1"
}

# authorize NAME OPTIONS PUBKEYFILE: append a key (with authorized_keys options, may
# be empty) to the authorized_keys of sshd NAME.
authorize() {
	local opts=$2 key
	key=$(cut -d' ' -f1,2 "$3")
	if [ -n "$opts" ]; then
		echo "$opts $key" >>"$T/$1/authorized_keys"
	else
		echo "$key" >>"$T/$1/authorized_keys"
	fi
}

# unauthorize NAME: empty the authorized_keys of sshd NAME (nobody gets in).
unauthorize() { : >"$T/$1/authorized_keys"; }

# gen_key FILE: a new ed25519 key pair FILE, FILE.pub.
gen_key() { ssh-keygen -q -t ed25519 -N '' -C tunsup-test -f "$1" </dev/null; }

# tssh [ssh options] DEST [command]: the stock client with test options: no config,
# batch mode, key $TSSH_KEY (default the test key), known_hosts $TSSH_KNOWN_HOSTS
# (default $T/known_hosts), StrictHostKeyChecking $TSSH_STRICT (default yes).
# ssh keeps the FIRST value of an option, so override these through the variables,
# not with -o.
tssh() {
	ssh -F /dev/null -o "UserKnownHostsFile=${TSSH_KNOWN_HOSTS:-$T/known_hosts}" \
	    -o "StrictHostKeyChecking=${TSSH_STRICT:-yes}" -o BatchMode=yes \
	    -o IdentitiesOnly=yes -o IdentityAgent=none \
	    -o "ConnectTimeout=${TSSH_CONNECT_TIMEOUT:-5}" -o LogLevel=ERROR \
	    -i "${TSSH_KEY:-$T/id_ed25519}" "$@"
}

# ---- tunsupd ---------------------------------------------------------------

# conf_header: fast defaults for a test config (retries and keepalives in seconds).
conf_header() {
	cat <<EOF
# generated by tunsup integration tests
RetryMin 200ms
RetryMax 2s
RetryNetworkMax 1s
ServerAliveInterval 1
ServerAliveCountMax 3
ConnectTimeout 3
EOF
}

# tunnel_conf NAME SSHD_NAME [PORT [IDENTITYFILE]]: the common lines of a tunnel block
# to that sshd (PORT: another port to reach it, e.g. a relay's; IDENTITYFILE instead of
# the test key); the caller appends forwards and other keywords.
# tunnel_kh NAME SSHD FILE [STRICT]: tunnel_conf's block with its own known_hosts
# FILE (under $T unless absolute) and, if given, StrictHostKeyChecking STRICT.
tunnel_kh() {
	local f=$3
	case $f in /*) ;; *) f=$T/$f ;; esac
	tunnel_conf "$1" "$2" | sed "s|^\( *UserKnownHostsFile\) .*|\1 $f|"
	[ -z "${4:-}" ] || echo "    StrictHostKeyChecking $4"
}
tunnel_conf() {
	local port=${3:-}
	[ -n "$port" ] || port=$(sshd_port "$2")
	cat <<EOF
Tunnel $1
    HostName 127.0.0.1
    Port $port
    User $(id -un)
    IdentityFile ${4:-$T/id_ed25519}
    IdentityAgent none
    UserKnownHostsFile $T/known_hosts
EOF
}

# start_tunsupd CONFIG [ARGS...]: run the daemon (stderr into $T/tunsupd.log) and wait
# until its control socket answers. Sets TUNSUPD_PID and SOCK.
start_tunsupd() {
	local conf=$1 pid
	shift
	[ -x "$TUNSUPD" ] || fail "TUNSUPD not set or not executable: '$TUNSUPD'"
	[ -x "$TUNSUPCTL" ] || fail "TUNSUPCTL not set or not executable: '$TUNSUPCTL'"
	SOCK=$T/ctl.sock
	echo "----- start $(date +%T.%3N): $TUNSUPD -f $conf -S $SOCK -vv $*" >>"$T/tunsupd.log"
	"$TUNSUPD" -f "$conf" -S "$SOCK" -vv "$@" </dev/null >>"$T/tunsupd.log" 2>&1 &
	pid=$!
	track "$pid"
	TUNSUPD_PID=$pid
	_tlib_deadline 10
	until "$TUNSUPCTL" -S "$SOCK" --json status >/dev/null 2>&1; do
		if ! kill -0 "$pid" 2>/dev/null || [ "$(_tlib_pstate "$pid")" = Z ]; then
			local rc=0
			wait "$pid" 2>/dev/null || rc=$?
			untrack "$pid"
			TUNSUPD_PID=
			cat "$T/tunsupd.log" >&2
			fail "tunsupd exited at startup (status $rc)"
		fi
		_tlib_expired && fail "tunsupd control socket $SOCK not answering after 10s"
		sleep 0.05
	done
	log "tunsupd: pid $pid"
}

# stop_tunsupd: SIGTERM, wait (10 s at most); returns the daemon's exit status.
stop_tunsupd() {
	local pid=$TUNSUPD_PID rc=0
	[ -n "$pid" ] || fail "stop_tunsupd: no tunsupd running"
	kill -TERM "$pid" 2>/dev/null || true
	_tlib_deadline 10
	while kill -0 "$pid" 2>/dev/null && [ "$(_tlib_pstate "$pid")" != Z ]; do
		if _tlib_expired; then
			kill -KILL "$pid" 2>/dev/null || true
			fail "tunsupd did not exit within 10s of SIGTERM"
		fi
		sleep 0.05
	done
	wait "$pid" 2>/dev/null || rc=$?
	untrack "$pid"
	TUNSUPD_PID=
	return "$rc"
}

# ctl ARGS...: tunsupctl on our socket.
ctl() { "$TUNSUPCTL" -S "$SOCK" "$@"; }

# jget PATH: read JSON on stdin, print the value at PATH: `a.b`, `[0]`, and
# `[key=value]` to pick a list element by a field, e.g.
# 'tunnels[name=web].forwards[0].state'. Strings raw, null as "null", others as JSON.
# Exits 1 (message on stderr) if the path does not exist or stdin is not JSON.
jget() {
	python3 -c '
import json, re, sys
path = sys.argv[1]
try:
    v = json.load(sys.stdin)
except ValueError as e:
    sys.exit("jget: invalid JSON: %s" % e)
toks = re.findall(r"\[([^\]]*)\]|([^.\[\]]+)", path)
where = ""
for idx, key in toks:
    try:
        if key:
            v = v[key]
            where += "." + key
        elif "=" in idx:
            k, want = idx.split("=", 1)
            v = next(e for e in v if isinstance(e, dict) and str(e.get(k)) == want)
            where += "[%s]" % idx
        else:
            v = v[int(idx)]
            where += "[%s]" % idx
    except (KeyError, IndexError, TypeError, ValueError, StopIteration):
        sys.exit("jget: no %s%s" % (where, "." + key if key else "[%s]" % idx))
if isinstance(v, str):
    print(v)
elif v is None:
    print("null")
else:
    print(json.dumps(v, separators=(",", ":")))
' "$1"
}

# expect_rc WANT CMD...: run CMD, its stdout in $T/out and stderr in $T/err,
# and fail unless it exits WANT.
expect_rc() {
	local want=$1 rc=0
	shift
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	if [ "$rc" != "$want" ]; then
		echo "--- stdout" >&2
		cat "$T/out" >&2
		echo "--- stderr" >&2
		cat "$T/err" >&2
		fail "$* exited $rc, not $want"
	fi
}

# status_json: the full status reply.
status_json() { ctl --json status; }

# tfield NAME FIELD: a field of tunnel NAME (e.g. connects, last_error,
# keepalive.rtt_ms).
tfield() { ctl --json status | jget "tunnels[name=$1].$2"; }

# tstate NAME: the state of tunnel NAME.
tstate() { tfield "$1" state; }

# loopf FIELD: a field of the daemon's event loop statistics (e.g. turns,
# turns_over_100ms).
loopf() { status_json | jget "loop.$1"; }

# fwd_field NAME INDEX FIELD: a field of forward INDEX of tunnel NAME.
fwd_field() { ctl --json status | jget "tunnels[name=$1].forwards[$2].$3"; }

# state_is NAME STATE: true if tunnel NAME is in STATE ("a|b" for any of several).
state_is() {
	local s
	s=$(tstate "$1") || return 1
	case "|$2|" in
	*"|$s|"*) return 0 ;;
	*) return 1 ;;
	esac
}

# wait_state NAME STATE TIMEOUT_S: wait until tunnel NAME is in STATE ("a|b" allowed);
# on timeout print the full status and fail.
wait_state() {
	local name=$1 want=$2 tmo=$3
	_tlib_deadline "$tmo"
	until state_is "$name" "$want"; do
		if _tlib_expired; then
			echo "----- status -----" >&2
			ctl --json status >&2 2>&1 || true
			fail "tunnel $name not $want after ${tmo}s (state $(tstate "$name" 2>/dev/null || echo '?'))"
		fi
		sleep 0.1
	done
}

# ---- data ------------------------------------------------------------------

# sha FILE: the sha256 of FILE, hex.
sha() { sha256sum "$1" | cut -d' ' -f1; }
# remember FILE...: the files of $T as they are now, for unchanged.
remember() {
	local f
	for f; do sha "$T/$f" >"$T/$f.sha"; done
}
# unchanged FILE: fail unless FILE of $T is as remember saw it.
unchanged() { [ "$(sha "$T/$1")" = "$(cat "$T/$1.sha")" ] || fail "$1 was modified: $(cat "$T/$1")"; }

# mkdata FILE MIB: MIB MiB of random data.
mkdata() { head -c $(($2 * 1048576)) /dev/urandom >"$1"; }

# _tlib_server VAR WHAT PORT LOG CMD...: run a server in the background, track it,
# set VAR to its pid and wait until it listens on PORT.
_tlib_server() {
	local var=$1 what=$2 port=$3 logf=$4 pid
	shift 4
	"$@" </dev/null >>"$logf" 2>&1 &
	pid=$!
	track "$pid"
	printf -v "$var" '%s' "$pid"
	_tlib_deadline 10
	until port_listening "$port"; do
		if ! kill -0 "$pid" 2>/dev/null || [ "$(_tlib_pstate "$pid")" = Z ]; then
			fail "$what on port $port exited at startup"
		fi
		_tlib_expired && fail "$what not listening on $port after 10s"
		sleep 0.05
	done
}

# start_sink PORT OUTFILE: accept one connection on 127.0.0.1:PORT and write what
# arrives to OUTFILE; exits after EOF. Sets SINK_PID (wait_pid "$SINK_PID" ...).
start_sink() {
	_tlib_server SINK_PID sink "$1" "$T/socat.log" \
	    socat -u "TCP-LISTEN:$1,bind=127.0.0.1,reuseaddr" "OPEN:$2,creat,trunc"
}

# start_source PORT INFILE: accept one connection on 127.0.0.1:PORT, send INFILE,
# close. Sets SOURCE_PID.
start_source() {
	_tlib_server SOURCE_PID source "$1" "$T/socat.log" \
	    socat -u "OPEN:$2" "TCP-LISTEN:$1,bind=127.0.0.1,reuseaddr"
}

# start_echo PORT: an echo server on 127.0.0.1:PORT (any number of connections).
# Sets ECHO_PID.
start_echo() {
	_tlib_server ECHO_PID echo "$1" "$T/socat.log" \
	    socat -t 30 "TCP-LISTEN:$1,bind=127.0.0.1,reuseaddr,fork,backlog=256" EXEC:cat
}

# start_http PORT DIR: python3's http.server for DIR on 127.0.0.1:PORT. Sets HTTP_PID.
start_http() {
	_tlib_server HTTP_PID http.server "$1" "$T/http.log" \
	    python3 -m http.server --bind 127.0.0.1 --directory "$2" "$1"
}

# start_relay LISTEN_PORT TARGET_PORT [--rate BYTES_PER_SEC]: relay.py between
# 127.0.0.1 ports (kill -STOP "$RELAY_PID" makes a black hole). Sets RELAY_PID.
start_relay() {
	local lport=$1 tport=$2
	shift 2
	_tlib_server RELAY_PID relay "$lport" "$T/relay.log" \
	    python3 "$TLIB_DIR/relay.py" "$@" "$lport" "$tport"
}

# stop_server PID: stop one of the servers above.
stop_server() { kill_pid "$1" 5; }

# tcp_send PORT FILE [TIMEOUT_S]: connect to 127.0.0.1:PORT, send FILE, half-close,
# and wait for the peer to close.
tcp_send() {
	timeout "${3:-120}" socat -u "OPEN:$2" "TCP:127.0.0.1:$1" 2>>"$T/socat.log"
}

# tcp_recv PORT OUTFILE [TIMEOUT_S]: connect to 127.0.0.1:PORT and save what arrives
# until EOF.
tcp_recv() {
	timeout "${3:-120}" socat -u "TCP:127.0.0.1:$1" "OPEN:$2,creat,trunc" 2>>"$T/socat.log"
}

# http_get PORT PATH OUTFILE: fetch http://127.0.0.1:PORT/PATH.
http_get() {
	python3 -c '
import sys, urllib.request
with urllib.request.urlopen("http://127.0.0.1:%s/%s" % (sys.argv[1], sys.argv[2].lstrip("/")), timeout=30) as r:
    open(sys.argv[3], "wb").write(r.read())
' "$1" "$2" "$3"
}

# echo_check PORT N BYTES [TIMEOUT_S]: N concurrent connections to 127.0.0.1:PORT
# (an echo service), each sends BYTES random bytes, half-closes and expects exactly
# them back before EOF. Prints "N/N ok"; fails unless all N match.
echo_check() {
	timeout "${4:-120}" python3 - "$1" "$2" "$3" <<'EOF'
import os, socket, sys, threading
port, n, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
ok = 0
errors = []
lock = threading.Lock()

def one(i):
    global ok
    data = os.urandom(size)
    got = bytearray()
    try:
        s = socket.create_connection(("127.0.0.1", port), 30)
        s.settimeout(60)
        def send():
            try:
                s.sendall(data)
                s.shutdown(socket.SHUT_WR)
            except OSError as e:
                errors.append("conn %d send: %s" % (i, e))
        t = threading.Thread(target=send)
        t.start()
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
        t.join()
        s.close()
    except OSError as e:
        with lock:
            errors.append("conn %d: %s (%d bytes back)" % (i, e, len(got)))
        return
    with lock:
        if bytes(got) == data:
            ok += 1
        else:
            errors.append("conn %d: %d bytes back, %s" % (i, len(got),
                          "a prefix" if data.startswith(bytes(got)) else "different"))

ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print("%d/%d ok" % (ok, n))
for e in errors[:10]:
    print(e, file=sys.stderr)
sys.exit(0 if ok == n else 1)
EOF
}

# uecho PATH|PORT: 200,000 random bytes sent to an echo service behind a unix
# socket PATH (or 127.0.0.1:PORT), half-close, and exactly them back.
uecho() {
	timeout 30 python3 - "$1" <<'PY'
import os, socket, sys
path = sys.argv[1]
if path.startswith("/"):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
else:
    s = socket.create_connection(("127.0.0.1", int(path)), 10)
s.settimeout(10)
data = os.urandom(200000)
s.sendall(data)
s.shutdown(socket.SHUT_WR)
got = b""
while True:
    c = s.recv(65536)
    if not c:
        break
    got += c
sys.exit(0 if got == data else 1)
PY
}

# send_through ENTRY_PORT SINK_PORT MIB: MIB MiB of random data sent into
# 127.0.0.1:ENTRY_PORT (one end of a forward) must arrive intact at a one-shot sink
# started on SINK_PORT (its far end).
send_through() { _tlib_through sink "$@"; }

# recv_through ENTRY_PORT SOURCE_PORT MIB: MIB MiB of random data served once on
# SOURCE_PORT must arrive intact when read from 127.0.0.1:ENTRY_PORT.
recv_through() { _tlib_through source "$@"; }

_tlib_through() {
	local kind=$1 entry=$2 far=$3 mib=$4 pid
	local in=$T/through.in out=$T/through.out
	mkdata "$in" "$mib"
	if [ "$kind" = sink ]; then
		start_sink "$far" "$out"
		pid=$SINK_PID
		tcp_send "$entry" "$in" 180 || fail "sending $mib MiB into port $entry failed"
	else
		start_source "$far" "$in"
		pid=$SOURCE_PID
		tcp_recv "$entry" "$out" 180 || fail "receiving $mib MiB from port $entry failed"
	fi
	wait_pid "$pid" 60 || fail "the $kind on port $far exited with an error"
	_tlib_same "$in" "$out" $((mib * 1048576)) "$mib MiB between ports $entry and $far"
}

_tlib_same() {
	local got
	got=$(stat -c %s "$2")
	[ "$got" = "$3" ] || fail "$4: $got of $3 bytes arrived"
	[ "$(sha "$2")" = "$(sha "$1")" ] || fail "$4: data corrupted (sha256 differs)"
	rm -f "$1" "$2"
}

# expect_error NAME REGEX: last_error of tunnel NAME matches the extended REGEX
# (case-insensitive); prints it.
expect_error() {
	local err
	err=$(tfield "$1" last_error)
	printf '%s\n' "$err" | grep -Eqi -- "$2" ||
	    fail "tunnel $1: last_error does not match /$2/: '$err'"
	printf '%s\n' "$err"
}
