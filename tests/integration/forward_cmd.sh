# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# forward_cmd: `tunsupctl forward` and `tunsupctl cancel` change one forward of a
# live tunnel inside its session (tunsupctl(1)), as a reload does: a transfer
# through another forward runs on intact, the session stays. The change is kept
# in the state file (tunsupd.conf(5), STATE FILE) across a reload and a restart,
# shown by tunsupd -T, and gives way when the configuration file takes it over.
. "$TESTLIB"
tlib_init

start_sshd bridge
STATE=$T/state/runtime.conf	# $STATE_DIRECTORY/runtime.conf (lib.sh)
ECHO=$(free_port)
start_echo "$ECHO"
read -r LKEEP RELAY SINKP LC RC LNEW RNEW <<<"$(free_ports 7 | tr '\n' ' ')"
start_relay "$RELAY" "$SINKP" --rate 1048576

write_conf() {
	{
		conf_header
		tunnel_conf t bridge
		echo "    LocalForward $LKEEP 127.0.0.1:$RELAY"
		echo "    LocalForward $LC 127.0.0.1:$ECHO"
		echo "    RemoteForward $RC 127.0.0.1:$ECHO"
		[ -z "${1:-}" ] || echo "    $1"
	} >"$T/t.conf"
}
write_conf
start_tunsupd "$T/t.conf"
wait_state t up 15
port_listening "$RC" || fail "the server does not listen on $RC"

# 6 MiB at 1 MiB/s through LKEEP while the forwards change.
mkdata "$T/big.in" 6
start_sink "$SINKP" "$T/big.out"
tcp_send "$LKEEP" "$T/big.in" 120 &
SENDER=$!
track "$SENDER"
moving() { [ "$(fwd_field t 0 bytes_out)" -gt 524288 ] 2>/dev/null; }
wait_for 20 moving

expect_rc 0 ctl forward t -L "$LNEW:127.0.0.1:$ECHO"
expect_rc 0 ctl forward t -R "$RNEW:127.0.0.1:$ECHO"
expect_rc 0 ctl cancel t -R "$RC:127.0.0.1:$ECHO"
expect_rc 0 ctl cancel t -L "$LC:127.0.0.1:$ECHO"
[ "$(tfield t connects)" = 1 ] || fail "the session was restarted: connects $(tfield t connects)"
[ "$(stat -c %s "$T/big.out")" -lt 6291456 ] || fail "the transfer was over before the changes"
wait_state t up 15
echo_check "$LNEW" 2 100000 >/dev/null || fail "the forward added with -L does not carry"
echo_check "$RNEW" 2 100000 >/dev/null || fail "the forward added with -R does not carry"
not_listening() { ! port_listening "$1"; }
wait_for 10 not_listening "$RC"
port_bindable "$RC" ||
	fail "port $RC cannot be bound again after the cancel"
not_listening "$LC" || fail "the cancelled local forward still listens on $LC"
wait_pid "$SENDER" 60 || fail "the transfer through the unchanged forward failed"
wait_pid "$SINK_PID" 30 || fail "the sink failed"
_tlib_same "$T/big.in" "$T/big.out" 6291456 "6 MiB through the unchanged forward"
[ "$(tfield t connects)" = 1 ] || fail "connects $(tfield t connects)"
pass "forward -L/-R and cancel -L/-R on a live tunnel: the new forwards carry, the cancelled ones are gone on both sides, a transfer through another forward completes intact in the same session"

# Refusals: clear errors, nothing changes.
refused() {
	local rc=0
	ctl "$@" >"$T/out" 2>&1 || rc=$?
	[ "$rc" = 1 ] || fail "tunsupctl $*: exit $rc: $(cat "$T/out")"
}
refused forward t -L "$LNEW:127.0.0.1:$ECHO"
grep -q "tunnel t has this forward already: LocalForward $LNEW:127.0.0.1:$ECHO" "$T/out" || fail "$(cat "$T/out")"
refused forward t -L "$LNEW:127.0.0.1:$RELAY"
grep -q "tunnel t listens on localhost:$LNEW already" "$T/out" || fail "$(cat "$T/out")"
refused cancel t -L "$LC:127.0.0.1:$ECHO"
grep -q "tunnel t has no such forward: LocalForward $LC:127.0.0.1:$ECHO" "$T/out" || fail "$(cat "$T/out")"
refused forward t -L "no:such:forward:at:all"
refused forward nope -D 1080
grep -q "no such tunnel: nope" "$T/out" || fail "$(cat "$T/out")"
expect_rc 2 ctl forward t -X 1080
[ "$(tfield t connects)" = 1 ] || fail "a refusal restarted the session"
pass "forward and cancel refuse a duplicate, a clash, a forward the tunnel lacks, bad syntax and an unknown tunnel"

