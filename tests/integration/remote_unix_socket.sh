# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# RemoteForward from a unix socket on the server (streamlocal-forward@openssh.com,
# the bundled libssh's patch): sshd creates the socket, and it reaches a local TCP
# service and a local unix socket; status, counters and the end-to-end probe; the
# socket survives a server restart (with sshd's StreamLocalBindUnlink yes; without
# it the stale socket file left by the killed sshd refuses the new listen, and the
# error says so); stop cancels it (the path stops accepting); the authorized_keys
# line of tunsupctl authorized-keys works for it and says what it cannot limit.
# A build whose libssh lacks streamlocal-forward (--with-libssh=system) must
# refuse to start with such a forward, naming the bundled libssh (and
# tests/integration/streamlocal_support.sh checks tunsupd -t).
. "$TESTLIB"
set -eu -o pipefail
tlib_init

if ! "$TUNSUPD" -V | sed -n 2p | grep -q 'streamlocal-forward\.patch'; then
	{
		conf_header
		echo "Tunnel rs"
		echo "    RemoteForward $T/srv.sock 127.0.0.1:9"
	} >"$T/t.conf"
	if "$TUNSUPD" -f "$T/t.conf" -S "$T/ctl.sock" >"$T/out" 2>&1; then
		fail "tunsupd started with RemoteForward /path and a libssh that cannot"
	fi
	grep -Eq "t.conf:[0-9]+: .*streamlocal-forward@openssh.com.*bundled libssh" "$T/out" ||
	    fail "the refusal does not name the line and the bundled libssh: $(cat "$T/out")"
	pass "this libssh lacks streamlocal-forward: tunsupd refuses to start with RemoteForward /path, naming the bundled libssh"
	exit 0
fi

# the bridge re-binds a stale socket; bridge2 keeps sshd's default (no)
start_sshd bridge "StreamLocalBindUnlink yes"
start_sshd bridge2
ECHO=$(free_port)
start_echo "$ECHO"
socat UNIX-LISTEN:"$T/target.sock",fork EXEC:cat </dev/null >>"$T/socat.log" 2>&1 &
track $!
wait_for 5 test -S "$T/target.sock"
mkdir "$T/srv"

# the tunnel's own key, authorized with the line tunsupctl prints for it
gen_key "$T/tunnel_key"
{
	conf_header
	tunnel_conf rs bridge "" "$T/tunnel_key"
	echo "    RemoteForward $T/srv/tcp.sock 127.0.0.1:$ECHO"
	echo "    RemoteForward $T/srv/unix.sock $T/target.sock"
	tunnel_conf keep bridge2
	echo "    RemoteForward $T/srv/keep.sock:127.0.0.1:$ECHO"
} >"$T/t.conf"
"$TUNSUPD" -t -f "$T/t.conf" >"$T/t.out" 2>&1 || {
	cat "$T/t.out" >&2
	fail "tunsupd -t refuses RemoteForward on a server's unix socket"
}
pass "tunsupd -t accepts RemoteForward /path host:port, /path /socket and /path:host:port"
start_tunsupd "$T/t.conf"

authorized_keys_line() {
	local line
	wait_for 10 '[ "$(tfield rs forwards | jget "[1].listen")" = "$T/srv/unix.sock" ]'
	line=$(ctl authorized-keys rs "$T/tunnel_key.pub" 2>"$T/ak.err") ||
	    fail "authorized-keys rs failed: $(cat "$T/ak.err")"
	grep -q "no per-key limit for unix sockets" "$T/ak.err" ||
	    fail "authorized-keys says nothing about socket paths: $(cat "$T/ak.err")"
	grep -q "AllowStreamLocalForwarding" "$T/ak.err" ||
	    fail "authorized-keys does not name sshd's AllowStreamLocalForwarding"
	case $line in
	restrict,port-forwarding,*) ;;
	*) fail "authorized-keys line: $line" ;;
	esac
	echo "$line" >>"$T/bridge/authorized_keys"
	pass "authorized-keys prints a locked-down line and notes what it cannot limit for socket paths"
}
authorized_keys_line

