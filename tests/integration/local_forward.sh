# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# LocalForward (ssh -L) end to end against a real sshd: bulk data both ways, many
# concurrent connections, a refused target, rekeying, and the status counters.
. "$TESTLIB"
set -eu -o pipefail
tlib_init

start_sshd srv
start_sshd rk "RekeyLimit 1M" "LogLevel DEBUG1"

# listen ports on our side, target ports behind the sshd
LP_SINK=$(free_port)
LP_SOURCE=$(free_port)
LP_ECHO=$(free_port)
LP_REFUSED=$(free_port)
LP_REKEY=$(free_port)
TP_SINK=$(free_port)
TP_SOURCE=$(free_port)
TP_ECHO=$(free_port)
TP_REFUSED=$(free_port)
TP_REKEY=$(free_port)

{
	conf_header
	tunnel_conf lf srv
	echo "    LocalForward 127.0.0.1:$LP_SINK 127.0.0.1:$TP_SINK"
	echo "    LocalForward 127.0.0.1:$LP_SOURCE 127.0.0.1:$TP_SOURCE"
	echo "    LocalForward 127.0.0.1:$LP_ECHO 127.0.0.1:$TP_ECHO"
	echo "    LocalForward 127.0.0.1:$LP_REFUSED 127.0.0.1:$TP_REFUSED"
	tunnel_conf rekey rk
	echo "    LocalForward 127.0.0.1:$LP_REKEY 127.0.0.1:$TP_REKEY"
} >"$T/tunsupd.conf"

start_tunsupd "$T/tunsupd.conf"
wait_state lf up 20
wait_state rekey up 20

status_fields() {
	local i
	[ "$(fwd_field lf 0 kind)" = local ] || fail "forward kind $(fwd_field lf 0 kind)"
	[ "$(fwd_field lf 0 state)" = up ] || fail "forward state $(fwd_field lf 0 state)"
	[ "$(fwd_field lf 0 target)" = "127.0.0.1:$TP_SINK" ] ||
	    fail "forward target '$(fwd_field lf 0 target)'"
	[ "$(fwd_field lf 0 listen)" = "127.0.0.1:$LP_SINK" ] ||
	    fail "forward listen '$(fwd_field lf 0 listen)'"
	[ "$(tfield lf port)" = "$SSHD_PORT_srv" ] || fail "tunnel port $(tfield lf port)"
	[ "$(tfield lf host)" = 127.0.0.1 ] || fail "tunnel host $(tfield lf host)"
	[ "$(tfield lf user)" = "$(id -un)" ] || fail "tunnel user $(tfield lf user)"
	[ "$(tfield lf connects)" = 1 ] || fail "connects $(tfield lf connects), expected 1"
	[ "$(tfield lf last_error)" = null ] || fail "last_error $(tfield lf last_error)"
	for i in 0 1 2 3; do
		[ "$(fwd_field lf $i state)" = up ] || fail "forward $i: $(fwd_field lf $i state)"
		port_listening "$(fwd_field lf $i bound_port)" || fail "forward $i not listening"
	done
	pass "status shows the tunnel up with 4 local forwards listening"
}

upload_64m() {
	local before after
	before=$(fwd_field lf 0 connections_total)
	send_through "$LP_SINK" "$TP_SINK" 64
	after=$(fwd_field lf 0 connections_total)
	[ "$after" -ge $((before + 1)) ] || fail "connections_total $before -> $after"
	wait_for 10 '[ $(( $(fwd_field lf 0 bytes_in) + $(fwd_field lf 0 bytes_out) )) -ge 67108864 ]'
	pass "LocalForward carries 64 MiB client -> target intact"
}

download_64m() {
	recv_through "$LP_SOURCE" "$TP_SOURCE" 64
	wait_for 10 '[ $(( $(fwd_field lf 1 bytes_in) + $(fwd_field lf 1 bytes_out) )) -ge 67108864 ]'
	pass "LocalForward carries 64 MiB target -> client intact"
}

