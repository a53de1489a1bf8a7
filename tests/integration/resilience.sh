# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# Liveness (tunsupd(8), Liveness and retries): a server that dies and comes back, a black hole that
# keepalives must detect, a connect that never gets a banner, and `restart` cutting a
# long backoff short.
. "$TESTLIB"
set -eu -o pipefail
tlib_init

start_sshd srv    # killed and restarted
start_sshd hole   # behind relay.py, frozen with SIGSTOP
start_sshd late   # down at first; the target of the restart test
stop_sshd late

LP_K=$(free_port)
TP_K=$(free_port)
RP_HOLE=$(free_port)   # relay -> hole
RP_FROZEN=$(free_port) # relay -> hole, frozen from the start
start_echo "$TP_K"

start_relay "$RP_HOLE" "$SSHD_PORT_hole"
HOLE_RELAY=$RELAY_PID
start_relay "$RP_FROZEN" "$SSHD_PORT_hole"
FROZEN_RELAY=$RELAY_PID
kill -STOP "$FROZEN_RELAY"

# the relays are other ports to the same server: known_hosts needs those names too
host_key_line hole "[127.0.0.1]:$RP_HOLE" >>"$T/known_hosts"
host_key_line hole "[127.0.0.1]:$RP_FROZEN" >>"$T/known_hosts"

{
	conf_header
	tunnel_conf killed srv
	echo "    LocalForward 127.0.0.1:$LP_K 127.0.0.1:$TP_K"
	tunnel_conf blackhole hole "$RP_HOLE"
	echo "    ServerAliveInterval 1"
	echo "    ServerAliveCountMax 3"
	tunnel_conf frozen hole "$RP_FROZEN"
	echo "    ConnectTimeout 2"
	tunnel_conf slow late
	echo "    RetryMin 40s"
	echo "    RetryMax 60s"
	echo "    RetryNetworkMax 60s"
} >"$T/tunsupd.conf"

start_tunsupd "$T/tunsupd.conf"

server_killed_and_back() {
	local connects
	wait_state killed up 20
	echo_check "$LP_K" 1 4096 30 || fail "forward unusable at start"
	connects=$(tfield killed connects)
	stop_sshd srv
	wait_state killed "backoff|connecting" 10
	log "killed: $(tstate killed), last_error: $(tfield killed last_error)"
	start_sshd srv
	wait_state killed up 20
	[ "$(tfield killed connects)" -ge $((connects + 1)) ] ||
	    fail "connects $connects -> $(tfield killed connects) after the server came back"
	wait_for 10 "[ \"\$(fwd_field killed 0 state)\" = up ]"
	echo_check "$LP_K" 1 4096 30 || fail "forward unusable after the server came back"
	pass "server killed: tunnel leaves up, reconnects when it is back, forward works"
}

black_hole() {
	local connects t0 t1 err
	wait_state blackhole up 20
	connects=$(tfield blackhole connects)
	kill -STOP "$HOLE_RELAY"
	t0=$(_tlib_now_us)
	# dead after ServerAliveCountMax (3) unanswered intervals (1 s), +2 s, +3 s margin
	wait_state blackhole "backoff|connecting" 8
	t1=$(_tlib_now_us)
	err=$(expect_error blackhole 'keepalive|alive|time ?out|timed out|no answer|unanswered') || fail "no keepalive/timeout in last_error"
	log "black hole detected after $(((t1 - t0) / 1000)) ms: $err"
	kill -CONT "$HOLE_RELAY"
	wait_state blackhole up 20
	[ "$(tfield blackhole connects)" -ge $((connects + 1)) ] ||
	    fail "connects $connects -> $(tfield blackhole connects)"
	pass "a black-holed session is declared dead within 8 s ($(((t1 - t0) / 1000)) ms), and comes back"
}

frozen_connect() {
	local f0
	# relay frozen since before the daemon started: the TCP connect completes in
	# the backlog, the banner never comes; ConnectTimeout 2 must end each attempt
	f0=$(tfield frozen failures)
	wait_for 10 "[ \"\$(tfield frozen failures)\" -ge $((f0 + 2)) ]"
	wait_state frozen "backoff|connecting" 1
	expect_error frozen 'time ?out|timed out' >/dev/null
	[ "$(tfield frozen connects)" = 0 ] || fail "connects $(tfield frozen connects)"
	pass "connecting into a black hole times out (ConnectTimeout 2) and is retried"
}

restart_skips_backoff() {
	local nr
	# nothing listens yet: the tunnel waits 40-60 s before its next attempt
	wait_state slow backoff 15
	nr=$(tfield slow next_retry_s | awk '{ printf "%.1f", $1 }')
	awk -v n="$nr" 'BEGIN { exit !(n + 0 > 10) }' ||
	    fail "next_retry_s is $nr, expected a long backoff (RetryMin 40s)"
	start_sshd late
	ctl restart slow || fail "tunsupctl restart slow failed"
	wait_state slow up 8
	pass "restart during a ${nr}s backoff connects at once"
}

# the frozen relay first: it has been failing since the daemon started
frozen_connect
restart_skips_backoff
server_killed_and_back
black_hole
kill -CONT "$FROZEN_RELAY"
stop_tunsupd || fail "tunsupd exited with status $? on SIGTERM"
pass "clean shutdown"