both_targets() {
	wait_state rs up 20
	[ "$(fwd_field rs 0 kind)" = remote ] || fail "kind $(fwd_field rs 0 kind)"
	[ "$(fwd_field rs 0 listen)" = "$T/srv/tcp.sock" ] || fail "listen $(fwd_field rs 0 listen)"
	[ "$(fwd_field rs 1 target)" = "$T/target.sock" ] || fail "target $(fwd_field rs 1 target)"
	[ "$(fwd_field rs 0 bound_port)" = null ] || fail "bound_port $(fwd_field rs 0 bound_port)"
	[ -S "$T/srv/tcp.sock" ] && [ -S "$T/srv/unix.sock" ] ||
	    fail "sshd made no sockets: $(ls -l "$T/srv")"
	# sshd's StreamLocalBindMask (default 0177)
	[ "$(stat -c %a "$T/srv/tcp.sock")" = 600 ] ||
	    fail "socket mode $(stat -c %a "$T/srv/tcp.sock")"
	uecho "$T/srv/tcp.sock" || fail "echo through the server's socket to a TCP service"
	uecho "$T/srv/unix.sock" || fail "echo through the server's socket to a local unix socket"
	[ "$(fwd_field rs 0 connections_total)" -ge 1 ] &&
	    [ "$(fwd_field rs 1 connections_total)" -ge 1 ] ||
	    fail "connections_total $(fwd_field rs 0 connections_total) $(fwd_field rs 1 connections_total)"
	wait_for 10 '[ "$(fwd_field rs 0 bytes_in)" -ge 200000 ] && [ "$(fwd_field rs 1 bytes_out)" -ge 200000 ]'
	pass "sshd's socket (mode 0600) reaches a local TCP service and a local unix socket; status and counters"
}
both_targets

probe_ok() {
	# keep's key may open direct-streamlocal: its probe passes
	wait_state keep up 20
	wait_for 15 '[ "$(fwd_field keep 0 probe)" = ok ]'
	[ "$(fwd_field keep 0 probes_ok)" -ge 1 ] || fail "probes_ok $(fwd_field keep 0 probes_ok)"
	pass "the end-to-end probe passes through the server's socket (direct-streamlocal)"
	# rs's key has permitopen: sshd refuses direct-streamlocal ("open failed")
	wait_for 15 '[ "$(fwd_field rs 0 probe)" = unsupported ] && [ "$(fwd_field rs 1 probe)" = unsupported ]'
	grep -q "forward $T/srv/tcp.sock: cannot probe end to end, the server refuses direct-streamlocal" \
	    "$T/tunsupd.log" || fail "no log line about the refused probe"
	[ "$(tstate rs)" = up ] || fail "rs $(tstate rs) after its probes were refused"
	uecho "$T/srv/tcp.sock" || fail "echo through tcp.sock after the refused probes"
	pass "a key whose permitopen refuses the probe stays up on keepalives, and says so"
}
probe_ok