# Kept in the state file; -T shows it.
[ "$(grep -c "^Forward t$" "$STATE")" = 2 ] && [ "$(grep -c "^Cancelled t$" "$STATE")" = 2 ] ||
	fail "state file: $(cat "$STATE")"
grep -qx "    LocalForward $LNEW:127.0.0.1:$ECHO" "$STATE" || fail "state file: $(cat "$STATE")"
"$TUNSUPD" -T -f "$T/t.conf" >"$T/dump" || fail "tunsupd -T failed"
grep -qx "# forward added at runtime, kept in $STATE: RemoteForward $RNEW:127.0.0.1:$ECHO" "$T/dump" ||
	fail "-T: $(cat "$T/dump")"
grep -qx "# forward cancelled at runtime, kept in $STATE: LocalForward $LC:127.0.0.1:$ECHO" "$T/dump" ||
	fail "-T: $(cat "$T/dump")"
grep -qx "localforward localhost:$LNEW 127.0.0.1:$ECHO" "$T/dump" || fail "-T: $(cat "$T/dump")"
grep -q "localforward localhost:$LC " "$T/dump" && fail "-T shows the cancelled forward: $(cat "$T/dump")"
pass "the changes are kept as Forward and Cancelled records; tunsupd -T shows them merged, with a comment each"

# A reload keeps them (nothing changed), so does a restart of the daemon.
ctl --json reload >"$T/out" || fail "reload: $(cat "$T/out")"
python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["unchanged"] == ["t"] and r["forwards_changed"] == [], r
' "$T/out" || fail "reload reply: $(cat "$T/out")"
[ "$(tfield t connects)" = 1 ] || fail "reload restarted the session"
stop_tunsupd || fail "tunsupd exit status $?"
start_tunsupd "$T/t.conf"
wait_state t up 15
[ "$(ctl --json status | jget 'tunnels[name=t].forwards' | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 3 ] ||
	fail "forwards after a restart: $(tfield t forwards)"
port_listening "$LNEW" && port_listening "$RNEW" || fail "the added forwards are not back after a restart"
not_listening "$LC" && not_listening "$RC" || fail "a cancelled forward is back after a restart"
echo_check "$RNEW" 1 1000 >/dev/null || fail "the added remote forward does not carry after a restart"
pass "a reload keeps the runtime forwards (tunnel unchanged); a daemon restart brings them back and keeps the cancelled ones out"

# The configuration file takes over an added forward: the record goes; removing
# it from the file later removes the forward.
write_conf "LocalForward $LNEW 127.0.0.1:$ECHO"
ctl --json reload >"$T/out" || fail "reload: $(cat "$T/out")"
grep -q '"unchanged": *\["t"\]' "$T/out" || fail "reload reply: $(cat "$T/out")"
grep -q "LocalForward $LNEW:" "$STATE" && fail "the record of the forward the file has now stays: $(cat "$STATE")"
grep -q "tunnel t has LocalForward $LNEW:127.0.0.1:$ECHO in $T/t.conf now: its runtime copy is dropped" "$T/tunsupd.log" ||
	fail "no log line for the dropped record"
grep -q "^Forward t$" "$STATE" || fail "the other record went too: $(cat "$STATE")"
write_conf
ctl --json reload >"$T/out" || fail "reload: $(cat "$T/out")"
grep -q '"forwards_changed": *\["t"\]' "$T/out" || fail "reload reply: $(cat "$T/out")"
wait_for 10 not_listening "$LNEW"
pass "a forward the configuration file takes over drops its runtime record; the file owns it from then on"

# Undo: forward brings a cancelled forward back and drops its Cancelled record.
expect_rc 0 ctl forward t -L "$LC:127.0.0.1:$ECHO"
wait_for 10 port_listening "$LC"
[ "$(grep -c "^Cancelled t$" "$STATE")" = 1 ] || fail "state file: $(cat "$STATE")"
grep -q "LocalForward $LC:" "$STATE" && fail "state file: $(cat "$STATE")"
echo_check "$LC" 1 1000 >/dev/null || fail "the forward brought back does not carry"
[ "$(tfield t connects)" = 1 ] || fail "connects $(tfield t connects)"
pass "forward undoes a cancel: the Cancelled record goes"

stop_tunsupd || fail "tunsupd exit status $?"
