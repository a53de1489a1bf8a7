# Keepalive rounds (SPEC 5, README "Performance"): with ServerAliveInterval of 2 s
# or more, every tunnel's round falls on a whole second of the wall clock, so the
# rounds of many tunnels are served in one wake-up; the interval itself and the
# dead-session detection stay as configured.
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
} >"$T/t.conf"
start_tunsupd "$T/t.conf"
for i in $(seq $N); do wait_state "k$i" up 20; done
wait_state blackhole up 20

# keepalive.last_ok is the wall-clock time of the last answer. Once every tunnel
# has had two rounds since it came up, each answer lands within 100 ms of a
# whole second (rounds on whole seconds + loopback RTT), wherever in the second
# its session was established.
declare -A first
for i in $(seq $N); do first[$i]=$(tfield "k$i" keepalive.last_ok); done
two_rounds() {
	local i
	for i in $(seq $N); do
		awk -v a="$(tfield "k$i" keepalive.last_ok)" -v b="${first[$i]}" \
		    'BEGIN { exit !(a >= b + 3) }' || return 1
	done
}
wait_for 15 two_rounds
fracs=""
for i in $(seq $N); do
	f=$(awk -v a="$(tfield "k$i" keepalive.last_ok)" 'BEGIN { printf "%.3f", a - int(a) }')
	fracs="$fracs $f"
	awk -v f="$f" 'BEGIN { exit !(f < 0.1) }' ||
	    fail "k$i: keepalive answered at .$f of a second, not near a whole second (all:$fracs)"
done
sessions=$(for i in $(seq $N); do tfield "k$i" state_since; done |
    awk '{ printf " %.3f", $1 - int($1) }')
log "sessions established at fractions:$sessions; answers at:$fracs"
pass "keepalive rounds of $N tunnels fall on whole seconds (answers at$fracs)"

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
