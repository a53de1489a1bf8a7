# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# sigterm_stalled (fault suite): SIGTERM while 8 transfers flow through a
# LocalForward and the path to sshd has stopped reading (a relay in front of
# it, with a small fixed receive buffer, gets SIGSTOP), so the session's
# socket is full. The SSH disconnect must not be lost for want of room: the
# daemon waits for room (and says so), the relay gets SIGCONT, and sshd logs
# our DISCONNECT, not a reset or a bare close; the daemon exits 0 without a
# sanitizer report.
: "${TLIB_TIMEOUT:=120}"
. "$TESTLIB"
. "$TOP_SRCDIR/tests/faults/faultlib.sh"
set -eu -o pipefail
tlib_init

N=8
start_sshd srv
LP=$(free_port)
TP=$(free_port)
RP=$(free_port)
start_echo "$TP"
start_relay "$RP" "$SSHD_PORT_srv" --sockbuf 65536
host_key_line srv "[127.0.0.1]:$RP" >>"$T/known_hosts"
{
	conf_header
	tunnel_conf stall srv "$RP"
	# keepalives unanswered while the relay is stopped must not end it first
	echo "    ServerAliveInterval 60"
	echo "    LocalForward 127.0.0.1:$LP 127.0.0.1:$TP"
} >"$T/tunsupd.conf"
start_tunsupd "$T/tunsupd.conf"
wait_state stall up 20
wait_for 10 "[ \"\$(fwd_field stall 0 state)\" = up ]"

stream_clients "$LP" "$N" "$T/flow.out"
wait_for 20 "[ \"\$(fwd_field stall 0 connections_active)\" = $N ]"
b0=$(fwd_field stall 0 bytes_in)
wait_for 10 "[ \"\$(fwd_field stall 0 bytes_in)\" -gt $((b0 + 1048576)) ]"
log "$N transfers flowing"

# session_queue: "QUEUED SNDBUF" of the daemon's connection to the relay,
# QUEUED the memory the kernel charges for what waits in the send buffer
session_queue() {
	ss -tnmH state established "( dport = :$RP )" | awk '
		/skmem/ {
			match($0, /tb[0-9]+/)
			tb = substr($0, RSTART + 2, RLENGTH - 2)
			match($0, /,w[0-9]+/)
			print substr($0, RSTART + 2, RLENGTH - 2), tb
			exit
		}'
}
# full: the kernel no longer reports it writable (more than 2/3 of SO_SNDBUF
# charged), so the daemon's pumps wait for EV_WRITE, and with them whatever
# libssh has queued
socket_full() {
	local w tb
	read -r w tb <<<"$(session_queue)"
	[ -n "$tb" ] && [ $((w * 3)) -gt $((tb * 2)) ]
}

kill -STOP "$RELAY_PID"
wait_for 20 socket_full
log "relay stopped, the session's socket is full: $(session_queue) (charged, SO_SNDBUF)"

# a keepalive now: libssh queues it behind the full socket
expect_rc 0 ctl check-now stall
kill -TERM "$TUNSUPD_PID"
wait_for 10 "grep -q 'tunnel stall: up -> stopped' '$T/tunsupd.log'"
kill -CONT "$RELAY_PID"
log "SIGTERM, the session closed, relay resumed"

rc=0
wait_pid "$TUNSUPD_PID" 10 || rc=$?
TUNSUPD_PID=
[ "$rc" = 0 ] || fail "tunsupd exited with status $rc"
! grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/tunsupd.log" ||
    fail "sanitizer report in tunsupd.log"

DOWN='Received disconnect from 127.0.0.1|Connection (reset|closed) by|Broken pipe'
wait_for 10 "grep -Eq '$DOWN' '$T/srv/sshd.log'"
grep -q 'Received disconnect from 127.0.0.1' "$T/srv/sshd.log" ||
    fail "sshd did not get our SSH disconnect: $(grep -E "$DOWN" "$T/srv/sshd.log" | head -n 1)"
pass "sshd read our disconnect ($(grep -o 'Received disconnect from .*' "$T/srv/sshd.log" | head -n 1)), tunsupd exited 0"

# and it was the full socket's case: the DISCONNECT waited, then went
grep -q 'tunnel stall: disconnect: waiting for room' "$T/tunsupd.log" ||
    fail "the DISCONNECT did not have to wait: the socket was not full"
grep -q 'tunnel stall: disconnect: sent' "$T/tunsupd.log" ||
    fail "the DISCONNECT waited and was not logged as sent"
pass "the DISCONNECT waited for room ($(grep -o 'disconnect: waiting.*' "$T/tunsupd.log"))"
wait_pid "$STREAM_PID" 20 || fail "the clients failed"
! grep -Eq ' (hung|connect-failed) ' "$T/flow.out" || fail "a client connection hung or failed"
pass "no client connection left hanging"
