# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# Checks of the session on demand (tunsupd(8) NETWORK CHANGES, tunsupctl(1)
# check-now): SIGUSR1 and `tunsupctl check-now` make every session (or the
# named one) send a keepalive that must be answered within 3 s, instead of
# waiting for ServerAliveInterval x ServerAliveCountMax (here 60 s x 3). A
# healthy session answers and stays (connects unchanged); one behind a black
# hole (the relay in front of sshd gets SIGSTOP) is declared lost with the
# trigger named, and reconnects at once once the path works; a tunnel in
# backoff retries at once instead of waiting for its RetryMin.
. "$TESTLIB"
set -eu -o pipefail
tlib_init

start_sshd cn
RP=$(free_port)
start_relay "$RP" "$SSHD_PORT_cn"
host_key_line cn "[127.0.0.1]:$RP" >>"$T/known_hosts"
DEAD=$(free_port)	# nothing listens there
{
	conf_header
	tunnel_conf a cn "$RP"
	echo "    ServerAliveInterval 60"
	echo "    ServerAliveCountMax 3"
	tunnel_conf other cn
	echo "    ServerAliveInterval 60"
	tunnel_conf dead cn "$DEAD"
	echo "    RetryMin 60s"
	echo "    RetryNetworkMax 60s"
	echo "    RetryMax 60s"
} >"$T/t.conf"
start_tunsupd "$T/t.conf"
wait_state a up 20
wait_state other up 20
wait_for 10 "[ \"\$(tfield dead failures)\" -ge 1 ]"
c0=$(tfield a connects)
o0=$(tfield other connects)

answered() { [ "$(grep -c "tunnel $1: the session answered the check ($2)" "$T/tunsupd.log")" -ge "${3:-1}" ]; }

# ---- a healthy session answers and stays ----------------------------------
expect_rc 0 ctl check-now a
grep -qx "a: checking the session" "$T/out" || fail "check-now a said: $(cat "$T/out")"
wait_for 6 answered a "check-now by control command"
state_is a up && [ "$(tfield a connects)" = "$c0" ] || fail "a healthy session was replaced after check-now"
pass "check-now: a healthy session answers the check and stays (connects $c0)"

kill -USR1 "$TUNSUPD_PID"
wait_for 6 answered a SIGUSR1
wait_for 6 answered other SIGUSR1
kill -0 "$TUNSUPD_PID" || fail "tunsupd died of SIGUSR1"
grep -q "SIGUSR1: checking 2 sessions, 1 tunnel in backoff retry now" "$T/tunsupd.log" ||
    fail "no log line for SIGUSR1"
[ "$(tfield a connects)" = "$c0" ] && [ "$(tfield other connects)" = "$o0" ] ||
    fail "SIGUSR1 replaced a healthy session"
pass "SIGUSR1: every healthy session answers the check and stays"

# ---- a silently dead session: not noticed by itself, noticed by a check -----
# (the regular keepalive would take 60 s x 3)
lost_after() {	# TRIGGER...: trigger, wait until a is lost, print the ms
	local t0 t1
	t0=$(_tlib_now_us)
	"$@" >/dev/null
	wait_state a "backoff|connecting" 6
	t1=$(_tlib_now_us)
	echo $(((t1 - t0) / 1000))
}
kill -STOP "$RELAY_PID"
ms=$(lost_after kill -USR1 "$TUNSUPD_PID")
log "SIGUSR1: session lost after $ms ms: $(tfield a last_error)"
[ "$ms" -le 4500 ] || fail "lost only after $ms ms"
case $(tfield a last_error) in
*"no answer from the server within 3.0 s of a check (SIGUSR1)"*) ;;
*) fail "last_error does not name the check: $(tfield a last_error)" ;;
esac
state_is other up && [ "$(tfield other connects)" = "$o0" ] ||
    fail "the healthy tunnel was disturbed"
kill -CONT "$RELAY_PID"
wait_state a up 15
[ "$(tfield a connects)" = $((c0 + 1)) ] || fail "connects $(tfield a connects), not $((c0 + 1))"
pass "SIGUSR1: a black-holed session is lost within $ms ms (ServerAliveInterval 60), reason named, and back"

kill -STOP "$RELAY_PID"
ms=$(lost_after ctl check-now a)
log "check-now: session lost after $ms ms: $(tfield a last_error)"
[ "$ms" -le 4500 ] || fail "lost only after $ms ms"
case $(tfield a last_error) in
*"(check-now by control command)"*) ;;
*) fail "last_error does not name the command: $(tfield a last_error)" ;;
esac
kill -CONT "$RELAY_PID"
wait_state a up 15
pass "check-now: a black-holed session is lost within $ms ms, reason named, and back"

# ---- backoff is cut short --------------------------------------------------
f0=$(tfield dead failures)
state_is dead backoff || fail "dead is $(tstate dead), not in backoff"
awk -v n="$(tfield dead next_retry_s)" 'BEGIN { exit !(n > 20) }' ||
    fail "dead's next retry is not far away: $(tfield dead next_retry_s)"
expect_rc 0 ctl check-now dead
grep -qx "dead: retrying now" "$T/out" || fail "check-now dead said: $(cat "$T/out")"
wait_for 5 "[ \"\$(tfield dead failures)\" -gt $f0 ]"
pass "check-now: a tunnel in backoff retries at once"

# ---- errors, JSON ----------------------------------------------------------
expect_rc 1 ctl check-now nosuch
grep -q "no such tunnel: nosuch" "$T/err" || fail "unknown tunnel: $(cat "$T/err")"
expect_rc 0 ctl --json check-now
[ "$(jget checked <"$T/out")" = '["a","other"]' ] || fail "checked: $(cat "$T/out")"
[ "$(jget retried <"$T/out")" = '["dead"]' ] || fail "retried: $(cat "$T/out")"
pass "check-now: unknown tunnel refused; --json lists the tunnels checked and retried"
stop_tunsupd || fail "tunsupd exit status $?"