server_restart() {
	local connects wpid
	wait_state keep up 20
	# the forward events of the restart, as a subscriber sees them
	"$TUNSUPCTL" -S "$SOCK" --json watch >"$T/watch.out" 2>&1 &
	wpid=$!
	track "$wpid"
	# (it subscribes asynchronously: cycle rs until it saw that)
	wait_for 10 'ctl stop rs >/dev/null && ctl start rs >/dev/null &&
	    grep -q "\"tunnel\":\"rs\"" "$T/watch.out"'
	wait_state rs up 20
	uecho "$T/srv/keep.sock" || fail "echo through keep.sock"
	connects=$(tfield rs connects)
	restart_sshd bridge
	restart_sshd bridge2
	# sshd does not remove the socket when it dies
	[ -S "$T/srv/tcp.sock" ] || fail "the killed sshd's socket file is gone: $(ls -l "$T/srv")"
	wait_for 20 '[ "$(tfield rs connects)" -gt '"$connects"' ]'
	wait_state rs up 20
	uecho "$T/srv/tcp.sock" || fail "echo through tcp.sock after the restart"
	uecho "$T/srv/unix.sock" || fail "echo through unix.sock after the restart"
	pass "after sshd was killed and restarted the tunnel reconnects and sshd re-binds its socket (StreamLocalBindUnlink yes)"

	wait_state keep degraded 20
	[ "$(fwd_field keep 0 state)" != up ] || fail "keep's forward up without StreamLocalBindUnlink"
	fwd_field keep 0 error | grep -q "StreamLocalBindUnlink" ||
	    fail "keep's error does not name StreamLocalBindUnlink: $(fwd_field keep 0 error)"
	grep "\"event\":\"forward\"" "$T/watch.out" | grep "\"listen\":\"$T/srv/keep.sock\"" |
	    grep -q "StreamLocalBindUnlink" || fail "no forward event with the refusal: $(cat "$T/watch.out")"
	# removing the stale file by hand lets the retry through
	rm -f "$T/srv/keep.sock"
	wait_state keep up 20
	uecho "$T/srv/keep.sock" || fail "echo through keep.sock after the stale file went"
	wait_for 10 'grep "\"event\":\"forward\"" "$T/watch.out" | grep "\"listen\":\"$T/srv/keep.sock\"" | grep -q "\"state\":\"up\""'
	kill_pid "$wpid"
	pass "without sshd's StreamLocalBindUnlink the stale socket is refused, named (status, events), and retried until it is gone"
}

reload_moves() {
	sed -i "s|RemoteForward $T/srv/keep.sock:|RemoteForward $T/srv/moved.sock:|" "$T/t.conf"
	ctl reload >/dev/null || fail "reload"
	wait_for 20 '[ "$(fwd_field keep 0 listen)" = "$T/srv/moved.sock" ]'
	wait_state keep up 20
	uecho "$T/srv/moved.sock" || fail "echo through moved.sock after the reload"
	! uecho "$T/srv/keep.sock" 2>/dev/null || fail "keep.sock still answers after the reload"
	wait_state rs up 20
	[ "$(tfield rs connects)" = "$rs_connects" ] || fail "the reload restarted rs too"
	pass "reload moves a socket forward: the new path listens, the old one no longer answers, other tunnels keep their session"
}
server_restart
rs_connects=$(tfield rs connects)
reload_moves

# Someone removes the socket file on the server: the listener is unreachable.
# The probe notices, the forward cancels (cancel-streamlocal-forward) and asks
# again in the same session.
socket_removed() {
	local connects
	connects=$(tfield keep connects)
	wait_for 15 '[ "$(fwd_field keep 0 probe)" = ok ]'
	rm "$T/srv/moved.sock"
	wait_for 20 'grep -q "forward $T/srv/moved.sock: failed: probe" "$T/tunsupd.log"'
	wait_for 20 'test -S "$T/srv/moved.sock"'
	wait_state keep up 20
	uecho "$T/srv/moved.sock" || fail "echo through moved.sock after it was made again"
	[ "$(tfield keep connects)" = "$connects" ] || fail "keep reconnected instead"
	pass "a socket removed on the server is found by the probe and made again in the same session"
}
socket_removed

stop_cancels() {
	ctl stop rs >/dev/null || fail "stop rs"
	wait_state rs stopped 10
	wait_for 10 '! uecho "$T/srv/tcp.sock" 2>/dev/null'
	! uecho "$T/srv/unix.sock" 2>/dev/null || fail "unix.sock still answers after stop"
	# what tunsupd.conf(5) says: sshd closes the listener but leaves the file
	[ -S "$T/srv/tcp.sock" ] || fail "sshd removed the socket file on stop"
	pass "stop cancels the listener: the server's socket path no longer accepts (sshd leaves the file)"
	ctl start rs >/dev/null || fail "start rs"
	wait_state rs up 20
	uecho "$T/srv/tcp.sock" || fail "echo through tcp.sock after start"
	pass "start listens on the same path again"
}
stop_cancels

stop_tunsupd || fail "tunsupd exit status $?"
pass "clean shutdown"
