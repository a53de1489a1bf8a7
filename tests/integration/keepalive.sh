# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# Keepalive rounds (tunsupd(8) Liveness and retries, README "Performance"): with a ServerAliveInterval in
# whole seconds, the rounds of all tunnels fall on one shared one-second grid, so
# many tunnels' rounds are served in one wake-up; the interval itself and the
# dead-session detection stay as configured; other intervals keep their own timer.
. "$TESTLIB"
set -eu -o pipefail
tlib_init

start_sshd srv
start_sshd hole
RP=$(free_port)
start_relay "$RP" "$SSHD_PORT_hole"
HOLE_RELAY=$RELAY_PID
host_key_line hole "[127.0.0.1]:$RP" >>"$T/known_hosts"

N=6
{
	conf_header
	for i in $(seq $N); do
		tunnel_conf "k$i" srv
		echo "    ServerAliveInterval 2"
		echo "    ForwardProbe no"
	done
	tunnel_conf blackhole hole "$RP"
	echo "    ServerAliveInterval 2"
	echo "    ServerAliveCountMax 2"
	tunnel_conf odd srv
	echo "    ServerAliveInterval 1500ms"
} >"$T/t.conf"
start_tunsupd "$T/t.conf"
for i in $(seq $N); do wait_state "k$i" up 20; done
wait_state blackhole up 20
wait_state odd up 20

# keepalive.last_ok is the wall-clock time of the last answer. Once every tunnel
# has had two rounds since it came up, the answers of all of them land within
# 100 ms of each other's position in the second (one grid + loopback RTT),
# wherever in the second each session was established.
declare -A first
for i in $(seq $N); do first[$i]=$(tfield "k$i" keepalive.last_ok); done
odd0=$(tfield odd keepalive.last_ok)
two_rounds() {
	local i
	for i in $(seq $N); do
		awk -v a="$(tfield "k$i" keepalive.last_ok)" -v b="${first[$i]}" \
		    'BEGIN { exit !(a >= b + 3) }' || return 1
	done
}
wait_for 15 two_rounds
fracs=$(for i in $(seq $N); do tfield "k$i" keepalive.last_ok; done |
    awk '{ printf " %.3f", $1 - int($1) }')
# the largest distance on the circle of one second between two answers
spread=$(echo $fracs | tr ' ' '\n' | awk '{ f[NR] = $1 }
    END { m = 0; for (i = 1; i <= NR; i++) for (j = 1; j <= NR; j++) {
        d = f[i] - f[j]; if (d < 0) d = -d; if (d > 0.5) d = 1 - d; if (d > m) m = d }
        printf "%.3f", m }')
sessions=$(for i in $(seq $N); do tfield "k$i" state_since; done |
    awk '{ printf " %.3f", $1 - int($1) }')
log "sessions established at fractions:$sessions; answers at:$fracs (spread $spread s)"
awk -v s="$spread" 'BEGIN { exit !(s < 0.1) }' ||
    fail "keepalive answers spread $spread s within the second (answers at$fracs)"
pass "keepalive rounds of $N tunnels share one grid (answers at$fracs, spread ${spread} s)"

awk -v a="$(tfield odd keepalive.last_ok)" -v b="$odd0" 'BEGIN { exit !(a >= b + 2.5) }' ||
    fail "ServerAliveInterval 1500ms: last_ok $odd0 -> $(tfield odd keepalive.last_ok)"
[ "$(tstate odd)" = up ] || fail "odd: $(tstate odd)"
pass "a ServerAliveInterval of 1500ms keeps its own timer and is answered"

# A round's keepalive goes out in the same loop turns, not at the daemon's next
# wake-up for something else. keepalive.rtt_ms runs from the round to the answer.
# Nothing else may wake the daemon meanwhile: no timer of its own (odd stopped),
# no status queries during two rounds.
ctl stop odd >/dev/null
sleep 4.5
rtts=$(ctl --json status | python3 -c '
import json, sys
print(" ".join("%.1f" % t["keepalive"]["rtt_ms"] for t in json.load(sys.stdin)["tunnels"]
               if t["name"].startswith("k")))')
log "keepalive rtt_ms of an otherwise idle daemon: $rtts"
for r in $rtts; do
	awk -v r="$r" 'BEGIN { exit !(r < 300) }' ||
	    fail "a keepalive waited for an unrelated wake-up: rtt_ms $rtts"
done
pass "an idle daemon sends each round's keepalives at once (rtt_ms $rtts)"
ctl start odd >/dev/null

# Alignment must not stretch detection: 2 unanswered rounds of 2 s, +1 s for the
# first aligned round, +3 s margin.
kill -STOP "$HOLE_RELAY"
t0=$(_tlib_now_us)
wait_state blackhole "backoff|connecting" 9
t1=$(_tlib_now_us)
expect_error blackhole 'no answer' >/dev/null || fail "last_error: $(tfield blackhole last_error)"
kill -CONT "$HOLE_RELAY"
log "black hole detected after $(((t1 - t0) / 1000)) ms"
for i in $(seq $N); do [ "$(tstate "k$i")" = up ] || fail "k$i left up: $(tstate "k$i")"; done
pass "an aligned keepalive still declares a black-holed session dead within 9 s ($(((t1 - t0) / 1000)) ms); the others stay up"
