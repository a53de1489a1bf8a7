# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# daemon_basic: the control socket's life cycle (tunsupd(8)): hello and status,
# the socket's mode, stale and live sockets, junk that must not kill the
# daemon, and a clean SIGTERM.
set -eu
. "$TESTLIB"
tlib_init

CTLCLIENT="python3 $TLIB_DIR/ctlclient.py"
DEAD_PORT=$(free_port)	# nothing listens there

write_conf() {
	conf_header
	cat <<EOF
Tunnel a
    HostName 127.0.0.1
    Port $DEAD_PORT
    Enabled no
EOF
}
write_conf >"$T/tunsupd.conf"

# raw JSON_LINE: one request on the socket, the reply line on stdout.
raw() { $CTLCLIENT "$SOCK" request "$1"; }

# try_second ARGS...: run another tunsupd that must fail at once; its
# stderr goes to $T/second.err.
try_second() {
	local rc=0
	timeout 10 "$TUNSUPD" -f "$T/tunsupd.conf" "$@" </dev/null \
	    >"$T/second.out" 2>"$T/second.err" || rc=$?
	[ "$rc" -ne 0 ] || fail "a second tunsupd $* started"
	[ "$rc" -ne 124 ] || fail "a second tunsupd $* kept running"
}

hello_and_status() {
	local out
	out=$(raw '{"cmd":"hello","id":"h1"}')
	[ "$(echo "$out" | jget ok)" = true ] || fail "hello: $out"
	[ "$(echo "$out" | jget protocol)" = 1 ] || fail "hello protocol: $out"
	[ "$(echo "$out" | jget id)" = h1 ] || fail "hello id: $out"
	echo "$out" | jget version | grep -Eq '^[0-9]+\.[0-9]+' ||
	    fail "hello version: $out"
	pass "hello answers version and protocol 1, echoing the id"

	out=$(ctl --json status)
	[ "$(echo "$out" | jget pid)" = "$TUNSUPD_PID" ] ||
	    fail "status pid is not the daemon's: $out"
	[ "$(echo "$out" | jget 'tunnels[name=a].state')" = stopped ] ||
	    fail "disabled tunnel not stopped: $out"
	echo "$out" | jget uptime_s | grep -Eq '^[0-9.e+-]+$' ||
	    fail "no uptime_s: $out"
	pass "tunsupctl --json status gives pid, uptime and the tunnels"
}

socket_mode() {
	local mode
	mode=$(stat -c %a "$SOCK")
	[ "$mode" = 600 ] || fail "socket mode is $mode, not 600"
	[ "$(stat -c %u "$SOCK")" = "$(id -u)" ] || fail "socket owner"
	pass "the control socket has mode 0600"
}

live_socket_refused() {
	try_second -S "$SOCK"
	grep -q "another tunsupd is listening on $SOCK" "$T/second.err" || {
		cat "$T/second.err" >&2
		fail "no clear message for a live socket"
	}
	[ -S "$SOCK" ] || fail "the second daemon removed the live socket"
	ctl --json status >/dev/null || fail "first daemon no longer answers"
	pass "a second daemon on a live socket exits non-zero and says why"
}

bad_paths_refused() {
	: >"$T/plain-file"
	try_second -S "$T/plain-file"
	grep -q "not a socket" "$T/second.err" || {
		cat "$T/second.err" >&2
		fail "no message for a non-socket path"
	}
	[ -f "$T/plain-file" ] || fail "a regular file at the path was removed"
	pass "a regular file at the socket path is an error and is kept"

	try_second -S "$T/no/such/dir/ctl.sock"
	grep -q "No such file or directory" "$T/second.err" || {
		cat "$T/second.err" >&2
		fail "no message for a missing directory"
	}
	pass "a missing parent directory is an error"
}

junk_survived() {
	local big
	$CTLCLIENT "$SOCK" junk >"$T/junk.out" || {
		cat "$T/junk.out"
		fail "junk test failed"
	}
	cat "$T/junk.out"
	# Also through plain socat: binary garbage and a huge line at once.
	big=$T/big.bin
	head -c 300000 /dev/urandom >"$big"
	timeout 10 socat -u "OPEN:$big" "UNIX-CONNECT:$SOCK" 2>/dev/null || true
	kill -0 "$TUNSUPD_PID" || fail "tunsupd died from junk"
	ctl --json status >/dev/null || fail "tunsupd not answering after junk"
	pass "junk and oversized lines do not kill the daemon"
}

sigterm_clean() {
	local rc=0
	stop_tunsupd || rc=$?
	[ "$rc" = 0 ] || fail "tunsupd exited $rc on SIGTERM"
	[ ! -e "$T/ctl.sock" ] || fail "socket left behind after SIGTERM"
	pass "SIGTERM: exit status 0 and the socket is removed"
}

stale_socket_replaced() {
	python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' \
	    "$T/ctl.sock"
	[ -S "$T/ctl.sock" ] || fail "could not make a stale socket"
	start_tunsupd "$T/tunsupd.conf"
	ctl --json status >/dev/null || fail "no answer on the replaced socket"
	grep -q "stale" "$T/tunsupd.log" || fail "replacing the stale socket not logged"
	pass "a stale socket file is replaced"
}

group_socket() {
	local grp rc=0
	grp=$(id -gn)
	{ echo "ControlGroup $grp"; write_conf; } >"$T/group.conf"
	stop_tunsupd || rc=$?
	[ "$rc" = 0 ] || fail "tunsupd exited $rc on SIGTERM"
	start_tunsupd "$T/group.conf"
	[ "$(stat -c %a "$SOCK")" = 660 ] || fail "mode with ControlGroup: $(stat -c %a "$SOCK")"
	[ "$(stat -c %G "$SOCK")" = "$grp" ] || fail "group: $(stat -c %G "$SOCK")"
	pass "with ControlGroup the socket is 0660 and group-owned"
}

peer_refused() {
	if [ "$(id -u)" != 0 ]; then
		pass "peer credential refusal needs root to act as another uid: not tested"
		return 0
	fi
	# Open the file mode so that only SO_PEERCRED stands in the way.
	chmod 0711 "$T"
	chmod 0666 "$SOCK"
	$CTLCLIENT "$SOCK" denied 65534 || fail "a peer of another uid was not refused"
	grep -q "refused peer uid 65534" "$T/tunsupd.log" || fail "refusal not logged"
	ctl --json status >/dev/null || fail "daemon not answering after a refusal"
	pass "a peer that is neither root, the daemon's uid nor in the group is refused"
}

start_tunsupd "$T/tunsupd.conf"
hello_and_status
socket_mode
live_socket_refused
bad_paths_refused
junk_survived
sigterm_clean
stale_socket_replaced
group_socket
peer_refused
sigterm_clean
