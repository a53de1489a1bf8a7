# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# blackhole_traffic (fault suite): the path to the server turns into a black
# hole (the relay in front of sshd gets SIGSTOP) while a transfer runs
# through a LocalForward. Keepalives must declare the session dead within
# ServerAliveInterval x ServerAliveCountMax + 2 s; the transfer's client
# connection must then be closed, not left hanging; after SIGCONT the tunnel
# is up again and the forward works.
: "${TLIB_TIMEOUT:=120}"
. "$TESTLIB"
. "$TOP_SRCDIR/tests/faults/faultlib.sh"
set -eu -o pipefail
tlib_init

INTERVAL=1
COUNT=3
LIMIT=$((INTERVAL * COUNT + 2))
start_sshd hole
RP=$(free_port)
start_relay "$RP" "$SSHD_PORT_hole"
host_key_line hole "[127.0.0.1]:$RP" >>"$T/known_hosts"
LP=$(free_port)
TP=$(free_port)
start_echo "$TP"
{
	conf_header
	tunnel_conf bh hole "$RP"
	echo "    ServerAliveInterval $INTERVAL"
	echo "    ServerAliveCountMax $COUNT"
	echo "    LocalForward 127.0.0.1:$LP 127.0.0.1:$TP"
} >"$T/tunsupd.conf"
start_tunsupd "$T/tunsupd.conf"
wait_state bh up 20
wait_for 10 "[ \"\$(fwd_field bh 0 state)\" = up ]"

# one client: send and read back until the connection ends
stream_clients "$LP" 1 "$T/client.out"
wait_for 10 "[ \"\$(fwd_field bh 0 connections_active)\" = 1 ]"
b0=$(fwd_field bh 0 bytes_in)
wait_for 10 "[ \"\$(fwd_field bh 0 bytes_in)\" -gt $((b0 + 262144)) ]"
connects=$(tfield bh connects)

kill -STOP "$RELAY_PID"
t0=$(_tlib_now_us)
wait_state bh "backoff|connecting" $((LIMIT + 1))
t1=$(_tlib_now_us)
ms=$(((t1 - t0) / 1000))
log "session declared dead after $ms ms: $(tfield bh last_error)"
[ "$ms" -le $((LIMIT * 1000)) ] ||
    fail "left up after $ms ms, more than ${LIMIT} s (interval $INTERVAL x count $COUNT + 2 s)"
pass "black hole during traffic: tunnel left up after $ms ms (limit ${LIMIT} s)"

# the client's connection rode on the dead session: it must be closed
wait_pid "$STREAM_PID" 10 || fail "the client failed"
read -r _ _ _ how when <"$T/client.out" || true
case $how in
hung*) fail "the client connection hung: $how" ;;
esac
log "client connection ended: $how, $(awk -v a="$when" -v b="$t0" 'BEGIN { printf "%.1f", a - b / 1e6 }') s after SIGSTOP"
pass "the transfer's client connection was closed ($how), not left hanging"

kill -CONT "$RELAY_PID"
wait_state bh up 20
[ "$(tfield bh connects)" -ge $((connects + 1)) ] || fail "no new session after SIGCONT"
wait_for 10 "[ \"\$(fwd_field bh 0 state)\" = up ]"
echo_check "$LP" 2 65536 30 >/dev/null || fail "forward unusable after the black hole"
pass "after SIGCONT: up again, the forward works"
stop_tunsupd || fail "tunsupd exited with status $? on SIGTERM"
pass "clean shutdown"