concurrent_100() {
	local total0 in0 out0
	start_echo "$TP_ECHO"
	total0=$(fwd_field lf 2 connections_total)
	in0=$(fwd_field lf 2 bytes_in)
	out0=$(fwd_field lf 2 bytes_out)
	echo_check "$LP_ECHO" 100 65536 120 || fail "100 concurrent echo connections"
	wait_for 10 '[ "$(fwd_field lf 2 connections_active)" = 0 ]'
	[ "$(fwd_field lf 2 connections_total)" -ge $((total0 + 100)) ] ||
	    fail "connections_total $total0 -> $(fwd_field lf 2 connections_total), expected +100"
	[ "$(fwd_field lf 2 bytes_in)" -ge $((in0 + 100 * 65536)) ] ||
	    fail "bytes_in $in0 -> $(fwd_field lf 2 bytes_in)"
	[ "$(fwd_field lf 2 bytes_out)" -ge $((out0 + 100 * 65536)) ] ||
	    fail "bytes_out $out0 -> $(fwd_field lf 2 bytes_out)"
	[ "$(tstate lf)" = up ] || fail "tunnel $(tstate lf) after 100 connections"
	pass "100 concurrent connections through one forward echo 64 KiB each; counters grow"
}

refused_target() {
	local out
	# nothing listens on TP_REFUSED: the server refuses the channel open, and our
	# client's connection is closed (not left hanging)
	port_listening "$TP_REFUSED" && fail "something listens on $TP_REFUSED"
	out=$(timeout 15 python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
s.settimeout(10)
try:
    s.sendall(b"hello\n")
    b = s.recv(100)
    print("eof" if b == b"" else "data")
except ConnectionResetError:
    print("reset")
except BrokenPipeError:
    print("reset")
except socket.timeout:
    print("hang")
' "$LP_REFUSED") || fail "client to a refused target: $out"
	case "$out" in
	eof | reset) ;;
	*) fail "connection to a refused target was not closed ($out)" ;;
	esac
	[ "$(tstate lf)" = up ] || fail "tunnel $(tstate lf) after a refused channel"
	[ "$(tfield lf connects)" = 1 ] || fail "tunnel reconnected after a refused channel"
	# the same forward works once the target exists
	start_echo "$TP_REFUSED"
	echo_check "$LP_REFUSED" 1 4096 30 || fail "forward unusable after a refused channel"
	stop_server "$ECHO_PID"
	[ "$(tstate lf)" = up ] || fail "tunnel $(tstate lf)"
	pass "a refused target closes that client only; the tunnel stays up and later works"
}

rekey_64m() {
	local kex0 kex1
	kex0=$(grep -c 'SSH2_MSG_NEWKEYS received' "$T/rk/sshd.log" || true)
	send_through "$LP_REKEY" "$TP_REKEY" 64
	kex1=$(grep -c 'SSH2_MSG_NEWKEYS received' "$T/rk/sshd.log" || true)
	[ $((kex1 - kex0)) -ge 10 ] || fail "only $((kex1 - kex0)) key exchanges during 64 MiB"
	[ "$(tstate rekey)" = up ] || fail "tunnel rekey $(tstate rekey)"
	[ "$(tfield rekey connects)" = 1 ] || fail "tunnel rekey reconnected"
	pass "64 MiB intact through $((kex1 - kex0)) key re-exchanges (RekeyLimit 1M)"
}

still_one_session() {
	[ "$(tstate lf)" = up ] || fail "tunnel lf $(tstate lf) at the end"
	[ "$(tfield lf connects)" = 1 ] || fail "tunnel lf connected $(tfield lf connects) times"
	stop_tunsupd || fail "tunsupd exited with status $? on SIGTERM"
	! port_listening "$LP_SINK" || fail "listener still open after shutdown"
	pass "all of it over one session; clean shutdown closes the listeners"
}

status_fields
upload_64m
download_64m
concurrent_100
refused_target
rekey_64m
still_one_session
