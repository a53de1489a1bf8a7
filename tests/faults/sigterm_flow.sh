# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# sigterm_flow (fault suite): SIGTERM while 8 transfers flow through a
# LocalForward. The daemon exits 0 without a sanitizer report, removes its
# socket, every client connection is closed (none left hanging), and sshd
# sees a clean SSH disconnect rather than a dropped connection.
: "${TLIB_TIMEOUT:=120}"
. "$TESTLIB"
. "$TOP_SRCDIR/tests/faults/faultlib.sh"
set -eu -o pipefail
tlib_init

N=8
start_sshd srv
LP=$(free_port)
TP=$(free_port)
start_echo "$TP"
{
	conf_header
	tunnel_conf flow srv
	echo "    LocalForward 127.0.0.1:$LP 127.0.0.1:$TP"
} >"$T/tunsupd.conf"
start_tunsupd "$T/tunsupd.conf"
wait_state flow up 20
wait_for 10 "[ \"\$(fwd_field flow 0 state)\" = up ]"

# N clients send and read back without pause until the connection ends
stream_clients "$LP" "$N" "$T/flow.out"

# flowing: N connections open and bytes still moving
wait_for 20 "[ \"\$(fwd_field flow 0 connections_active)\" = $N ]"
b0=$(fwd_field flow 0 bytes_in)
wait_for 10 "[ \"\$(fwd_field flow 0 bytes_in)\" -gt $((b0 + 1048576)) ]"
log "$N transfers flowing ($(fwd_field flow 0 bytes_in) bytes in so far)"

t0=$(_tlib_now_us)
rc=0
stop_tunsupd || rc=$?
log "tunsupd exited $rc after $((($(_tlib_now_us) - t0) / 1000)) ms"
[ "$rc" = 0 ] || fail "tunsupd exited with status $rc on SIGTERM during transfers"
! grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/tunsupd.log" ||
    fail "sanitizer report in tunsupd.log"
[ ! -e "$SOCK" ] || fail "control socket left behind"
pass "SIGTERM during $N transfers: exit 0, socket removed"

wait_pid "$STREAM_PID" 20 || fail "the clients failed"
cat "$T/flow.out"
[ "$(grep -c '^conn ' "$T/flow.out")" = "$N" ] || fail "not every client reported"
! grep -Eq ' (hung|connect-failed) ' "$T/flow.out" || fail "a client connection hung or failed"
pass "all $N client connections were closed by the shutdown"

# sshd: the session ended with an SSH disconnect from us, and its process is gone
# (a socket closed with unread data in it sends RST, which can overtake the
# SSH_MSG_DISCONNECT: sshd then logs "Connection reset by user ..."; a bare
# FIN without the DISCONNECT shows as "Connection closed by ...")
DOWN='Received disconnect from 127.0.0.1|Connection (reset|closed) by|Broken pipe'
wait_for 10 "grep -Eq '$DOWN' '$T/srv/sshd.log'"
grep -q 'Received disconnect from 127.0.0.1' "$T/srv/sshd.log" ||
    fail "sshd did not get our SSH disconnect: $(grep -E "$DOWN" "$T/srv/sshd.log" | head -n 1)"
! grep -Eq 'Connection reset by|Broken pipe' "$T/srv/sshd.log" ||
    fail "sshd saw a reset: $(grep -E 'Connection reset by|Broken pipe' "$T/srv/sshd.log" | head -n 1)"
wait_for 10 "[ -z \"\$(_tlib_children $SSHD_PID_srv)\" ]"
pass "sshd saw a clean disconnect ($(grep -o 'Received disconnect from .*' "$T/srv/sshd.log" | head -n 1))"
