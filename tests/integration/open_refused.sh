# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# Channel opens the server refuses (permitopen= on the key): the client of a
# LocalForward or DynamicForward gets an end, the session and the other
# forwards carry on, and the refusals are counted per forward with their
# reason in status, the watch events, the metrics, the status table and
# check (a warning once three in a row were refused).
. "$TESTLIB"
tlib_init
need_tool curl

ECHO=$(free_port)
CLOSED=$(free_port)
FORBIDDEN=$(free_port)
start_sshd bridge
unauthorize bridge
authorize bridge "permitopen=\"127.0.0.1:$ECHO\",permitopen=\"127.0.0.1:$CLOSED\"" \
    "$T/id_ed25519.pub"
start_echo "$ECHO"
read -r L_OK L_NO L_CLOSED D <<<"$(free_ports 4 | tr "\n" " ")"
{
	conf_header
	tunnel_conf t bridge
	echo "    LocalForward $L_OK 127.0.0.1:$ECHO"
	echo "    LocalForward $L_NO 127.0.0.1:$FORBIDDEN"
	echo "    LocalForward $L_CLOSED 127.0.0.1:$CLOSED"
	echo "    DynamicForward $D"
} >"$T/t.conf"
start_tunsupd "$T/t.conf"
wait_state t up 15

"$TUNSUPCTL" -S "$SOCK" --json watch >"$T/watch.out" 2>&1 &
track $!

# in_row FORWARD N: forward FORWARD of t counts N refusals in a row.
in_row() { [ "$(fwd_field t "$1" opens_refused_in_row)" = "$2" ]; }
# knock PORT: connect, send a line, read until the end (a refused channel
# closes the client at once).
knock() { echo hello | timeout 10 socat -t 5 - "TCP:127.0.0.1:$1" 2>/dev/null || true; }

# The watch subscribes asynchronously: knock until it reports a refusal.
wait_for 20 'knock "$L_NO"; grep -q "\"event\":\"open_refused\"" "$T/watch.out"'
n=$(fwd_field t 1 opens_refused_in_row)
knock "$L_NO"
wait_for 10 in_row 1 $((n + 1))
knock "$L_NO"
wait_for 10 in_row 1 $((n + 2))
total=$(fwd_field t 1 'opens_refused.administratively prohibited')
[ "$total" = $((n + 2)) ] || fail "administratively prohibited: $total, not $((n + 2))"
fwd_field t 1 last_refusal | grep -q "^administratively prohibited" ||
	fail "last_refusal: $(fwd_field t 1 last_refusal)"
[ "$(fwd_field t 0 opens_refused_in_row)" = 0 ] || fail "the allowed forward counts refusals"
[ "$(fwd_field t 1 state)" = up ] || fail "the forward's listener is $(fwd_field t 1 state)"
grep "\"event\":\"open_refused\"" "$T/watch.out" | head -1 |
	grep -q "\"listen\":\"localhost:$L_NO\".*\"refusal\":\"administratively prohibited" ||
	fail "event: $(grep open_refused "$T/watch.out" | head -1)"
grep -q "forward localhost:$L_NO: the server refused a channel to 127.0.0.1:$FORBIDDEN: administratively prohibited" \
    "$T/tunsupd.log" || fail "no log line for the refusal"
# Refusals inside the second after a notice are told together when it ends:
# the last event carries the row as it stands.
wait_for 10 'grep "\"event\":\"open_refused\"" "$T/watch.out" | grep -q "\"in_row\":$((n + 2)),"'
pass "a forbidden LocalForward target: counted as administratively prohibited, an event, a log line; the ones within a second told in one trailing event"

[ "$(printf 'ping\n' | timeout 10 socat -t 5 - "TCP:127.0.0.1:$L_OK")" = ping ] ||
	fail "the allowed forward does not carry"
[ "$(tfield t connects)" = 1 ] || fail "the session was replaced"
[ "$(tstate t)" = up ] || fail "tunnel $(tstate t)"
pass "the session and the allowed forward carry on"

# The table and check say so; check warns from three in a row.
ctl status >"$T/st" || fail "status exited $?"
grep -q "forward localhost:$L_NO: $((n + 2)) opens refused in a row (administratively prohibited" "$T/st" ||
	fail "status table: $(cat "$T/st")"
expect_rc 1 ctl check
grep -q "^TUNSUP WARNING - 1/1 tunnels up; t forward localhost:$L_NO: $((n + 2)) opens refused in a row" "$T/out" ||
	fail "check: $(cat "$T/out")"
ctl metrics >"$T/m" || fail "metrics exited $?"
grep -q "^tunsup_forward_opens_refused_total{tunnel=\"t\",kind=\"local\",listen=\"localhost:$L_NO\",reason=\"administratively_prohibited\"} $((n + 2))$" "$T/m" ||
	fail "metrics: $(grep opens_refused "$T/m")"
grep -q "^tunsup_forward_opens_refused_total{tunnel=\"t\",kind=\"local\",listen=\"localhost:$L_OK\",reason=\"connect_failed\"} 0$" "$T/m" ||
	fail "metrics of the allowed forward: $(grep opens_refused "$T/m")"
pass "status table, check (WARNING) and metrics show the refusals"

# Allowed but nothing listens: connect failed; an open that works ends the row.
knock "$L_CLOSED"
wait_for 10 in_row 2 1
fwd_field t 2 last_refusal | grep -q "^connect failed" ||
	fail "last_refusal: $(fwd_field t 2 last_refusal)"
[ "$(fwd_field t 2 'opens_refused.connect failed')" = 1 ] || fail "connect failed not counted"
start_echo "$CLOSED"
[ "$(printf 'pong\n' | timeout 10 socat -t 5 - "TCP:127.0.0.1:$L_CLOSED")" = pong ] ||
	fail "the forward does not carry once its target listens"
in_row 2 0 || fail "in a row after a success: $(fwd_field t 2 opens_refused_in_row)"
[ "$(fwd_field t 2 'opens_refused.connect failed')" = 1 ] || fail "the total was reset"
pass "a target that refuses: connect failed; a working open ends the row, the total stays"

# A SOCKS client asking for a forbidden destination: the same, per forward.
rc=0
curl -s --max-time 10 --socks5 "127.0.0.1:$D" "http://127.0.0.1:$FORBIDDEN/" >/dev/null || rc=$?
[ "$rc" = 97 ] || fail "curl through SOCKS exited $rc, not 97 (proxy refused)"
wait_for 10 in_row 3 1
[ "$(fwd_field t 3 'opens_refused.administratively prohibited')" = 1 ] ||
	fail "SOCKS refusal not counted: $(fwd_field t 3 opens_refused)"
pass "a DynamicForward's refused destination is counted too"

stop_tunsupd || fail "tunsupd exit status $?"
