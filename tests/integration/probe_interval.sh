# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# ForwardProbeInterval (tunsupd.conf(5)): the end-to-end probe of a remote
# forward runs on every keepalive round by default, and with
# ForwardProbeInterval on every Nth round only (the interval rounded up to
# whole keepalive rounds): with ServerAliveInterval 1, "ForwardProbeInterval
# 4" probes once while the default probes four times, and 2500ms rounds up
# to every third round.
. "$TESTLIB"
tlib_init

start_sshd bridge
TARGET=$(free_port)
start_echo "$TARGET"
{
	conf_header
	tunnel_conf often bridge
	echo "    RemoteForward 0 127.0.0.1:$TARGET"
	tunnel_conf seldom bridge
	echo "    ForwardProbeInterval 4"
	echo "    RemoteForward 0 127.0.0.1:$TARGET"
	tunnel_conf third bridge
	echo "    ForwardProbeInterval 2500ms"
	echo "    RemoteForward 0 127.0.0.1:$TARGET"
} >"$T/t.conf"
"$TUNSUPD" -T -f "$T/t.conf" >"$T/dump" 2>&1 || fail "tunsupd -T: $(cat "$T/dump")"
[ "$(grep -c '^forwardprobeinterval 0$' "$T/dump")" = 1 ] &&
	grep -qx 'forwardprobeinterval 4' "$T/dump" ||
	fail "-T: $(grep forwardprobeinterval "$T/dump")"
printf 'ForwardProbeInterval soon\n' >"$T/bad.conf"
expect_rc 1 "$TUNSUPD" -t -f "$T/bad.conf"
grep -q "bad.conf:1: ForwardProbeInterval: expected a time" "$T/err" || fail "bad value: $(cat "$T/err")"
pass "-T prints ForwardProbeInterval (default 0: every round); a bad value is an error"

start_tunsupd "$T/t.conf"
for n in often seldom third; do wait_state "$n" up 20; done
probes() { fwd_field "$1" 0 probes_ok; }
at_least() { [ "$(probes "$1")" -ge "$2" ]; }
for n in often seldom third; do wait_for 15 at_least "$n" 1; done

# Twelve rounds of the default tunnel: the others' probes counted meanwhile.
o0=$(probes often)
s0=$(probes seldom)
t0=$(probes third)
wait_for 30 at_least often $((o0 + 12))
o=$(($(probes often) - o0))
s=$(($(probes seldom) - s0))
t=$(($(probes third) - t0))
log "in $o probes of the default: $s with ForwardProbeInterval 4, $t with 2500ms"
[ "$s" -ge 2 ] && [ "$s" -le 4 ] || fail "ForwardProbeInterval 4: $s probes while the default made $o"
[ "$t" -ge 3 ] && [ "$t" -le 5 ] || fail "ForwardProbeInterval 2500ms: $t probes while the default made $o"
for n in often seldom third; do
	[ "$(tstate "$n")" = up ] || fail "$n: $(tstate "$n")"
	[ "$(fwd_field "$n" 0 probe)" = ok ] || fail "$n probe: $(fwd_field "$n" 0 probe)"
done
pass "probes at the configured cadence: $o every round, $s every 4th, $t every 3rd"
stop_tunsupd || fail "tunsupd exit status $?"
